/**
 * Per-request secret ids against the key cache (issue 12, item 2): made-up ids must not drive the
 * store or evict real tenants, and the defence must not hurt genuine traffic.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { vi } from 'vitest';
import { createVerifier, providers, VerificationError, type CacheOptions, type KeyturnEvent, type SecretVersion } from '../src/index.ts';
import { fakeClock, mac, settle, tenantStore } from './support/stores.ts';

let clock = fakeClock();
beforeEach(() => {
  clock = fakeClock();
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
});

const body = '{"eventId":"e1","eventType":"VEHICLE_STATE"}';
const keysOf = (tenant: string): SecretVersion[] => [{ id: `${tenant}-v1`, secret: `token-${tenant}`, role: 'active' }];
/** A request for `tenant`, signed with its real token (or forged). */
const request = (tenant: string, forged = false) => ({
  body,
  headers: { 'sc-signature': mac(forged ? 'attacker' : `token-${tenant}`, body), 'x-tenant': tenant },
});

function verifierFor(known: (id: string) => boolean, cache: CacheOptions = {}, events: KeyturnEvent[] = []) {
  const s = tenantStore((id) => (known(id) ? keysOf(id) : undefined));
  const verifier = createVerifier({
    provider: providers.smartcar(),
    keys: s.store,
    secretId: (req) => String((req.headers as Record<string, string>)['x-tenant']),
    now: clock.now,
    cache,
    onEvent: (e) => events.push(e),
  });
  return { verifier, calls: s.calls };
}

const codeOf = (r: PromiseSettledResult<unknown>) => (r.status === 'rejected' ? (r.reason as VerificationError).code : 'ok');
const statusOf = (r: PromiseSettledResult<unknown>) => (r.status === 'rejected' ? (r.reason as VerificationError).status : 200);

describe('made-up secret ids (per-request secretId)', () => {
  it('1 000 forged requests with 1 000 made-up tenant ids: bounded store calls, the real tenant stays cached, every refusal is 5xx', async () => {
    const { verifier, calls } = verifierFor((id) => id === 'acme', { maxSecrets: 10 });
    await settle(verifier.verify(request('acme')), clock);
    expect(calls).toEqual(['acme']);

    const flood = Promise.allSettled(Array.from({ length: 1000 }, (_, i) => verifier.verify(request(`made-up-${i}`, true))));
    const results = await settle(flood, clock);
    const madeUpCalls = calls.filter((id) => id !== 'acme').length;
    // The bucket (100 tokens, 10/s) during the 3 s a request waits: at most 100 + 30 store calls, not 1 000.
    expect(madeUpCalls).toBeGreaterThanOrEqual(100);
    expect(madeUpCalls).toBeLessThanOrEqual(131);
    const codes = new Set(results.map(codeOf));
    expect([...codes].sort()).toEqual(['COLD_LOAD_LIMITED', 'KEYSTORE_MISCONFIGURED']);
    expect(results.every((r) => statusOf(r) >= 500)).toBe(true);
    expect(results.filter((r) => codeOf(r) === 'COLD_LOAD_LIMITED').every((r) => statusOf(r) === 503)).toBe(true);

    // The real tenant was not evicted: it verifies from the cache, without a store call.
    const before = calls.length;
    expect((await verifier.verify(request('acme'))).keyId).toBe('acme-v1');
    expect(calls.length).toBe(before);
    expect(verifier.status('acme')).toMatchObject({ state: 'fresh', verified: true });
    // Made-up ids take no room: only ids with keys are held.
    expect(verifier.secretIds()).toEqual(['acme']);
  });

  it('the same made-up ids again: answered from the negative cache or the limit, never one store call each', async () => {
    const { verifier, calls } = verifierFor(() => false);
    const ids = Array.from({ length: 300 }, (_, i) => `ghost-${i}`);
    await settle(Promise.allSettled(ids.map((id) => verifier.verify(request(id, true)))), clock);
    const first = calls.length;
    expect(first).toBeLessThanOrEqual(131);
    await settle(Promise.allSettled(ids.map((id) => verifier.verify(request(id, true)))), clock);
    // Second wave, a few seconds later: the ids already answered are remembered; the rest share the refill.
    expect(calls.length - first).toBeLessThanOrEqual(31);
    expect(new Set(calls).size).toBe(calls.length); // no id was asked for twice
  });

  it('a thousand real tenants warm up at once with the default limits: every request verifies, one store call each', async () => {
    const { verifier, calls } = verifierFor((id) => id.startsWith('tenant-'));
    const results = await settle(
      Promise.allSettled(Array.from({ length: 1000 }, (_, i) => verifier.verify(request(`tenant-${i}`)))),
      clock,
    );
    expect(results.map(codeOf).filter((c) => c !== 'ok')).toEqual([]);
    expect(calls.length).toBe(1000);
    expect(new Set(calls).size).toBe(1000);
  });

  it('real tenants keep warming up while made-up ids flood in (the tokens of loads that found keys come back)', async () => {
    const { verifier, calls } = verifierFor((id) => id.startsWith('tenant-'));
    const mixed = Array.from({ length: 400 }, (_, i) =>
      i % 2 === 0 ? verifier.verify(request(`tenant-${i}`)) : verifier.verify(request(`ghost-${i}`, true)),
    );
    const results = await settle(Promise.allSettled(mixed), clock);
    const real = results.filter((_, i) => i % 2 === 0);
    // Ghosts drain the bucket; real tenants queue behind them. Every refusal is retryable (503).
    expect(real.filter((r) => r.status === 'fulfilled').length).toBeGreaterThan(0);
    expect(real.every((r) => r.status === 'fulfilled' || codeOf(r) === 'COLD_LOAD_LIMITED')).toBe(true);
    expect(calls.length).toBeLessThanOrEqual(200 + 131);
    // Once the flood stops, every real tenant gets in on its sender's retry.
    await clock.advance(60_000);
    const retried = await settle(Promise.allSettled(real.map((_, j) => verifier.verify(request(`tenant-${j * 2}`)))), clock);
    expect(retried.map(codeOf).filter((c) => c !== 'ok')).toEqual([]);
  });
});

describe('negative caching', () => {
  it('remembers a not-found id for negativeTtlMs, then asks again; invalidate(secretId) forgets it at once', async () => {
    let exists = false;
    const { verifier, calls } = verifierFor((id) => id === 'newco' && exists, { negativeTtlMs: 30_000 });
    const first = await settle(
      verifier.verify(request('newco')).catch((e: unknown) => e),
      clock,
    );
    expect(first).toMatchObject({ code: 'KEYSTORE_MISCONFIGURED', status: 500 });
    expect((first as Error).message).toContain('tenants: newco does not exist');
    for (let i = 0; i < 20; i++) {
      await expect(verifier.verify(request('newco'))).rejects.toMatchObject({ code: 'KEYSTORE_MISCONFIGURED' });
    }
    expect(calls).toEqual(['newco']);
    expect(verifier.status('newco')).toMatchObject({ state: 'cold', lastError: { reason: 'NOT_FOUND', retryable: false } });

    exists = true; // the tenant is created in the store
    await clock.advance(29_000);
    await expect(verifier.verify(request('newco'))).rejects.toMatchObject({ code: 'KEYSTORE_MISCONFIGURED' });
    await clock.advance(1_001);
    expect((await settle(verifier.verify(request('newco')), clock)).keyId).toBe('newco-v1');
    expect(calls).toEqual(['newco', 'newco']);

    // invalidate() forgets a remembered failure (a push notice may mean the secret exists now).
    exists = false;
    await settle(
      verifier.verify(request('other')).catch(() => undefined),
      clock,
    );
    expect(calls.filter((c) => c === 'other')).toHaveLength(1);
    verifier.invalidate('other');
    await settle(
      verifier.verify(request('other')).catch(() => undefined),
      clock,
    );
    expect(calls.filter((c) => c === 'other')).toHaveLength(2);
  });

  it('negativeTtlMs: 0 turns it off (each request for the id is a cold load, still under the admission limit)', async () => {
    const { verifier, calls } = verifierFor(() => false, { negativeTtlMs: 0, coldLoadBurst: 3, coldLoadsPerSecond: 0.01 });
    for (let i = 0; i < 5; i++)
      await settle(
        verifier.verify(request('ghost')).catch(() => undefined),
        clock,
      );
    expect(calls.length).toBe(3);
  });
});

describe('admission limit on cold loads', () => {
  it('a refused request never reaches the store later, and warm() is not limited', async () => {
    const { verifier, calls } = verifierFor((id) => id === 'real', { coldLoadBurst: 1, coldLoadsPerSecond: 0.01 });
    const a = verifier.verify(request('ghost-a', true)).catch((e: unknown) => e);
    const b = verifier.verify(request('ghost-b', true)).catch((e: unknown) => e);
    expect(await settle(a, clock)).toMatchObject({ code: 'KEYSTORE_MISCONFIGURED' });
    const refused = await settle(b, clock);
    expect(refused).toBeInstanceOf(VerificationError);
    expect(refused).toMatchObject({ code: 'COLD_LOAD_LIMITED', status: 503, secretId: 'ghost-b' });
    expect((refused as VerificationError).hint).toMatch(/known tenants/);
    await clock.advance(200_000); // tokens come back; the abandoned load must not run
    expect(calls).toEqual(['ghost-a']);
    // The operator's warm() is never limited.
    await settle(verifier.warm('real'), clock);
    expect(calls).toEqual(['ghost-a', 'real']);
    expect((await verifier.verify(request('real'))).keyId).toBe('real-v1');
  });

  it('secrets already held never wait for a token', async () => {
    const { verifier, calls } = verifierFor((id) => id === 'real', { coldLoadBurst: 1, coldLoadsPerSecond: 0.01, ttlMs: 1_000 });
    await settle(verifier.verify(request('real')), clock);
    await settle(
      verifier.verify(request('ghost', true)).catch(() => undefined),
      clock,
    ); // drains the bucket
    await clock.advance(2_000); // the real tenant's set expired: its reload is not a cold load
    expect((await settle(verifier.verify(request('real')), clock)).keyId).toBe('real-v1');
    expect(calls).toEqual(['real', 'ghost', 'real']);
  });
});

describe('eviction: a secret that verified a request is never evicted by one that did not', () => {
  it('existing tenants hit only with forgeries come and go; verified ones stay', async () => {
    const { verifier, calls } = verifierFor(() => true, { maxSecrets: 2, coldLoadBurst: 1_000 });
    for (const t of ['a', 'b']) await settle(verifier.verify(request(t)), clock);
    // 50 real tenant names, forged requests only: they load (they exist), but never verify.
    await settle(Promise.allSettled(Array.from({ length: 50 }, (_, i) => verifier.verify(request(`t${i}`, true)))), clock);
    const before = calls.length;
    for (const t of ['a', 'b']) expect((await verifier.verify(request(t))).keyRole).toBe('active');
    expect(calls.length).toBe(before);
    expect(verifier.status('a')).toMatchObject({ state: 'fresh', verified: true });
    expect(verifier.secretIds().sort()).toEqual(['a', 'b', 't48', 't49']);
  });

  it('static keys: usage counts of a tenant that verified survive a flood of made-up tenants', async () => {
    const verifier = createVerifier({
      provider: providers.smartcar(),
      keys: [{ id: 'k', secret: 'token-shared', role: 'active' }],
      secretId: (req) => String((req.headers as Record<string, string>)['x-tenant']),
      cache: { maxSecrets: 10 },
    });
    const signed = { 'sc-signature': mac('token-shared', body) };
    for (let i = 0; i < 3; i++) await verifier.verify({ body, headers: { ...signed, 'x-tenant': 'acme' } });
    for (let i = 0; i < 3_000; i++) {
      await verifier.verify({ body, headers: { 'sc-signature': mac('nope', body), 'x-tenant': `made-up-${i}` } }).catch(() => undefined);
    }
    expect(verifier.usage('acme')).toEqual([expect.objectContaining({ keyId: 'k', matches: 3 })]);
    expect(verifier.secretIds()).toContain('acme');
  });
});
