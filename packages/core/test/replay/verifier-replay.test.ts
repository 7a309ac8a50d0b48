import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import {
  createVerifier,
  memoryReplayStore,
  providers,
  sign,
  VerificationError,
  type KeyturnEvent,
  type ProviderProfile,
  type RejectedInfo,
  type ReplayStore,
  type VerifierOptions,
  type VerifyResult,
} from '../../src/index.ts';

const T0 = 1_700_000_000_000;
const DS_SECRET = 'whsec_' + 'ab'.repeat(32);
const SW_SECRET = 'whsec_' + Buffer.from('standard-webhooks-test-key-0123').toString('base64');
const SC_SECRET = 'smartcar-amt-0123456789';
const MW_SECRET = 'mobway-secret';

/** Standard Webhooks: `webhook-id` header, signed as `{id}.{timestamp}.{body}`. */
const standardWebhooks = (): ProviderProfile =>
  providers.hmac({
    name: 'standard-webhooks',
    header: 'webhook-signature',
    encoding: 'base64',
    prefix: 'v1,',
    separator: ' ',
    timestampHeader: 'webhook-timestamp',
    idHeader: 'webhook-id',
    signedContent: '{id}.{timestamp}.{body}',
    secretCodec: 'whsec-base64',
  });

function clock(start = T0) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

/** A store that records calls and delegates to a memory store, asynchronously like a network store. */
function spyStore(inner = memoryReplayStore({ now: () => T0 })) {
  const claims: { key: string; ttlMs: number }[] = [];
  const releases: string[] = [];
  const store: ReplayStore = {
    name: 'spy',
    async claim(key, ttlMs) {
      claims.push({ key, ttlMs });
      await Promise.resolve();
      return inner.claim(key, ttlMs);
    },
    async release(key) {
      releases.push(key);
      await Promise.resolve();
      inner.release(key);
    },
  };
  return { store, claims, releases };
}

function setup(extra: Partial<VerifierOptions> & { provider?: ProviderProfile; secret?: string } = {}) {
  const c = clock();
  const rejected: RejectedInfo[] = [];
  const events: KeyturnEvent[] = [];
  const provider = extra.provider ?? providers.dataspike();
  const secret = extra.secret ?? DS_SECRET;
  const verifier = createVerifier({
    provider,
    keys: [{ id: 'k1', secret, role: 'active' }],
    now: c.now,
    onRejected: (info) => rejected.push(info),
    onEvent: (e) => events.push(e),
    replay: { store: memoryReplayStore({ now: c.now }) },
    ...extra,
  } as VerifierOptions);
  const deliver = (body: string, opts: { id?: string; at?: number } = {}) => ({
    body,
    headers: sign(provider, {
      body,
      secret,
      timestamp: Math.floor((opts.at ?? c.now()) / 1000),
      ...(opts.id === undefined ? {} : { id: opts.id }),
    }),
  });
  return { verifier, clock: c, rejected, events, deliver };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('replay defence: verifier integration', () => {
  it('refuses a replay with REPLAYED (409), which onRejected sees', async () => {
    const { verifier, rejected, deliver } = setup();
    const req = deliver('{"id":"evt_1","type":"check.completed"}');
    const first = await verifier.verify(req);
    expect(first).toMatchObject({ keyId: 'k1', eventId: 'evt_1', replayKey: 'dataspike:default:evt_1' });
    const err = await verifier.verify(req).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VerificationError);
    expect(err).toMatchObject({ code: 'REPLAYED', status: 409, provider: 'dataspike', secretId: 'default' });
    expect(rejected).toEqual([{ provider: 'dataspike', secretId: 'default', code: 'REPLAYED', keyId: undefined, keyRole: undefined }]);
    // Re-signed later with a fresh timestamp but the same event id: still the same event.
    const later = setup();
    await later.verifier.verify(later.deliver('{"id":"e"}'));
    later.clock.advance(10_000);
    await expect(later.verifier.verify(later.deliver('{"id":"e"}'))).rejects.toMatchObject({ code: 'REPLAYED' });
  });

  it('safeVerify reports REPLAYED and keeps the release handle', async () => {
    const { verifier, deliver } = setup();
    const req = deliver('{"id":"evt_2"}');
    const ok = await verifier.safeVerify(req);
    expect(ok.ok).toBe(true);
    if (!ok.ok) throw new Error('unreachable');
    expect(typeof ok.release).toBe('function');
    expect(ok.replayKey).toBe('dataspike:default:evt_2');
    const dup = await verifier.safeVerify(req);
    expect(dup.ok === false && dup.error.code).toBe('REPLAYED');
    await ok.release?.();
    expect((await verifier.safeVerify(req)).ok).toBe(true);
  });

  it('accepts the retry after the handler failed and released the claim', async () => {
    const { verifier, deliver, clock: c } = setup();
    const first = await verifier.verify(deliver('{"id":"evt_3"}'));
    // handler throws -> the adapter calls release()
    await first.release?.();
    await first.release?.(); // idempotent
    c.advance(5_000);
    const retry = await verifier.verify(deliver('{"id":"evt_3"}'));
    expect(retry.eventId).toBe('evt_3');
    // verifier.release(result) is the same thing, and a no-op for results without a claim
    await verifier.release(retry);
    expect((await verifier.verify(deliver('{"id":"evt_3"}'))).keyId).toBe('k1');
    await verifier.release({ provider: 'x', secretId: 'y', keyId: 'z', keyRole: 'active' } as VerifyResult);
  });

  it('keeps release and replayKey out of spreads, JSON and keys', async () => {
    const { verifier, deliver } = setup();
    const r = await verifier.verify(deliver('{"id":"evt_4"}'));
    expect(Object.keys(r)).not.toContain('release');
    expect(Object.keys(r)).not.toContain('replayKey');
    expect(JSON.parse(JSON.stringify(r))).toEqual({
      provider: 'dataspike',
      secretId: 'default',
      keyId: 'k1',
      keyRole: 'active',
      timestamp: T0 / 1000,
      eventId: 'evt_4',
    });
  });

  it('never claims for a forged, malformed or stale request', async () => {
    const spy = spyStore();
    const { verifier, deliver, clock: c } = setup({ replay: { store: spy.store } });
    const real = deliver('{"id":"evt_5"}');
    const forged = {
      body: real.body,
      headers: sign(providers.dataspike(), { body: real.body, secret: 'whsec_' + 'cd'.repeat(32), timestamp: T0 / 1000 }),
    };
    await expect(verifier.verify(forged)).rejects.toMatchObject({ code: 'NO_MATCHING_KEY' });
    await expect(verifier.verify({ body: real.body, headers: {} })).rejects.toMatchObject({ code: 'MISSING_SIGNATURE' });
    await expect(verifier.verify({ body: real.body + ' ', headers: real.headers })).rejects.toMatchObject({ code: 'NO_MATCHING_KEY' });
    const stale = deliver('{"id":"evt_5"}', { at: c.now() - 3_600_000 });
    await expect(verifier.verify(stale)).rejects.toMatchObject({ code: 'TIMESTAMP_TOO_OLD' });
    expect(spy.claims).toEqual([]);
    // The forged attempts burned nothing: the genuine delivery goes through.
    expect((await verifier.verify(real)).eventId).toBe('evt_5');
    expect(spy.claims).toHaveLength(1);
  });

  it('reads the event id where each profile keeps it', async () => {
    // Standard Webhooks: the webhook-id header.
    const sw = setup({ provider: standardWebhooks(), secret: SW_SECRET });
    const r1 = await sw.verifier.verify(sw.deliver('{"type":"a"}', { id: 'msg_2Lh9' }));
    expect(r1.replayKey).toBe('standard-webhooks:default:msg_2Lh9');
    sw.clock.advance(30_000); // sender retry: new timestamp, new signature, same id
    await expect(sw.verifier.verify(sw.deliver('{"type":"a"}', { id: 'msg_2Lh9' }))).rejects.toMatchObject({ code: 'REPLAYED' });
    expect((await sw.verifier.verify(sw.deliver('{"type":"a"}', { id: 'msg_other' }))).replayKey).toBe(
      'standard-webhooks:default:msg_other',
    );

    // Smartcar v4: `eventId` in the body; v2 (no id): the digest of the body.
    const sc = setup({ provider: providers.smartcar(), secret: SC_SECRET });
    const v4 = JSON.stringify({ eventId: '5a537912-1d7c', eventType: 'VEHICLE_STATE', data: {} });
    expect((await sc.verifier.verify(sc.deliver(v4))).replayKey).toBe('smartcar:default:5a537912-1d7c');
    const v2 = JSON.stringify({ version: '2.0', eventName: 'schedule', payload: { vehicles: [] } });
    const r2 = await sc.verifier.verify(sc.deliver(v2));
    expect(r2.replayKey).toBe(`smartcar:default:sha256:${sha256(v2)}`);
    expect(r2.eventId).toBeUndefined();
    await expect(sc.verifier.verify(sc.deliver(v2))).rejects.toMatchObject({ code: 'REPLAYED' });

    // Mobway: no id anywhere -> digest of the signed content (here the body alone).
    const mw = setup({ provider: providers.mobway(), secret: MW_SECRET });
    const body = '{"msisdn":"+15550100","status":"DELIVERED"}';
    expect((await mw.verifier.verify(mw.deliver(body))).replayKey).toBe(`mobway:default:sha256:${sha256(body)}`);
    await expect(mw.verifier.verify({ body: Buffer.from(body), headers: mw.deliver(body).headers })).rejects.toMatchObject({
      code: 'REPLAYED',
    });
    expect((await mw.verifier.verify(mw.deliver(body + '\n'))).replayKey).toBe(`mobway:default:sha256:${sha256(body + '\n')}`);

    // Dataspike without an `id` in the body: digest over "{t}." + body, so a re-signed copy is a new key.
    const ds = setup();
    const noId = '{"type":"ping"}';
    const r3 = await ds.verifier.verify(ds.deliver(noId));
    expect(r3.replayKey).toBe(`dataspike:default:sha256:${sha256(`${T0 / 1000}.${noId}`)}`);
  });

  it('scopes keys by provider and secret id, unambiguously', async () => {
    const spy = spyStore();
    const provider = providers.dataspike();
    const verifier = createVerifier({
      provider,
      keys: [{ id: 'k1', secret: DS_SECRET, role: 'active' }],
      now: () => T0,
      replay: { store: spy.store },
    });
    const body = '{"id":"b:c"}';
    const headers = sign(provider, { body, secret: DS_SECRET, timestamp: T0 / 1000 });
    await verifier.verify({ body, headers, secretId: 'tenant-a' });
    await verifier.verify({ body, headers, secretId: 'tenant-b' }); // another tenant: another key
    await verifier.verify({ body, headers, secretId: 'a:b' });
    expect(spy.claims.map((c) => c.key)).toEqual(['dataspike:tenant-a:b:c', 'dataspike:tenant-b:b:c', 'dataspike:a%3Ab:b:c']);
    // A huge id from a body is hashed into the key rather than stored.
    const long = JSON.stringify({ id: 'x'.repeat(5_000) });
    await verifier.verify({ body: long, headers: sign(provider, { body: long, secret: DS_SECRET, timestamp: T0 / 1000 }) });
    expect(spy.claims.at(-1)?.key).toBe(`dataspike:default:id-sha256:${sha256('x'.repeat(5_000))}`);
  });

  it('derives the TTL from the timestamp tolerance plus skew, and takes one for untimestamped profiles', async () => {
    const ttlOf = async (provider: ProviderProfile, secret: string, replay: object = {}) => {
      const spy = spyStore();
      const v = createVerifier({
        provider,
        keys: [{ id: 'k', secret, role: 'active' }],
        now: () => T0,
        replay: { store: spy.store, ...replay },
      });
      const body = '{"id":"t"}';
      await v.verify({ body, headers: sign(provider, { body, secret, timestamp: T0 / 1000, id: 'm' }) });
      return spy.claims[0]?.ttlMs;
    };
    expect(await ttlOf(providers.dataspike(), DS_SECRET)).toBe(300_000 + 60_000 + 60_000);
    expect(await ttlOf(providers.dataspike({ toleranceMs: 60_000, futureToleranceMs: 5_000 }), DS_SECRET, { clockSkewMs: 1_000 })).toBe(
      66_000,
    );
    expect(await ttlOf(standardWebhooks(), SW_SECRET)).toBe(300_000 + 300_000 + 60_000);
    expect(await ttlOf(providers.smartcar(), SC_SECRET)).toBe(86_400_000);
    expect(await ttlOf(providers.mobway(), MW_SECRET, { ttlMs: 7_200_000 })).toBe(7_200_000);
    const bad =
      (replay: object, provider: ProviderProfile = providers.dataspike()) =>
      () =>
        createVerifier({ provider, keys: [], replay: { store: memoryReplayStore(), ...replay } });
    expect(bad({ ttlMs: 100_000 })).toThrow(/at least 360000 ms/);
    expect(bad({ ttlMs: 0 }, providers.mobway())).toThrow(TypeError);
    expect(() => providers.dataspike({ futureToleranceMs: Number.POSITIVE_INFINITY })).toThrow(/finite/);
    // A hand-written profile with an unbounded tolerance is refused as well (claims would have to live for ever).
    expect(bad({}, { ...providers.dataspike(), timestampTolerance: { pastMs: 300_000, futureMs: Number.POSITIVE_INFINITY } })).toThrow(
      /finite/,
    );
    for (const ttlMs of [Number.NaN, Number.POSITIVE_INFINITY, '600000', 40_000_000_000]) expect(bad({ ttlMs })).toThrow(TypeError);
    for (const clockSkewMs of [Number.NaN, Number.POSITIVE_INFINITY, '1000', 3_600_001]) expect(bad({ clockSkewMs })).toThrow(TypeError);
    expect(bad({ failOpen: 'yes' })).toThrow(TypeError);
    expect(bad({ clockSkewMs: -1 })).toThrow(TypeError);
    expect(bad({ duplicateStatus: 99 })).toThrow(TypeError);
    expect(() => createVerifier({ provider: providers.mobway(), keys: [], replay: { store: {} as ReplayStore } })).toThrow(TypeError);
  });

  it('forgets a claim after its TTL (fake clock, untimestamped profile)', async () => {
    const c = clock();
    const store = memoryReplayStore({ now: c.now });
    const v = createVerifier({
      provider: providers.mobway(),
      keys: [{ id: 'k', secret: MW_SECRET, role: 'active' }],
      now: c.now,
      replay: { store, ttlMs: 60_000 },
    });
    const body = '{"n":1}';
    const req = { body, headers: sign(providers.mobway(), { body, secret: MW_SECRET }) };
    await v.verify(req);
    c.advance(60_000);
    await expect(v.verify(req)).rejects.toMatchObject({ code: 'REPLAYED' });
    c.advance(1);
    expect((await v.verify(req)).keyId).toBe('k');
  });

  it('a release after expiry never removes a later claim of the same key', async () => {
    const c = clock();
    const store = memoryReplayStore({ now: c.now });
    const release = vi.spyOn(store, 'release');
    const v = createVerifier({
      provider: providers.mobway(),
      keys: [{ id: 'k', secret: MW_SECRET, role: 'active' }],
      now: c.now,
      replay: { store, ttlMs: 1_000 },
    });
    const body = '{"n":2}';
    const req = { body, headers: sign(providers.mobway(), { body, secret: MW_SECRET }) };
    const slow = await v.verify(req); // its handler runs longer than the TTL...
    c.advance(1_500);
    const second = await v.verify(req); // ...so a replay got through, and holds the key now
    await slow.release?.();
    expect(release).not.toHaveBeenCalled();
    await expect(v.verify(req)).rejects.toMatchObject({ code: 'REPLAYED' });
    await second.release?.();
    expect(release).toHaveBeenCalledTimes(1);
  });

  it('answers duplicates with the configured status', async () => {
    const { verifier, deliver } = setup({ replay: { store: memoryReplayStore({ now: () => T0 }), duplicateStatus: 200 } });
    const req = deliver('{"id":"evt_200"}');
    await verifier.verify(req);
    await expect(verifier.verify(req)).rejects.toMatchObject({ code: 'REPLAYED', status: 200 });
  });

  it('exactly one of 100 concurrent deliveries of one event is accepted', async () => {
    const spy = spyStore();
    const { verifier, deliver } = setup({ replay: { store: spy.store } });
    const req = deliver('{"id":"evt_burst"}');
    const results = await Promise.all(Array.from({ length: 100 }, () => verifier.safeVerify(req)));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.error.code === 'REPLAYED')).toHaveLength(99);
  });

  describe('store failures', () => {
    const broken = (): ReplayStore => ({
      name: 'broken',
      claim: () => Promise.reject(new Error('ECONNREFUSED 127.0.0.1:6379')),
      release: () => Promise.reject(new Error('ECONNREFUSED 127.0.0.1:6379')),
    });

    it('fail-closed (default): KEYSTORE_UNAVAILABLE with 503 so the sender retries, and an event', async () => {
      const { verifier, deliver, rejected, events } = setup({ replay: { store: broken() } });
      const err = await verifier.verify(deliver('{"id":"evt_6"}')).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'KEYSTORE_UNAVAILABLE', status: 503 });
      expect((err as Error).message).toMatch(/replay store \(broken\)/);
      expect(rejected.map((r) => r.code)).toEqual(['KEYSTORE_UNAVAILABLE']);
      expect(events).toMatchObject([
        {
          type: 'replay-store-error',
          store: 'broken',
          operation: 'claim',
          outcome: 'rejected',
          provider: 'dataspike',
          secretId: 'default',
        },
      ]);
    });

    it('fail-open: accepts without protection and emits an event', async () => {
      const { verifier, deliver, events } = setup({ replay: { store: broken(), failOpen: true } });
      const r = await verifier.verify(deliver('{"id":"evt_7"}'));
      expect(r.eventId).toBe('evt_7');
      expect(events).toMatchObject([{ type: 'replay-store-error', operation: 'claim', outcome: 'accepted-unprotected' }]);
      await r.release?.(); // nothing was claimed: no store call, no event
      expect(events).toHaveLength(1);
    });

    it('a store whose claim does not resolve to a boolean counts as failed', async () => {
      const store = { claim: () => Promise.resolve('OK'), release: () => undefined } as unknown as ReplayStore;
      const { verifier, deliver } = setup({ replay: { store } });
      await expect(verifier.verify(deliver('{"id":"evt_8"}'))).rejects.toMatchObject({ code: 'KEYSTORE_UNAVAILABLE' });
    });

    it('release never rejects; a failed release emits an event', async () => {
      const inner = memoryReplayStore({ now: () => T0 });
      const store: ReplayStore = { name: 'flaky', claim: (k, t) => inner.claim(k, t), release: () => Promise.reject(new Error('down')) };
      const { verifier, deliver, events } = setup({ replay: { store } });
      const r = await verifier.verify(deliver('{"id":"evt_9"}'));
      await expect(r.release?.()).resolves.toBeUndefined();
      expect(events).toMatchObject([{ type: 'replay-store-error', operation: 'release', outcome: 'release-failed', store: 'flaky' }]);
    });

    it('hook and event errors never break verification', async () => {
      const { verifier, deliver } = setup({
        replay: { store: broken(), failOpen: true },
        onEvent: () => {
          throw new Error('observer bug');
        },
      });
      expect((await verifier.verify(deliver('{"id":"evt_10"}'))).keyId).toBe('k1');
    });
  });

  describe('verifySync', () => {
    it('works with the synchronous memory store', () => {
      const { verifier, deliver } = setup();
      const req = deliver('{"id":"evt_sync"}');
      const r = verifier.verifySync(req);
      expect(r.replayKey).toBe('dataspike:default:evt_sync');
      expect(() => verifier.verifySync(req)).toThrow(expect.objectContaining({ code: 'REPLAYED' }));
    });

    it('refuses an asynchronous store with a TypeError naming verify()', () => {
      const { verifier, deliver } = setup({ replay: { store: spyStore().store } });
      expect(() => verifier.verifySync(deliver('{"id":"evt_async"}'))).toThrow(/Use `await verifier.verify\(\)`/);
      expect(() => verifier.verifySync(deliver('{"id":"evt_async"}'))).toThrow(TypeError);
    });

    it('a "synchronous" store that returns a promise is refused and its claim undone', async () => {
      const inner = memoryReplayStore({ now: () => T0 });
      const liar: ReplayStore = { synchronous: true, claim: async (k, t) => inner.claim(k, t), release: (k) => inner.release(k) };
      const { verifier, deliver } = setup({ replay: { store: liar } });
      const req = deliver('{"id":"evt_liar"}');
      expect(() => verifier.verifySync(req)).toThrow(TypeError);
      await new Promise((r) => setImmediate(r));
      expect(inner.claim('dataspike:default:evt_liar', 1_000)).toBe(true);
    });
  });

  it('without replay nothing changes: no release, no replayKey, replays pass', async () => {
    const c = clock();
    const v = createVerifier({ provider: providers.dataspike(), keys: [{ id: 'k1', secret: DS_SECRET, role: 'active' }], now: c.now });
    const body = '{"id":"evt_off"}';
    const req = { body, headers: sign(providers.dataspike(), { body, secret: DS_SECRET, timestamp: T0 / 1000 }) };
    const r = await v.verify(req);
    expect(r.release).toBeUndefined();
    expect(r.replayKey).toBeUndefined();
    expect(r.eventId).toBeUndefined(); // the body is not parsed when replay defence is off
    await v.verify(req);
    v.verifySync(req);
  });
});
