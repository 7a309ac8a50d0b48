/**
 * Key material and key identity (issue 12, items 5, 6, 8): key bytes are private copies, one id
 * names one secret, and a previous key without an end is reported.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createVerifier, providers, sign, type KeyStore, type KeyturnEvent, type SecretVersion } from '../src/index.ts';
import { controllableStore, fakeClock, mac } from './support/stores.ts';

let clock = fakeClock();
beforeEach(() => {
  clock = fakeClock();
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
});

const body = '{"eventId":"e1","eventType":"VEHICLE_STATE"}';
const scReq = (secret: string | Uint8Array) => ({ body, headers: { 'sc-signature': mac(secret, body) } });

function storeVerifier(store: KeyStore, events: KeyturnEvent[] = [], provider = providers.smartcar()) {
  return createVerifier({
    provider,
    keys: store,
    secretId: 'sc',
    now: clock.now,
    cache: { ttlMs: 60_000, jitter: 0 },
    onEvent: (e) => events.push(e),
  });
}

describe('binary secrets are copied when decoded (item 5)', () => {
  const keyBytes = () => Buffer.from([0xff, 0x00, 0x13, 0x37, ...Array.from({ length: 28 }, (_, i) => i)]);

  it('a store that zeroes or reuses its buffer after loading does not change the verification key', async () => {
    const buffer = keyBytes();
    const original = Buffer.from(buffer);
    const store: KeyStore = { name: 'reuse', getVersions: async () => [{ id: 'b1', secret: buffer, role: 'active' }] };
    const v = storeVerifier(store);
    expect((await v.verify(scReq(original))).keyId).toBe('b1');
    buffer.fill(0); // the store zeroes its buffer...
    expect((await v.verify(scReq(original))).keyId).toBe('b1');
    await expect(v.verify(scReq(Buffer.alloc(32)))).rejects.toMatchObject({ code: 'NO_MATCHING_KEY' });
    buffer.set(Buffer.from('another tenant key, same buffer!')); // ...or reuses it for something else
    expect((await v.verify(scReq(original))).keyId).toBe('b1');
  });

  it('a Buffer that is a view into a shared pool is copied, not kept', async () => {
    const pool = Buffer.alloc(64, 7);
    const view = pool.subarray(16, 48);
    const original = Buffer.from(view);
    const store: KeyStore = { name: 'pool', getVersions: async () => [{ id: 'p', secret: view, role: 'active' }] };
    const v = storeVerifier(store);
    expect((await v.verify(scReq(original))).keyId).toBe('p');
    pool.fill(1);
    expect((await v.verify(scReq(original))).keyId).toBe('p');
  });

  it('a reload compares against the bytes as they were loaded, not the store buffer', async () => {
    const buffer = keyBytes();
    const original = Buffer.from(buffer);
    let decodes = 0;
    const base = providers.smartcar();
    const provider = { ...base, decodeSecret: (s: string | Uint8Array) => (decodes++, base.decodeSecret(s)) };
    const s = controllableStore();
    let current = buffer;
    s.answer(() => [{ id: 'b1', secret: current, role: 'active' }]);
    const v = storeVerifier(s.store, [], provider);
    await v.verify(scReq(original));
    buffer.fill(0); // the store zeroes the buffer it handed out...
    current = Buffer.from(original); // ...and the next load returns the same key in a fresh one
    await clock.advance(61_000);
    await v.verify(scReq(original));
    expect(s.calls.length).toBe(2);
    expect(decodes).toBe(1); // same id, same bytes: the decoded key is reused
  });

  it('static keys: the caller zeroing its buffer after createVerifier changes nothing, for new secret ids too', async () => {
    const buffer = keyBytes();
    const original = Buffer.from(buffer);
    const v = createVerifier({ provider: providers.mobway(), keys: [{ id: 's', secret: buffer, role: 'active' }] });
    buffer.fill(0);
    const headers = { 'x-signature': mac(original, body) };
    expect((await v.verify({ body, headers })).keyId).toBe('s');
    expect((await v.verify({ body, headers, secretId: 'tenant-created-later' })).keyId).toBe('s');
  });

  it('a custom profile that hands back its input bytes still gets a private key', async () => {
    const buffer = keyBytes();
    const original = Buffer.from(buffer);
    const base = providers.mobway();
    const provider = { ...base, decodeSecret: (s: string | Uint8Array) => (typeof s === 'string' ? base.decodeSecret(s) : s) };
    const store: KeyStore = { name: 'custom', getVersions: async () => [{ id: 'c', secret: buffer, role: 'active' }] };
    const v = createVerifier({ provider, keys: store, secretId: 'x', now: clock.now });
    const headers = { 'x-signature': mac(original, body) };
    expect((await v.verify({ body, headers })).keyId).toBe('c');
    buffer.fill(0);
    expect((await v.verify({ body, headers })).keyId).toBe('c');
  });
});

describe('one id, one secret (item 6)', () => {
  it('versions with one id and different secrets are invalid keys, whatever the store order', async () => {
    for (const order of ['previous-first', 'active-first'] as const) {
      const pair: SecretVersion[] = [
        { id: 'v1', secret: 'old-token', role: 'previous' },
        { id: 'v1', secret: 'new-token', role: 'active' },
      ];
      const versions = order === 'active-first' ? [...pair].reverse() : pair;
      const events: KeyturnEvent[] = [];
      const v = storeVerifier({ name: 'dup', getVersions: async () => versions }, events);
      for (const secret of ['old-token', 'new-token']) {
        const err = await v.verify(scReq(secret)).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'INVALID_SECRET', status: 500, keyId: 'v1' });
        expect((err as Error).message).toMatch(/2 versions with id v1 and different secrets/);
      }
      expect(events.filter((e) => e.type === 'key-invalid')).toEqual([
        expect.objectContaining({ keyId: 'v1', keyRole: 'active', reason: 'conflicting-id' }),
      ]);
      expect(v.status()).toMatchObject({ versions: [], invalidVersions: ['v1'] });
    }
  });

  it('a conflicting id does not take down the other keys of the secret', async () => {
    const versions: SecretVersion[] = [
      { id: 'v2', secret: 'current', role: 'active' },
      { id: 'v1', secret: 'a', role: 'previous' },
      { id: 'v1', secret: 'b', role: 'pending' },
    ];
    const v = storeVerifier({ name: 'dup', getVersions: async () => versions });
    expect((await v.verify(scReq('current'))).keyId).toBe('v2');
    await expect(v.verify(scReq('a'))).rejects.toMatchObject({ code: 'NO_MATCHING_KEY' });
    await expect(v.verify(scReq('b'))).rejects.toMatchObject({ code: 'NO_MATCHING_KEY' });
  });

  it('versions with one id and the same secret are one key with the most privileged role (never dropped for a previous)', async () => {
    const versions: SecretVersion[] = [
      { id: 'v7', secret: 'token', role: 'previous', notAfter: clock.now() - 60_000 },
      { id: 'v7', secret: 'token', role: 'active' },
      { id: 'v7', secret: new TextEncoder().encode('token'), role: 'pending' },
    ];
    const v = storeVerifier({ name: 'same', getVersions: async () => versions });
    expect(await v.verify(scReq('token'))).toMatchObject({ keyId: 'v7', keyRole: 'active' });
    expect(v.status().versions).toEqual([{ id: 'v7', role: 'active', notBefore: undefined, notAfter: undefined }]);
  });

  it('static keys with duplicate ids or two active keys are a TypeError at createVerifier', () => {
    const make = (keys: SecretVersion[]) => () => createVerifier({ provider: providers.smartcar(), keys });
    expect(
      make([
        { id: 'k', secret: 'a', role: 'active' },
        { id: 'k', secret: 'b', role: 'previous' },
      ]),
    ).toThrow(TypeError);
    expect(
      make([
        { id: 'k', secret: 'a', role: 'active' },
        { id: 'k', secret: 'a', role: 'previous' },
      ]),
    ).toThrow(/two key versions have the id "k"/);
    expect(
      make([
        { id: 'a', secret: 'a', role: 'active' },
        { id: 'b', secret: 'b', role: 'active' },
      ]),
    ).toThrow(/two key versions are active/);
    expect(
      make([
        { id: 'a', secret: 'a', role: 'active' },
        { id: 'b', secret: 'b', role: 'previous' },
        { id: 'c', secret: 'c', role: 'pending' },
      ]),
    ).not.toThrow();
  });
});

describe('a previous key without an end is reported (item 8)', () => {
  it('emits previous-key-unbounded once per key version, not per request or per reload', async () => {
    const events: KeyturnEvent[] = [];
    const s = controllableStore();
    let versions: SecretVersion[] = [
      { id: 'new', secret: 'new-token', role: 'active' },
      { id: 'old', secret: 'old-token', role: 'previous' },
    ];
    s.answer(() => versions);
    const v = storeVerifier(s.store, events);
    for (let i = 0; i < 5; i++) await v.verify(scReq(i % 2 === 0 ? 'new-token' : 'old-token'));
    await clock.advance(61_000);
    await v.verify(scReq('old-token'));
    expect(s.calls.length).toBe(2);
    const unbounded = () => events.filter((e) => e.type === 'previous-key-unbounded');
    expect(unbounded()).toEqual([{ type: 'previous-key-unbounded', store: 'ctl', secretId: 'sc', keyId: 'old' }]);
    // A previous key with an end is not reported; the next unbounded one is.
    versions = [
      { id: 'newer', secret: 'newer-token', role: 'active' },
      { id: 'new', secret: 'new-token', role: 'previous', notAfter: clock.now() + 3_600_000 },
      { id: 'old', secret: 'old-token', role: 'previous' },
    ];
    v.invalidate('sc');
    await vi.advanceTimersByTimeAsync(0);
    versions = [
      { id: 'newest', secret: 'newest-token', role: 'active' },
      { id: 'newer', secret: 'newer-token', role: 'previous' },
    ];
    v.invalidate('sc');
    await vi.advanceTimersByTimeAsync(0);
    expect(unbounded().map((e) => (e as { keyId: string }).keyId)).toEqual(['old', 'newer']);
  });

  it('static keys: reported once, even with a secret id per request', async () => {
    const events: KeyturnEvent[] = [];
    const v = createVerifier({
      provider: providers.mobway(),
      keys: [
        { id: 'a', secret: 'new', role: 'active' },
        { id: 'b', secret: 'old', role: 'previous' },
        { id: 'c', secret: 'older', role: 'previous', notAfter: Date.now() + 60_000 },
      ],
      onEvent: (e) => events.push(e),
    });
    for (const secretId of ['t1', 't2', 't3']) {
      await v.verify({ body, headers: { 'x-signature': mac('old', body) }, secretId });
    }
    expect(events).toEqual([{ type: 'previous-key-unbounded', store: 'static', secretId: 't1', keyId: 'b' }]);
  });

  it('signing with the reported key still works: the event is a warning, not a rejection', async () => {
    const v = createVerifier({
      provider: providers.dataspike(),
      keys: [
        { id: 'a', secret: 'whsec_' + '01'.repeat(32), role: 'active' },
        { id: 'b', secret: 'whsec_' + '02'.repeat(32), role: 'previous' },
      ],
    });
    const headers = sign(providers.dataspike(), { body, secret: 'whsec_' + '02'.repeat(32) });
    expect((await v.verify({ body, headers })).keyRole).toBe('previous');
  });
});
