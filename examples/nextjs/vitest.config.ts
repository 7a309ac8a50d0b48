import { defineProject } from 'vitest/config';
import { sourceConditions } from '../../vitest.shared.ts';

// The route handlers, called in process (quick). The real `next build` + `next start` run is
// vitest.e2e.config.ts (CI only: .ci/run). Each test imports its route module (core from source,
// transformed on first import) inside the test: seconds on a loaded 2-core machine, hence 30 s.
export default defineProject({
  ...sourceConditions,
  test: { name: 'example-nextjs', include: ['test/**/*.test.ts'], testTimeout: 30_000 },
});
