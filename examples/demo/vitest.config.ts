import { defineProject } from 'vitest/config';

// The demo test runs the built packages (dist), exactly what `pnpm demo` runs.
export default defineProject({
  test: { name: 'demo', include: ['test/**/*.test.ts'], testTimeout: 30_000 },
});
