/**
 * `@keyturn/core/store-kit`: the one instant parser (table), the reason union (an unknown reason is
 * kept as `code`), deadlines (abort, timeout, and an SDK that ignores the signal), the version-value
 * cache (bounded, redacted, copies), lazy peer imports, role order, secret comparison, rotation results.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { KeyStoreError } from '../src/errors.ts';
import {
  callWithDeadline,
  compareRoles,
  finishRotation,
  importPeer,
  KEY_STORE_ERROR_REASONS,
  msOption,
  parseInstant,
  sameSecret,
  versionValueCache,
  weakerRole,
} from '../src/store-kit/index.ts';

const ID = { store: 'kit-test', label: 'Kit Test' };

describe('parseInstant: one strictness for every store', () => {
  const table: [unknown, number | undefined][] = [
    [1_767_225_600_000, 1_767_225_600_000],
    ['1767225600000', 1_767_225_600_000],
    ['2026-01-01T00:00:00Z', Date.UTC(2026, 0, 1)],
    ['2026-01-01T00:00Z', Date.UTC(2026, 0, 1)],
    ['2026-01-01T01:00:00+01:00', Date.UTC(2026, 0, 1)],
    ['2026-01-01T00:00:00.123456789Z', Date.UTC(2026, 0, 1) + 123],
    ['2026-01-01T00:00:00', undefined], // no zone: would be read as local time
    ['2026-01-01', undefined],
    ['next tuesday', undefined],
    ['Thu, 01 Jan 2026 00:00:00 GMT', undefined],
    ['', undefined],
    [Number.NaN, undefined],
    [Infinity, undefined],
    ['99999999999999999', undefined],
    [null, undefined],
    [new Date(0), undefined],
  ];
  for (const [input, want] of table) it(`${JSON.stringify(String(input))} → ${want}`, () => expect(parseInstant(input)).toBe(want));
});

describe('KeyStoreError.reason is the union; the cloud code is separate', () => {
  it('keeps a known reason and the code', () => {
    const e = new KeyStoreError('x', { retryable: true, store: 's', reason: 'THROTTLED', code: 'ThrottlingException' });
    expect([e.reason, e.code]).toEqual(['THROTTLED', 'ThrottlingException']);
    expect(e.toJSON()).toMatchObject({ reason: 'THROTTLED', code: 'ThrottlingException' });
  });
  it('an unknown reason (a store written for an older keyturn) becomes the code', () => {
    const e = new KeyStoreError('x', { retryable: false, store: 's', reason: 'ResourceNotFoundException' as never });
    expect([e.reason, e.code]).toEqual([undefined, 'ResourceNotFoundException']);
  });
  it('lists the ten reasons of the issue', () => {
    expect([...KEY_STORE_ERROR_REASONS].sort()).toEqual([
      'ABORTED',
      'ACCESS_DENIED',
      'CONFLICT',
      'INTEGRITY',
      'INVALID_CONFIG',
      'INVALID_FORMAT',
      'NOT_FOUND',
      'THROTTLED',
      'TIMEOUT',
      'UNAVAILABLE',
    ]);
  });
});

describe('callWithDeadline', () => {
  const call = (signal: AbortSignal | undefined, timeoutMs: number) => ({
    ...ID,
    secretId: 's1',
    action: 'reading',
    signal,
    timeoutMs,
    mapError: (err: unknown) =>
      new KeyStoreError(`mapped ${String(err)}`, { retryable: false, store: 'kit-test', reason: 'INVALID_CONFIG' }),
  });
  it('an SDK call that ignores the signal still settles at the deadline: TIMEOUT, retryable', async () => {
    const err = await callWithDeadline(call(undefined, 20), () => new Promise(() => undefined)).catch((e: unknown) => e);
    expect(err).toMatchObject({
      reason: 'TIMEOUT',
      retryable: true,
      store: 'kit-test',
      message: 'Kit Test: reading for s1 took longer than 20 ms.',
    });
  });
  it("the caller's abort wins: ABORTED, before and during the call", async () => {
    const before = new AbortController();
    before.abort(new Error('gone'));
    let ran = false;
    await expect(callWithDeadline(call(before.signal, 1_000), async () => void (ran = true))).rejects.toMatchObject({ reason: 'ABORTED' });
    expect(ran).toBe(false);
    const during = new AbortController();
    const pending = callWithDeadline(call(during.signal, 10_000), () => new Promise(() => undefined));
    during.abort();
    await expect(pending).rejects.toMatchObject({ reason: 'ABORTED', retryable: true });
  });
  it('other failures go through mapError; the run sees the combined signal', async () => {
    let seen: AbortSignal | undefined;
    await expect(
      callWithDeadline(call(undefined, 1_000), async (s) => ((seen = s), Promise.reject(new Error('boom')))),
    ).rejects.toMatchObject({ message: 'mapped Error: boom' });
    expect(seen).toBeInstanceOf(AbortSignal);
    expect(await callWithDeadline(call(undefined, 1_000), async () => 42)).toBe(42);
  });
});

describe('versionValueCache', () => {
  it('is bounded, returns copies of bytes, and never shows a value', () => {
    const cache = versionValueCache<number>(2);
    const bytes = new Uint8Array([1, 2, 3]);
    cache.set('a', bytes, 7);
    bytes[0] = 9;
    const got = cache.get('a');
    expect([...(got!.value as Uint8Array)]).toEqual([1, 2, 3]);
    (got!.value as Uint8Array)[1] = 9;
    expect([...(cache.get('a')!.value as Uint8Array)]).toEqual([1, 2, 3]);
    expect(got?.meta).toBe(7);
    cache.set('b', 'secret-b', 1);
    cache.set('c', 'secret-c', 2);
    expect(cache.size).toBe(2);
    expect(inspect(cache, { depth: 10 })).not.toContain('secret-');
    cache.prune((k) => k === 'c');
    expect(cache.get('c')).toBeUndefined();
    expect(versionValueCache(0).size).toBe(0);
  });
});

describe('importPeer', () => {
  it('a missing peer dependency is a terminal INVALID_CONFIG naming the package', async () => {
    const err = await importPeer({
      ...ID,
      name: 'no-such-sdk',
      load: () => import('no-such-sdk' as string),
      hint: ' (or pass `client`)',
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      reason: 'INVALID_CONFIG',
      retryable: false,
      message: 'The Kit Test store needs the peer dependency no-such-sdk: npm install no-such-sdk (or pass `client`).',
    });
  });
});

describe('roles, secrets, rotation results, options', () => {
  it('role order and the weaker of two roles', () => {
    expect(
      [{ role: 'previous' as const }, { role: 'active' as const }, { role: 'pending' as const }].sort(compareRoles).map((r) => r.role),
    ).toEqual(['active', 'pending', 'previous']);
    expect(weakerRole('active', 'previous')).toBe('previous');
    expect(weakerRole('pending', 'active')).toBe('pending');
  });
  it('sameSecret compares text and bytes as UTF-8 bytes', () => {
    expect(sameSecret('abc', new TextEncoder().encode('abc'))).toBe(true);
    expect(sameSecret('abc', 'abd')).toBe(false);
    expect(sameSecret(new Uint8Array([1]), new Uint8Array([1, 0]))).toBe(false);
  });
  it('finishRotation flags a previous version with no window end', () => {
    expect(finishRotation({ activeId: 'a', previousId: 'p', previousNotAfter: 5 }, 'w')).toMatchObject({
      previousUnbounded: false,
      warnings: [],
    });
    expect(finishRotation({ activeId: 'a', previousId: 'p' }, 'w')).toMatchObject({ previousUnbounded: true, warnings: ['w'] });
    expect(finishRotation({ activeId: 'a' }, 'w')).toMatchObject({ previousUnbounded: false });
  });
  it('msOption refuses NaN, negatives, strings and (unless allowed) Infinity', () => {
    expect(msOption('f()', 'x', undefined, 5)).toBe(5);
    expect(msOption('f()', 'x', Infinity, 5, { allowInfinity: true })).toBe(Infinity);
    for (const bad of [Number.NaN, -1, '5', Infinity]) expect(() => msOption('f()', 'x', bad, 5)).toThrow(TypeError);
    expect(() => msOption('f()', 'x', 0, 5, { min: 1 })).toThrow(/from 1/);
  });
});
