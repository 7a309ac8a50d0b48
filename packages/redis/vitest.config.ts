import { defineProject } from 'vitest/config';
import { sourceConditions } from '../../vitest.shared.ts';

export default defineProject({
  ...sourceConditions,
  test: { name: 'redis', include: ['test/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 30_000 },
});
