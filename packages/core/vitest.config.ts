import { defineProject } from 'vitest/config';
import { sourceConditions } from '../../vitest.shared.ts';

export default defineProject({
  ...sourceConditions,
  // 20 s per test: property-based and over-HTTP tests take several seconds on a loaded 2-core CI
  // machine; no test here asserts a duration (speed is measured in bench/).
  test: { name: 'core', include: ['test/**/*.test.ts'], testTimeout: 20_000, hookTimeout: 20_000 },
});
