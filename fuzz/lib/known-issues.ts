/**
 * Open findings the harness steps around until they are fixed, so the bounded run stays green
 * while the owner works on them. Each has a reproducer in findings/<target>/ that
 * test/findings.test.ts runs with the suppression off and expects to fail: when a fix lands that
 * test fails ("expected to fail"), and the entry, its reproducer expectation and the skip go.
 */

/** Whether open findings are stepped around (off in test/findings.test.ts, or with KEYTURN_FUZZ_NO_SUPPRESS=1). */
let suppress = process.env['KEYTURN_FUZZ_NO_SUPPRESS'] !== '1';

/** Turns suppression on or off (tests only). */
export function setSuppression(on: boolean): void {
  suppress = on;
}

/** Whether suppression is on: every predicate in {@link KNOWN} starts with `if (!suppressing()) return false`. */
export function suppressing(): boolean {
  return suppress;
}

/** The open findings, by id; each is a predicate over the case the harness is about to run. None is open now. */
export const KNOWN = {};
