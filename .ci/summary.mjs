// Sums vitest JSON reports (numPassedTests / numFailedTests) into one plain closing line.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? '.ci/reports';
let passed = 0;
let failed = 0;
let skipped = 0;
let reports = 0;
for (const name of readdirSync(dir)) {
  if (!name.endsWith('.json')) continue;
  const r = JSON.parse(readFileSync(join(dir, name), 'utf8'));
  reports++;
  passed += r.numPassedTests ?? 0;
  failed += (r.numFailedTests ?? 0) + (r.numRuntimeErrorTestSuites ?? 0) + (r.numFailedTestSuites ?? 0);
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  console.log(`${name}: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numFailedTestSuites ?? 0} failed files`);
}
if (reports === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
