import { defineProject } from 'vitest/config';
import { sourceConditions } from '../../vitest.shared.ts';

export default defineProject({
  ...sourceConditions,
  test: { name: 'replay-redis', include: ['test/**/*.test.ts'], testTimeout: 20_000, hookTimeout: 20_000 },
});
