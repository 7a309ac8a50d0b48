/**
 * The verdict on a fleet ledger's snapshot: an instance that stopped reporting holds every verdict at
 * "no", and silence before the end of an evidence gap (an instance gone without flushing, dropped
 * counts) is never taken as evidence that the previous key went quiet.
 */
import type { UsageSnapshot } from '@keyturn/core';
import { describe, expect, it } from 'vitest';
import { mergeUsage, readiness } from '../src/index.ts';

const T = Date.UTC(2026, 10, 24, 12);
const MIN = 60_000;
const snapshot = (extra: Partial<UsageSnapshot> = {}): UsageSnapshot => ({
  version: 1,
  instances: ['a', 'b'],
  since: T - 48 * 60 * MIN,
  takenAt: T,
  keys: [
    {
      secretId: 'S',
      keyId: 'new',
      keyRole: 'active',
      matches: 900,
      lastMatchedAt: T - MIN,
      notBefore: undefined,
      notAfter: undefined,
      lastSeenAt: T,
    },
    {
      secretId: 'S',
      keyId: 'old',
      keyRole: 'previous',
      matches: 40,
      lastMatchedAt: T - 120 * MIN,
      notBefore: undefined,
      notAfter: undefined,
      lastSeenAt: T,
    },
  ],
  ...extra,
});

describe('readiness on a fleet snapshot', () => {
  it('says yes on complete evidence of silence', () => {
    expect(readiness(snapshot(), { now: T, quietMs: 60 * MIN }).verdicts[0]).toMatchObject({ safe: true, reason: 'quiet' });
  });

  it('says no while an instance is missing, however long the silence looks', () => {
    const v = readiness(snapshot({ missing: [{ instance: 'b#1234', lastReportAt: T - 5 * MIN }] }), { now: T, quietMs: MIN }).verdicts[0];
    expect(v).toMatchObject({ safe: false, reason: 'instances-missing' });
    expect(v?.message).toContain('b#1234');
  });

  it('counts silence only from the end of an evidence gap', () => {
    const gap = snapshot({ gapUntil: T - 30 * MIN });
    expect(readiness(gap, { now: T, quietMs: 60 * MIN }).verdicts[0]).toMatchObject({ safe: false, reason: 'evidence-gap' });
    expect(readiness({ ...gap, takenAt: T + 30 * MIN }, { now: T + 30 * MIN, quietMs: 60 * MIN }).verdicts[0]).toMatchObject({
      safe: true,
      reason: 'quiet',
    });
    // A gap before the last match changes nothing.
    expect(readiness(snapshot({ gapUntil: T - 200 * MIN }), { now: T, quietMs: 60 * MIN }).verdicts[0]).toMatchObject({ safe: true });
    // A recent match still says so first.
    expect(readiness(snapshot({ gapUntil: T - MIN }), { now: T, quietMs: 180 * MIN }).verdicts[0]).toMatchObject({
      safe: false,
      reason: 'recent-match',
    });
  });

  it('mergeUsage keeps the latest gap and every missing instance', () => {
    const merged = mergeUsage([
      snapshot({ gapUntil: T - 10 * MIN, missing: [{ instance: 'x', lastReportAt: T }] }),
      snapshot({ gapUntil: T - 5 * MIN }),
    ]);
    expect(merged.gapUntil).toBe(T - 5 * MIN);
    expect(merged.missing).toEqual([{ instance: 'x', lastReportAt: T }]);
    expect(mergeUsage([snapshot()])).not.toHaveProperty('gapUntil');
  });
});
