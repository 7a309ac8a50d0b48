/**
 * Every numeric option and input of core (issue 12, item 7): finite and in range, or a TypeError at
 * creation / a typed rejection per request — never coerced, never a check silently turned off.
 * (The adapters' own options are checked in test/adapters.)
 */
import { describe, expect, it } from 'vitest';
import {
  createVerifier,
  memoryReplayStore,
  providers,
  sign,
  VerificationError,
  type KeyStore,
  type ProviderProfile,
  type SecretVersion,
} from '../src/index.ts';
import { mac } from './support/stores.ts';

/** Values no numeric option accepts. */
const NOT_NUMBERS: unknown[] = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, '1000', null, true, {}];

const store: KeyStore = { name: 'x', getVersions: async () => [{ id: 'k', secret: 'token', role: 'active' }] };
const keys: SecretVersion[] = [{ id: 'k', secret: 'token', role: 'active' }];

/** Each option with values out of its range and one in range. */
const VERIFIER_OPTIONS: [string, (v: unknown) => unknown, unknown[], unknown][] = [
  ['windowLeewayMs', (v) => createVerifier({ provider: providers.smartcar(), keys, windowLeewayMs: v as number }), [-1, 3_600_001], 0],
  [
    'reportExpiredKeys',
    (v) => createVerifier({ provider: providers.smartcar(), keys, reportExpiredKeys: v as boolean }),
    ['yes', 1],
    false,
  ],
];
const cacheCase = (name: string) => (v: unknown) =>
  createVerifier({ provider: providers.smartcar(), keys: store, secretId: 's', cache: { [name]: v } });
const CACHE_OPTIONS: [string, unknown[], unknown][] = [
  ['ttlMs', [-1, 2_147_483_648], 0],
  ['maxStaleMs', [-1, 2_147_483_648], 0],
  ['refreshCooldownMs', [-1, 2_147_483_648], 0],
  ['loadTimeoutMs', [-1, 2_147_483_648], 0],
  ['storeTimeoutMs', [0, -1, 2_147_483_648, 3e9], 1],
  ['maxSecrets', [0, 1.5, 100_001, 1e9], 1],
  ['jitter', [-0.1, 0.9, 1], 0.8],
  ['errorBackoffMs', [-1, 2_147_483_648], 0],
  ['negativeTtlMs', [-1, 2_147_483_648], 0],
  ['coldLoadBurst', [0, 2.5, 1_000_001], 1],
  ['coldLoadsPerSecond', [0, 0.001, -1, 1_000_001], 0.01],
  ['serveStaleOnTerminalError', ['false', 0], false],
];
const replayCase =
  (name: string, provider: ProviderProfile = providers.dataspike()) =>
  (v: unknown) =>
    createVerifier({ provider, keys: [], replay: { store: memoryReplayStore(), [name]: v } });
const REPLAY_OPTIONS: [string, (v: unknown) => unknown, unknown[], unknown][] = [
  ['replay.ttlMs', replayCase('ttlMs', providers.mobway()), [0, -1, 31_536_000_001], 1],
  ['replay.ttlMs', replayCase('ttlMs'), [359_999], 360_000],
  ['replay.clockSkewMs', replayCase('clockSkewMs'), [-1, 3_600_001], 0],
  ['replay.duplicateStatus', replayCase('duplicateStatus'), [199, 600, 409.5], 200],
  ['replay.failOpen', replayCase('failOpen'), ['true'], true],
  ['max', (v) => memoryReplayStore({ max: v as number }), [0, 1.5, 10_000_001], 1],
];
type Factory = (o: Record<string, unknown>) => ProviderProfile;
const PROFILES: [string, Factory, string[]][] = [
  ['dataspike', providers.dataspike as Factory, ['toleranceMs', 'futureToleranceMs', 'rejectStatus']],
  ['stripe', providers.stripe as Factory, ['toleranceMs', 'futureToleranceMs', 'rejectStatus']],
  ['slack', providers.slack as Factory, ['toleranceMs', 'futureToleranceMs', 'rejectStatus']],
  ['standardWebhooks', providers.standardWebhooks as Factory, ['toleranceMs', 'futureToleranceMs', 'rejectStatus', 'strictKeyLength']],
  ['smartcar', providers.smartcar as Factory, ['rejectStatus']],
  ['mobway', providers.mobway as Factory, ['rejectStatus']],
  ['github', providers.github as Factory, ['rejectStatus', 'deliveryIdAsEventId']],
  ['shopify', providers.shopify as Factory, ['rejectStatus', 'webhookIdAsEventId']],
  [
    'hmac',
    ((o) =>
      providers.hmac({ header: 'X-Sig', encoding: 'hex', timestampHeader: 'X-Ts', signedContent: '{timestamp}.{body}', ...o })) as Factory,
    ['toleranceMs', 'futureToleranceMs', 'rejectStatus'],
  ],
];
const PROFILE_RANGES: Record<string, [unknown[], unknown]> = {
  toleranceMs: [[0, 999, 604_800_001], 1_000],
  futureToleranceMs: [[-1, 604_800_001, Number.MAX_SAFE_INTEGER], 0],
  rejectStatus: [[200, 399, 600, 401.5], 599],
  strictKeyLength: [['no'], false],
  deliveryIdAsEventId: [['no'], false],
  webhookIdAsEventId: [['no'], false],
};

function expectTypeError(fn: () => unknown, name: string) {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, `${name} should be refused`).toBeInstanceOf(TypeError);
  expect((err as Error).message).toContain(name.split('.').pop());
}

describe('numeric options are finite and in range, or a TypeError at creation', () => {
  for (const [name, make, outOfRange, good] of VERIFIER_OPTIONS) {
    it(`createVerifier({ ${name} })`, () => {
      for (const v of [...(name === 'reportExpiredKeys' ? ['1', null] : NOT_NUMBERS), ...outOfRange]) expectTypeError(() => make(v), name);
      expect(() => make(good)).not.toThrow();
    });
  }
  for (const [name, outOfRange, good] of CACHE_OPTIONS) {
    it(`createVerifier({ cache: { ${name} } }), with a store and with static keys`, () => {
      const bad = [...(name === 'serveStaleOnTerminalError' ? [null, 1] : NOT_NUMBERS), ...outOfRange];
      for (const v of bad) expectTypeError(() => cacheCase(name)(v), `cache.${name}`);
      // Static keys read maxSecrets too; every cache option is checked either way.
      for (const v of bad)
        expectTypeError(() => createVerifier({ provider: providers.smartcar(), keys, cache: { [name]: v } }), `cache.${name}`);
      expect(() => cacheCase(name)(good)).not.toThrow();
    });
  }
  for (const [name, make, outOfRange, good] of REPLAY_OPTIONS) {
    it(`${name} (${String(good)} accepted)`, () => {
      const bad = [...(name === 'replay.failOpen' ? [1, null] : NOT_NUMBERS), ...outOfRange];
      for (const v of bad) expect(() => make(v), `${name} = ${String(v)}`).toThrow(TypeError);
      expect(() => make(good)).not.toThrow();
    });
  }
  for (const [profile, factory, options] of PROFILES) {
    for (const option of options) {
      it(`providers.${profile}({ ${option} })`, () => {
        const [outOfRange, good] = PROFILE_RANGES[option]!;
        const bad = [...(typeof good === 'boolean' ? [1, null] : NOT_NUMBERS), ...outOfRange];
        for (const v of bad) expectTypeError(() => factory({ [option]: v }), option);
        expect(() => factory({ [option]: good })).not.toThrow();
      });
    }
  }

  it('a hand-written profile: reject status and tolerances are checked by createVerifier', () => {
    const base = providers.dataspike();
    const make = (p: Partial<ProviderProfile>) => () => createVerifier({ provider: { ...base, ...p } as ProviderProfile, keys: [] });
    expect(make({ rejectStatus: Number.NaN })).toThrow(/rejectStatus/);
    expect(make({ rejectStatus: 200 })).toThrow(/rejectStatus/);
    expect(make({ timestampTolerance: { pastMs: Number.NaN, futureMs: 0 } })).toThrow(/toleranceMs/);
    expect(make({ timestampTolerance: { pastMs: 300_000, futureMs: Number.POSITIVE_INFINITY } })).toThrow(/futureToleranceMs/);
    expect(make({ timestampTolerance: { pastMs: 300_000 } as never })).toThrow(/pastMs and futureMs/);
    expect(make({ timestampTolerance: undefined })).not.toThrow();
  });

  it('the clock: now() must return epoch ms', () => {
    for (const v of [...NOT_NUMBERS, -1, 8.64e15 + 1, undefined]) {
      expect(() => createVerifier({ provider: providers.smartcar(), keys, now: () => v as number })).toThrow(/now\(\)/);
    }
    expect(() => createVerifier({ provider: providers.smartcar(), keys, now: 5 as never })).toThrow(TypeError);
  });

  it('sign({ timestamp }) must be whole unix seconds the parsers accept', () => {
    for (const timestamp of [...NOT_NUMBERS.filter((v) => v !== null), -1, 1.5, 1e12]) {
      expect(() => sign(providers.dataspike(), { body: 'b', secret: 'whsec_' + '00'.repeat(32), timestamp: timestamp as number })).toThrow(
        /timestamp/,
      );
    }
    expect(() => sign(providers.dataspike(), { body: 'b', secret: 'whsec_' + '00'.repeat(32), timestamp: 999_999_999_999 })).not.toThrow();
  });

  it('sign({ id }) refuses an id its own parse() would refuse (empty, or over 256 characters)', () => {
    const withId = providers.hmac({ header: 'X-Sig', encoding: 'hex', idHeader: 'X-Id', signedContent: '{id}.{body}' });
    const sw = providers.standardWebhooks();
    const swSecret = 'whsec_' + Buffer.alloc(32, 1).toString('base64');
    for (const id of ['', 'x'.repeat(257)]) {
      expect(() => sign(withId, { body: 'b', secret: 's', id })).toThrow(TypeError);
      expect(() => sign(sw, { body: 'b', secret: swSecret, id, timestamp: 1_700_000_000 })).toThrow(TypeError);
    }
    const ok = sign(withId, { body: 'b', secret: 's', id: 'x'.repeat(256) });
    expect(withId.parse(ok).eventId).toHaveLength(256);
    expect(sw.parse(sign(sw, { body: 'b', secret: swSecret, id: 'm'.repeat(256), timestamp: 1_700_000_000 })).eventId).toHaveLength(256);
  });

  it('memoryReplayStore: claim(ttlMs) and now are checked', () => {
    const s = memoryReplayStore();
    for (const ttl of [Number.NaN, Number.POSITIVE_INFINITY, 0, -1]) expect(() => s.claim('k', ttl)).toThrow(TypeError);
    expect(() => memoryReplayStore({ now: 1 as never })).toThrow(TypeError);
  });
});

describe('per-request numbers: a typed rejection, never a check turned off', () => {
  const T0 = Date.UTC(2026, 10, 24, 12);
  const secret = 'whsec_' + 'aa'.repeat(32);
  const body = '{"id":"evt_1"}';
  // Signed a day before the clock: only a working timestamp check refuses it.
  const stale = sign(providers.dataspike(), { body, secret, timestamp: T0 / 1000 - 86_400 });

  it('receivedAt: NaN, a string, Infinity, a negative number are INVALID_INPUT (500) — the stale request is never accepted', async () => {
    const rejected: string[] = [];
    const v = createVerifier({
      provider: providers.dataspike(),
      keys: [{ id: 'd', secret, role: 'active' }],
      now: () => T0,
      onRejected: (r) => rejected.push(r.code),
    });
    for (const receivedAt of [Number.NaN, '1764000000000', Number.POSITIVE_INFINITY, -1, null, 8.64e15 + 1]) {
      const err = await v.verify({ body, headers: stale, receivedAt: receivedAt as number }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VerificationError);
      expect(err).toMatchObject({ code: 'INVALID_INPUT', status: 500 });
      expect((err as Error).message).toContain('receivedAt');
      expect(() => v.verifySync({ body, headers: stale, receivedAt: receivedAt as number })).toThrow(
        expect.objectContaining({ code: 'INVALID_INPUT' }),
      );
    }
    await expect(v.verify({ body, headers: stale })).rejects.toMatchObject({ code: 'TIMESTAMP_TOO_OLD' });
    expect((await v.verify({ body, headers: stale, receivedAt: T0 - 86_400_000 + 1_000 })).keyId).toBe('d');
    expect(rejected.filter((c) => c === 'INVALID_INPUT')).toHaveLength(12);
  });

  it('a clock that starts returning NaN is INVALID_INPUT, not a disabled timestamp check', async () => {
    let t: number = T0;
    const v = createVerifier({ provider: providers.dataspike(), keys: [{ id: 'd', secret, role: 'active' }], now: () => t });
    t = Number.NaN;
    await expect(v.verify({ body, headers: stale })).rejects.toMatchObject({ code: 'INVALID_INPUT', status: 500 });
    await expect(v.verify({ body, headers: stale })).rejects.toThrow(/clock/);
  });

  it('windowLeewayMs cannot re-enable long-expired keys', async () => {
    const keysWithOld: SecretVersion[] = [{ id: 'old', secret: 'old-token', role: 'previous', notAfter: T0 - 365 * 86_400_000 }];
    expect(() => createVerifier({ provider: providers.smartcar(), keys: keysWithOld, windowLeewayMs: Number.POSITIVE_INFINITY })).toThrow(
      TypeError,
    );
    const v = createVerifier({ provider: providers.smartcar(), keys: keysWithOld, now: () => T0, windowLeewayMs: 3_600_000 });
    const b = '{"eventId":"x"}';
    await expect(v.verify({ body: b, headers: { 'sc-signature': mac('old-token', b) } })).rejects.toMatchObject({ code: 'KEY_EXPIRED' });
  });

  it('a secretId that is not a non-empty string is INVALID_INPUT (from the request or from the function)', async () => {
    const b = '{"eventId":"x"}';
    const headers = { 'sc-signature': mac('token', b) };
    const v = createVerifier({
      provider: providers.smartcar(),
      keys,
      secretId: (req) => (req.headers as Record<string, string>)['x-tenant'] as string,
    });
    for (const tenant of [undefined, '', 'x'.repeat(1025)]) {
      await expect(
        v.verify({ body: b, headers: { ...headers, ...(tenant === undefined ? {} : { 'x-tenant': tenant }) } }),
      ).rejects.toMatchObject({ code: 'INVALID_INPUT', status: 500 });
    }
    for (const secretId of [42, '', {}]) {
      await expect(v.verify({ body: b, headers, secretId: secretId as string })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    }
    expect((await v.verify({ body: b, headers: { ...headers, 'x-tenant': 'acme' } })).secretId).toBe('acme');
    expect(() => createVerifier({ provider: providers.smartcar(), keys, secretId: '' })).toThrow(TypeError);
    expect(() => createVerifier({ provider: providers.smartcar(), keys, secretId: 7 as never })).toThrow(TypeError);
  });

  it('store versions with a window that is not a number are refused as a bad result, not used', async () => {
    for (const notAfter of [Number.NaN, '2026-01-01']) {
      const bad: KeyStore = {
        name: 'bad',
        getVersions: async () => [{ id: 'k', secret: 'token', role: 'previous', notAfter: notAfter as number }],
      };
      const v = createVerifier({ provider: providers.smartcar(), keys: bad, secretId: 's' });
      await expect(v.verify({ body: 'x', headers: { 'sc-signature': mac('token', 'x') } })).rejects.toMatchObject({
        code: 'KEYSTORE_MISCONFIGURED',
      });
      expect(v.status('s').lastError).toMatchObject({ reason: 'INVALID_FORMAT', code: 'BAD_RESULT' });
    }
  });
});
