import type { KeyUsageReport } from '@keyturn/core';
import { describe, expect, it } from 'vitest';
import { DEFAULT_QUIET_MS, formatDuration, mergeUsage, readiness, recommendedQuietMs, type UsageSnapshot } from '../src/index.ts';

const T = Date.parse('2026-11-24T12:00:00Z');
const MIN = 60_000;
const H = 60 * MIN;

function key(keyId: string, keyRole: KeyUsageReport['keyRole'], extra: Partial<KeyUsageReport> = {}): KeyUsageReport {
  return {
    secretId: 'S',
    keyId,
    keyRole,
    matches: 0,
    lastMatchedAt: undefined,
    notBefore: undefined,
    notAfter: undefined,
    lastSeenAt: T,
    ...extra,
  };
}

describe('readiness', () => {
  it('no: the previous key matched 12 minutes ago', () => {
    const r = readiness(
      [key('new', 'active', { matches: 5, lastMatchedAt: T - MIN }), key('old', 'previous', { matches: 2, lastMatchedAt: T - 12 * MIN })],
      {
        now: T,
        quietMs: H,
      },
    );
    expect(r.verdicts).toEqual([
      expect.objectContaining({
        secretId: 'S',
        safe: false,
        reason: 'recent-match',
        previousKeyId: 'old',
        message: 'previous key safe to retire: no (last matched 12 min ago)',
      }),
    ]);
    expect(r.rows.map((x) => [x.keyId, x.keyRole, x.matches, x.lastMatchedAgoMs])).toEqual([
      ['new', 'active', 5, MIN],
      ['old', 'previous', 2, 12 * MIN],
    ]);
  });

  it('yes: quiet for longer than quietMs and the active key matched since', () => {
    const r = readiness(
      [key('new', 'active', { matches: 9, lastMatchedAt: T - MIN }), key('old', 'previous', { matches: 2, lastMatchedAt: T - 2 * H })],
      { now: T, quietMs: H },
    );
    expect(r.verdicts[0]).toMatchObject({
      safe: true,
      reason: 'quiet',
      message: 'previous key safe to retire: yes (last matched 2 h ago)',
    });
  });

  it('no: quiet, but the active key never matched (the sender may not have switched)', () => {
    const r = readiness([key('new', 'active'), key('old', 'previous', { lastMatchedAt: T - 2 * H, matches: 1 })], { now: T, quietMs: H });
    expect(r.verdicts[0]).toMatchObject({ safe: false, reason: 'active-not-matched' });
  });

  it('yes: the window ended, whatever the matches', () => {
    const r = readiness([key('new', 'active'), key('old', 'previous', { lastMatchedAt: T - MIN, matches: 1, notAfter: T - 5 * MIN })], {
      now: T,
    });
    expect(r.verdicts[0]).toMatchObject({
      safe: true,
      reason: 'window-ended',
      message: 'previous key safe to retire: yes (its window ended 5 min ago)',
    });
    expect(r.rows.find((x) => x.keyId === 'old')?.inWindow).toBe(false);
  });

  it('a never-matched previous key needs quietMs of observation', () => {
    const usage = [key('new', 'active', { matches: 1, lastMatchedAt: T - MIN }), key('old', 'previous')];
    expect(readiness(usage, { now: T, quietMs: H }).verdicts[0]).toMatchObject({ safe: false, reason: 'no-evidence' });
    expect(readiness(usage, { now: T, quietMs: H, observingSince: T - 10 * MIN }).verdicts[0]).toMatchObject({
      safe: false,
      reason: 'observing',
      message: 'previous key safe to retire: no (no match yet; waiting for 1 h of silence, 50 min to go)',
    });
    expect(readiness(usage, { now: T, quietMs: H, observingSince: T - 2 * H }).verdicts[0]).toMatchObject({ safe: true, reason: 'quiet' });
  });

  it('yes with nothing to retire', () => {
    expect(readiness([key('only', 'active')], { now: T }).verdicts[0]).toMatchObject({ safe: true, reason: 'no-previous' });
  });

  it('keys the store no longer holds are reported as retired and do not decide the verdict', () => {
    const usage = [
      key('k3', 'active', { matches: 3, lastMatchedAt: T - MIN }),
      key('k2', 'previous', { matches: 1, lastMatchedAt: T - 3 * H }),
      key('k1', 'previous', { matches: 7, lastMatchedAt: T - 5 * MIN, lastSeenAt: T - 2 * H }),
    ];
    const r = readiness(usage, { now: T, quietMs: H });
    expect(r.rows.find((x) => x.keyId === 'k1')?.keyRole).toBe('retired');
    expect(r.verdicts[0]).toMatchObject({ safe: true, previousKeyId: 'k2' });
    const withStore = readiness(usage, { now: T, quietMs: H, current: [{ secretId: 'S', keyId: 'k3', keyRole: 'active' }] });
    expect(withStore.verdicts[0]).toMatchObject({ reason: 'no-previous' });
    expect(withStore.rows.map((x) => x.keyRole)).toEqual(['active', 'retired', 'retired']);
  });

  it('defaults: 24 h quiet period; provider recommendations', () => {
    expect(readiness([], { now: T }).quietMs).toBe(DEFAULT_QUIET_MS);
    expect(DEFAULT_QUIET_MS).toBe(24 * H);
    expect(recommendedQuietMs('dataspike')).toBe(15 * MIN);
    expect(recommendedQuietMs('smartcar')).toBe(H);
    expect(recommendedQuietMs('acme')).toBe(DEFAULT_QUIET_MS);
  });

  it('formats durations', () => {
    expect([0, 59_000, 12 * MIN, 65 * MIN, 3 * H, 49 * H, 72 * H].map(formatDuration)).toEqual([
      '0 s',
      '59 s',
      '12 min',
      '1 h 5 min',
      '3 h',
      '2 d 1 h',
      '3 d',
    ]);
  });
});

describe('mergeUsage', () => {
  const snap = (instance: string, since: number, takenAt: number, keys: KeyUsageReport[]): UsageSnapshot => ({
    version: 1,
    instances: [instance],
    since,
    takenAt,
    keys,
  });

  it('sums matches, keeps the latest match, and takes role and window from the freshest view', () => {
    const a = snap('a', T - 5 * H, T, [
      key('new', 'active', { matches: 3, lastMatchedAt: T - 2 * MIN }),
      key('old', 'previous', { matches: 1, lastMatchedAt: T - 3 * H, lastSeenAt: T - MIN }),
    ]);
    const b = snap('b', T - 4 * H, T - MIN, [
      key('new', 'active', { matches: 4, lastMatchedAt: T - 9 * MIN, lastSeenAt: T - 2 * MIN }),
      key('old', 'previous', { matches: 6, lastMatchedAt: T - 20 * MIN, notAfter: T + H, lastSeenAt: T - 2 * MIN }),
    ]);
    const merged = mergeUsage([a, b]);
    expect(merged).toMatchObject({ instances: ['a', 'b'], since: T - 4 * H, takenAt: T - MIN });
    expect(merged.keys.map((k) => [k.keyId, k.matches, k.lastMatchedAt, k.notAfter])).toEqual([
      ['new', 7, T - 2 * MIN, undefined],
      ['old', 7, T - 20 * MIN, undefined],
    ]);
    // One instance saw the old key 20 min ago: the fleet is not ready even though instance a alone would be.
    expect(readiness(a, { now: T, quietMs: H }).verdicts[0]?.safe).toBe(true);
    expect(readiness(merged, { now: T, quietMs: H }).verdicts[0]).toMatchObject({
      safe: false,
      message: 'previous key safe to retire: no (last matched 20 min ago)',
    });
  });

  it('silence is only claimed up to the oldest snapshot', () => {
    const stale = snap('a', T - 10 * H, T - 3 * H, [
      key('new', 'active', { matches: 1, lastMatchedAt: T - 4 * H }),
      key('old', 'previous', { lastMatchedAt: T - 4.5 * H, matches: 1 }),
    ]);
    // From now, the old key last matched 4.5 h ago, but the snapshot only proves 1.5 h of silence.
    expect(readiness(stale, { now: T, quietMs: 2 * H }).verdicts[0]).toMatchObject({ safe: false, reason: 'recent-match' });
  });

  it('plain usage arrays merge with an unknown observation start', () => {
    const merged = mergeUsage([[key('a', 'active', { matches: 1 })], [key('a', 'active', { matches: 2 })]]);
    expect(merged.since).toBeUndefined();
    expect(merged.keys[0]?.matches).toBe(3);
  });
});
