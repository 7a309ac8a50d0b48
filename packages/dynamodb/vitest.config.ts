import { defineProject } from 'vitest/config';
import { awsSdkTestEnv, sourceConditions } from '../../vitest.shared.ts';

export default defineProject({
  ...sourceConditions,
  test: { name: 'dynamodb', include: ['test/**/*.test.ts'], env: awsSdkTestEnv, testTimeout: 30_000, hookTimeout: 60_000 },
});
