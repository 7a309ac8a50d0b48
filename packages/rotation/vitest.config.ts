import { defineProject } from 'vitest/config';
import { awsSdkTestEnv, sourceConditions } from '../../vitest.shared.ts';

export default defineProject({
  ...sourceConditions,
  test: {
    name: 'rotation',
    include: ['test/**/*.test.ts'],
    env: awsSdkTestEnv,
  },
});
