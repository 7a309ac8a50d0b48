import { defineConfig } from 'vitest/config';

// Under CI=true a JSON report is written as well; .ci/run reads its counts for the closing line.
const reportFile = process.env['KEYTURN_VITEST_REPORT'] ?? '.ci/reports/vitest.json';

export default defineConfig({
  test: {
    projects: ['packages/*', 'examples/*'],
    reporters: process.env['CI'] ? ['default', ['json', { outputFile: reportFile }]] : ['default'],
  },
});
