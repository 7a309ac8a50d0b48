import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createVerifier, KeyStoreError, providers, type KeyStore, type KeyturnEvent, type SecretVersion } from '../src/index.ts';
import { controllableStore, mac } from './support/stores.ts';

// One fake clock drives the verifier (windows, TTLs, staleness, cooldowns) and the timers.
let clock = Date.UTC(2026, 10, 24, 12);
const now = () => clock;
async function advance(ms: number) {
  clock += ms;
  await vi.advanceTimersByTimeAsync(ms);
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
});

const body = '{"eventId":"e1","eventType":"VEHICLE_STATE"}';
const req = (secret: string, secretId?: string) => ({ body, headers: { 'sc-signature': mac(secret, body) }, secretId });
const v1: SecretVersion[] = [{ id: 'v1', secret: 'token-1', role: 'active' }];
const v2: SecretVersion[] = [
  { id: 'v2', secret: 'token-2', role: 'active' },
  { id: 'v1', secret: 'token-1', role: 'previous' },
];
const retryable = () =>
  new KeyStoreError('ctl: throttled', { retryable: true, store: 'ctl', reason: 'THROTTLED', code: 'ThrottlingException' });
const terminal = () => new KeyStoreError('ctl: not found', { retryable: false, store: 'ctl', reason: 'NOT_FOUND' });

function make(store: KeyStore, cache: Record<string, number | boolean> = {}, events: KeyturnEvent[] = []) {
  return createVerifier({
    provider: providers.smartcar(),
    keys: store,
    secretId: 'sc',
    now,
    cache: { ttlMs: 60_000, maxStaleMs: 600_000, refreshCooldownMs: 30_000, loadTimeoutMs: 2_000, jitter: 0, ...cache },
    onEvent: (e) => events.push(e),
  });
}

describe('single flight', () => {
  it('1000 concurrent verifications on a cold cache make exactly one getVersions call', async () => {
    const s = controllableStore();
    const v = make(s.store);
    const all = Array.from({ length: 1000 }, () => v.verify(req('token-1')));
    await vi.advanceTimersByTimeAsync(0);
    expect(s.calls).toHaveLength(1);
    s.calls[0]!.resolve(v1);
    const results = await Promise.all(all);
    expect(results.every((r) => r.keyId === 'v1')).toBe(true);
    expect(s.calls).toHaveLength(1);
  });

  it('keys the cache by secretId: two secrets, two loads', async () => {
    const s = controllableStore();
    s.answer(() => v1);
    const v = make(s.store);
    await Promise.all([v.verify(req('token-1', 'a')), v.verify(req('token-1', 'a')), v.verify(req('token-1', 'b'))]);
    expect(s.calls.map((c) => c.secretId).sort()).toEqual(['a', 'b']);
  });
});

describe('freshness', () => {
  it('after warm-up no verification waits on the store; refresh runs in the background before expiry', async () => {
    const s = controllableStore();
    s.answer(() => v1);
    const v = make(s.store, { ttlMs: 60_000, jitter: 0 });
    await v.warm();
    s.answer(undefined); // from now on the store hangs until told otherwise
    await advance(50_000);
    expect((await v.verify(req('token-1'))).keyId).toBe('v1');
    expect(s.calls).toHaveLength(1);
    await advance(4_000); // at 0.9 × ttl a background refresh starts; the key set is still fresh
    const r = await v.verify(req('token-1')); // served at once, not waiting on the hanging refresh
    expect(r.keyId).toBe('v1');
    expect(s.calls).toHaveLength(2);
    s.calls[1]!.resolve(v2);
    await vi.advanceTimersByTimeAsync(0);
    expect((await v.verify(req('token-2'))).keyRole).toBe('active');
    expect(v.status().versions.map((x) => x.id)).toEqual(['v2', 'v1']);
  });

  it('verifySync needs a warm cache and says to call verify first', async () => {
    const s = controllableStore();
    s.answer(() => v1);
    const v = make(s.store);
    expect(() => v.verifySync(req('token-1'))).toThrow(/call `await verifier.verify\(\)`/);
    await v.verify(req('token-1'));
    expect(v.verifySync(req('token-1')).keyId).toBe('v1');
  });
});

describe('stale-if-error', () => {
  it('serves the last good keys for maxStaleMs past the TTL, then fails closed with KEYSTORE_UNAVAILABLE', async () => {
    const s = controllableStore();
    const events: KeyturnEvent[] = [];
    s.answer(() => v1);
    const v = make(s.store, {}, events);
    await v.warm();
    s.answer(() => retryable());
    await advance(60_001); // expired: the refresh fails, the stale set serves
    expect((await v.verify(req('token-1'))).keyId).toBe('v1');
    expect(events.some((e) => e.type === 'load-failure' && e.retryable)).toBe(true);
    expect(events.some((e) => e.type === 'stale-served')).toBe(true);
    expect(v.status()).toMatchObject({ state: 'stale', lastError: { reason: 'THROTTLED', code: 'ThrottlingException', retryable: true } });
    await advance(600_000); // past ttl + maxStale
    await expect(v.verify(req('token-1'))).rejects.toMatchObject({ code: 'KEYSTORE_UNAVAILABLE', status: 503 });
    s.answer(() => v1); // the store recovers: after the backoff, keys load again
    await advance(120_000);
    expect((await v.verify(req('token-1'))).keyId).toBe('v1');
  });

  it('a store error on a cold cache is KEYSTORE_UNAVAILABLE, never "no keys"', async () => {
    const s = controllableStore();
    s.answer(() => retryable());
    const v = make(s.store);
    const err = await v.verify(req('token-1')).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'KEYSTORE_UNAVAILABLE' });
    expect((err as Error).cause).toBeInstanceOf(KeyStoreError);
    // A plain Error from a third-party store is classified as retryable too.
    const s2 = controllableStore();
    s2.answer(() => new Error('socket hang up'));
    await expect(make(s2.store).verify(req('token-1'))).rejects.toMatchObject({ code: 'KEYSTORE_UNAVAILABLE' });
  });

  it('an outage plus a flood costs a bounded number of store calls (error backoff)', async () => {
    const s = controllableStore();
    s.answer(() => v1);
    const v = make(s.store, { errorBackoffMs: 1_000 });
    await v.warm();
    s.answer(() => retryable());
    await advance(60_001);
    for (let second = 0; second < 60; second++) {
      await Promise.all(Array.from({ length: 50 }, () => v.verify(req('token-1'))));
      await advance(1_000);
    }
    // 3000 verifications over a minute of outage: backoff 1, 2, 4, 8, 16, 32 s → a handful of calls.
    expect(s.calls.length).toBeLessThanOrEqual(9);
  });

  it('a terminal error fails closed at once when serveStaleOnTerminalError is false', async () => {
    const s = controllableStore();
    s.answer(() => v1);
    const v = make(s.store, { serveStaleOnTerminalError: false });
    await v.warm();
    s.answer(() => terminal());
    await advance(60_001);
    const err = await v.verify(req('token-1')).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'KEYSTORE_MISCONFIGURED', status: 500 });
    expect((err as { hint?: string }).hint).toMatch(/configuration error \(NOT_FOUND\)/);
  });
});

describe('refresh on unknown key', () => {
  it('picks up a just-rotated secret on the first request signed with it', async () => {
    const s = controllableStore();
    const events: KeyturnEvent[] = [];
    let versions = v1;
    s.answer(() => versions);
    const v = make(s.store, {}, events);
    await v.warm();
    await advance(31_000);
    versions = v2; // rotated in the store; the cache still holds v1 (fresh for another 29 s)
    const r = await v.verify(req('token-2'));
    expect(r).toMatchObject({ keyId: 'v2', keyRole: 'active' });
    expect(events.filter((e) => e.type === 'refresh-on-miss')).toHaveLength(1);
    expect(s.calls).toHaveLength(2);
  });

  it('a flood of forged requests costs at most one store call per cooldown', async () => {
    const s = controllableStore();
    s.answer(() => v1);
    const v = make(s.store, { refreshCooldownMs: 30_000 });
    await v.warm();
    await advance(30_000);
    for (let i = 0; i < 200; i++) {
      await expect(v.verify(req('forged'))).rejects.toMatchObject({ code: 'NO_MATCHING_KEY' });
      if (i % 20 === 0) await advance(1_000);
    }
    // 200 forgeries over ~10 s: one refresh at most (the cooldown started at the last load).
    expect(s.calls.length).toBeLessThanOrEqual(2);
    const concurrent = Array.from({ length: 500 }, () => v.verify(req('forged')).catch(() => undefined));
    await advance(40_000);
    await Promise.all(concurrent);
    expect(s.calls.length).toBeLessThanOrEqual(3);
  });
});

describe('loadTimeoutMs', () => {
  it('cold and slow: KEYSTORE_UNAVAILABLE after loadTimeoutMs; the load goes on and serves later', async () => {
    const s = controllableStore();
    const v = make(s.store, { loadTimeoutMs: 2_000 });
    const pending = v.verify(req('token-1')).catch((e: unknown) => e);
    await advance(2_001);
    expect(await pending).toMatchObject({ code: 'KEYSTORE_UNAVAILABLE' });
    s.calls[0]!.resolve(v1);
    await vi.advanceTimersByTimeAsync(0);
    expect((await v.verify(req('token-1'))).keyId).toBe('v1');
    expect(s.calls).toHaveLength(1);
  });

  it('expired and slow: serves stale at the deadline', async () => {
    const s = controllableStore();
    s.answer(() => v1);
    const events: KeyturnEvent[] = [];
    const v = make(s.store, { loadTimeoutMs: 2_000 }, events);
    await v.warm();
    s.answer(undefined);
    await advance(60_001);
    const pending = v.verify(req('token-1'));
    await advance(2_001);
    expect((await pending).keyId).toBe('v1');
    expect(events.some((e) => e.type === 'stale-served' && e.why === 'load-timeout')).toBe(true);
  });

  it('a store call that never settles is aborted after storeTimeoutMs', async () => {
    const s = controllableStore();
    const v = make(s.store, { storeTimeoutMs: 10_000 });
    void v.verify(req('token-1')).catch(() => undefined);
    await vi.advanceTimersByTimeAsync(0);
    expect(s.calls[0]!.signal.aborted).toBe(false);
    await advance(10_001);
    expect(s.calls[0]!.signal.aborted).toBe(true);
    expect(v.status().lastError).toMatchObject({ reason: 'TIMEOUT', retryable: true });
  });
});

describe('invalidate, status, bounds', () => {
  it('invalidate(secretId) reloads at once (push notifications)', async () => {
    const s = controllableStore();
    let versions = v1;
    s.answer(() => versions);
    const v = make(s.store);
    await v.warm();
    versions = v2;
    v.invalidate('sc');
    await vi.advanceTimersByTimeAsync(0);
    expect(s.calls).toHaveLength(2);
    expect(v.status()).toMatchObject({
      state: 'fresh',
      loading: false,
      versions: [
        { id: 'v2', role: 'active' },
        { id: 'v1', role: 'previous' },
      ],
    });
  });

  it('status reports age, versions, last error and next refresh', async () => {
    const s = controllableStore();
    s.answer(() => v1);
    const v = make(s.store);
    expect(v.status()).toMatchObject({ state: 'cold', versions: [] });
    await v.warm();
    await advance(5_000);
    expect(v.status()).toMatchObject({ state: 'fresh', ageMs: 5_000, nextRefreshAt: clock - 5_000 + 54_000, lastError: undefined });
  });

  it('holds at most maxSecrets secrets (one per tenant), evicting the least recently used', async () => {
    const s = controllableStore();
    s.answer(() => v1);
    const v = make(s.store, { maxSecrets: 2 });
    for (const id of ['t1', 't2', 't3']) await v.verify(req('token-1', id));
    expect(v.secretIds().sort()).toEqual(['t2', 't3']);
    expect(v.status('t1').state).toBe('cold');
  });

  it('a store result of the wrong shape is a terminal error, not keys', async () => {
    const store: KeyStore = { name: 'bad', getVersions: async () => [{ id: 'x', secret: 42, role: 'active' }] as never };
    const v = createVerifier({ provider: providers.smartcar(), keys: store, secretId: 'sc', now });
    await expect(v.verify(req('token-1'))).rejects.toMatchObject({ code: 'KEYSTORE_MISCONFIGURED' });
    expect(v.status().lastError).toMatchObject({ reason: 'INVALID_FORMAT', code: 'BAD_RESULT', retryable: false });
  });

  it('a store that returns no versions gives NO_KEYS (503) — absence, not an outage', async () => {
    const store: KeyStore = { name: 'empty', getVersions: async () => [] };
    const v = createVerifier({ provider: providers.smartcar(), keys: store, secretId: 'sc', now });
    await expect(v.verify(req('token-1'))).rejects.toMatchObject({ code: 'NO_KEYS', status: 503 });
  });
});

describe('secret material never leaks from the cache', () => {
  it('lru-cache diagnostics, inspect and JSON show no secret or key bytes', async () => {
    const seen: unknown[] = [];
    const listener = (message: unknown) => seen.push(message);
    subscribe('lru-cache:metrics', listener);
    try {
      const s = controllableStore();
      s.answer(() => [{ id: 'k', secret: 'very-secret-amt-value', role: 'active' }]);
      const v = make(s.store);
      await v.verify(req('very-secret-amt-value'));
      await v.verify(req('very-secret-amt-value'));
      const dump = [
        inspect(seen, { depth: 8 }),
        inspect(v, { depth: 8 }),
        JSON.stringify(v.status()),
        inspect(v.status(), { depth: 8 }),
      ].join('\n');
      expect(dump).not.toContain('very-secret-amt-value');
      expect(dump).not.toContain(Buffer.from('very-secret-amt-value').toString('hex'));
    } finally {
      unsubscribe('lru-cache:metrics', listener);
    }
  });

  it('decodes each version once, not per request or per reload', async () => {
    let decodes = 0;
    const base = providers.smartcar();
    const provider = { ...base, decodeSecret: (s: string | Uint8Array) => (decodes++, base.decodeSecret(s)) };
    const s = controllableStore();
    s.answer(() => v2);
    const v = createVerifier({ provider, keys: s.store, secretId: 'sc', now, cache: { ttlMs: 1_000, jitter: 0 } });
    for (let i = 0; i < 5; i++) {
      await v.verify(req('token-1'));
      await advance(1_500);
      await v.verify(req('token-2'));
    }
    expect(s.calls.length).toBeGreaterThan(3);
    expect(decodes).toBe(2);
  });
});

describe('odd stores', () => {
  it('a store that throws synchronously is a retryable failure, and the next load can start', async () => {
    let calls = 0;
    const store: KeyStore = {
      name: 'sync-throw',
      getVersions: ((_: string) => {
        calls++;
        if (calls === 1) throw new Error('boom');
        return Promise.resolve(v1);
      }) as KeyStore['getVersions'],
    };
    const v = createVerifier({ provider: providers.smartcar(), keys: store, secretId: 'sc', now, cache: { errorBackoffMs: 1_000 } });
    await expect(v.verify(req('token-1'))).rejects.toMatchObject({ code: 'KEYSTORE_UNAVAILABLE' });
    await advance(2_000);
    expect((await v.verify(req('token-1'))).keyId).toBe('v1');
  });
});
