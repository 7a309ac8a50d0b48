import { defineConfig } from 'vitest/config';

// `next build` + `next start` of this example, then real HTTP requests (CI only: .ci/run). It uses
// the BUILT packages (dist), as an application would.
export default defineConfig({
  test: { name: 'example-nextjs-e2e', include: ['test/**/*.e2e.ts'], testTimeout: 60_000, hookTimeout: 600_000 },
});
