/**
 * The bounded fuzzing run of the test command: every target under Jazzer.js (libFuzzer) for
 * FUZZ_TEST_SECONDS (default 3) from the committed seeds. A finding (a property that does not hold,
 * an unexpected exception, a hang) fails the test with libFuzzer's report and the crash file.
 */
import { describe, it } from 'vitest';
import { runTarget } from '../lib/runner.mjs';
import { targets } from '../targets.mjs';

const seconds = Number(process.env['FUZZ_TEST_SECONDS'] ?? 3);

// Two at a time (vitest's maxConcurrency in vitest.config.ts): libFuzzer is single-threaded.
describe.concurrent.each(targets)('$name (Jazzer.js, bounded)', (target) => {
  it(`fuzzes ${seconds} s with no finding`, async ({ expect }) => {
    const r = await runTarget(target, { seconds });
    const { execs, cov, execPerSec, crash } = r.stats;
    console.log(
      `fuzz ${target.name}: ${execs ?? 0} executions (${execPerSec ?? '?'} /s), cov ${cov ?? '?'}${crash ? `, finding ${crash}` : ''}`,
    );
    if (!r.ok)
      expect.fail(
        `${target.name}: exit ${r.exitCode}${crash ? `, finding written to ${crash}` : ''}\n${r.output.split('\n').slice(-40).join('\n')}`,
      );
    expect(execs).toBeGreaterThan(0);
  });
});
