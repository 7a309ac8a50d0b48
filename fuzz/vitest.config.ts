import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';
import { sourceConditions } from '../vitest.shared.ts';

// Run by the root test command after the main suite (`pnpm --filter @keyturn/fuzz test`). Under
// CI=true a JSON report goes to .ci/reports/fuzz.json, which .ci/summary.mjs adds to the totals.
const report = resolve(import.meta.dirname, '../.ci/reports/fuzz.json');

export default defineConfig({
  ...sourceConditions,
  test: {
    name: 'fuzz',
    include: ['test/**/*.test.ts'],
    // The bounded runs are CPU-bound child processes: one file at a time, two runs at a time.
    fileParallelism: false,
    maxConcurrency: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: process.env['CI'] ? ['default', ['json', { outputFile: report }]] : ['default'],
    coverage: {
      provider: 'v8',
      allowExternal: true,
      include: [
        '**/packages/core/src/providers/**',
        '**/packages/core/src/lib/encoding.ts',
        '**/packages/core/src/lib/headers.ts',
        '**/packages/core/src/sign.ts',
        '**/packages/core/src/adapters/shared.ts',
        '**/packages/core/src/adapters/node.ts',
        '**/packages/core/src/adapters/node-shared.ts',
        '**/packages/core/src/adapters/fetch.ts',
        '**/packages/store-env/src/env-file.ts',
      ],
      reporter: ['text', 'json-summary'],
      reportsDirectory: '.coverage',
    },
  },
});
