import { createHmac } from 'node:crypto';
import { inspect } from 'node:util';
// The smartcar SDK is an independent oracle for the VERIFY challenge answer.
import smartcarSdk from 'smartcar';
import { describe, expect, it, vi } from 'vitest';
import { createVerifier, providers, sign, VERIFICATION_ERROR_CODES, VerificationError, type SecretVersion } from '../src/index.ts';

const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);
const hex = (key: string | Buffer, msg: string | Buffer) => createHmac('sha256', key).update(msg).digest('hex');
const body = JSON.stringify({ eventId: 'e-1', eventType: 'VEHICLE_STATE', data: { make: 'Škoda' } });

function smartcarVerifier(keys: SecretVersion[], now = () => T0, extra: Record<string, unknown> = {}) {
  return createVerifier({ provider: providers.smartcar(), keys, now, windowLeewayMs: 0, ...extra });
}

describe('rotation windows and ordering', () => {
  const keys: SecretVersion[] = [
    { id: 'new', secret: 'new-token', role: 'active', notBefore: T0 - 10 },
    { id: 'next', secret: 'next-token', role: 'pending' },
    { id: 'old', secret: 'old-token', role: 'previous', notAfter: T0 + 1_000 },
  ];

  it('accepts each key and reports which one matched', async () => {
    const v = smartcarVerifier(keys);
    for (const [secret, id, role] of [
      ['new-token', 'new', 'active'],
      ['next-token', 'next', 'pending'],
      ['old-token', 'old', 'previous'],
    ] as const) {
      const r = await v.verify({ body, headers: { 'sc-signature': hex(secret, body) } });
      expect(r).toEqual({ provider: 'smartcar', secretId: 'default', keyId: id, keyRole: role, timestamp: undefined, eventId: undefined });
    }
  });

  it('accepts a key exactly at both window edges and refuses it one ms outside (KEY_EXPIRED)', async () => {
    let now = T0 + 1_000;
    const v = smartcarVerifier(keys, () => now);
    const headers = { 'sc-signature': hex('old-token', body) };
    expect((await v.verify({ body, headers })).keyId).toBe('old');
    now = T0 + 1_001;
    const err = await v.verify({ body, headers }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VerificationError);
    expect(err).toMatchObject({ code: 'KEY_EXPIRED', keyId: 'old', status: 401 });
    now = T0 - 10;
    expect((await v.verify({ body, headers: { 'sc-signature': hex('new-token', body) } })).keyId).toBe('new');
    now = T0 - 11;
    await expect(v.verify({ body, headers: { 'sc-signature': hex('new-token', body) } })).rejects.toMatchObject({
      code: 'KEY_EXPIRED',
      keyId: 'new',
    });
  });

  it('widens windows by windowLeewayMs on both sides', async () => {
    let now = T0 + 1_500;
    const v = createVerifier({ provider: providers.smartcar(), keys, now: () => now, windowLeewayMs: 500 });
    const headers = { 'sc-signature': hex('old-token', body) };
    expect((await v.verify({ body, headers })).keyId).toBe('old');
    now = T0 + 1_501;
    await expect(v.verify({ body, headers })).rejects.toMatchObject({ code: 'KEY_EXPIRED' });
  });

  it('reports NO_MATCHING_KEY instead of KEY_EXPIRED when reportExpiredKeys is off', async () => {
    const v = smartcarVerifier(keys, () => T0 + 5_000, { reportExpiredKeys: false });
    await expect(v.verify({ body, headers: { 'sc-signature': hex('old-token', body) } })).rejects.toMatchObject({
      code: 'NO_MATCHING_KEY',
    });
  });

  it('counts matches per key with the last match time (usage)', async () => {
    let now = T0;
    const v = smartcarVerifier(keys, () => now);
    await v.verify({ body, headers: { 'sc-signature': hex('old-token', body) } });
    now += 10;
    await v.verify({ body, headers: { 'sc-signature': hex('new-token', body) } });
    await v.verify({ body, headers: { 'sc-signature': hex('new-token', body) } });
    await v.verify({ body, headers: { 'sc-signature': hex('forged', body) } }).catch(() => undefined);
    expect(v.usage()).toEqual([
      expect.objectContaining({ keyId: 'new', keyRole: 'active', matches: 2, lastMatchedAt: T0 + 10 }),
      expect.objectContaining({ keyId: 'next', keyRole: 'pending', matches: 0, lastMatchedAt: undefined }),
      expect.objectContaining({ keyId: 'old', keyRole: 'previous', matches: 1, lastMatchedAt: T0, notAfter: T0 + 1_000 }),
    ]);
  });
});

describe('requests', () => {
  const keys: SecretVersion[] = [{ id: 'k', secret: 'token', role: 'active' }];
  const sig = hex('token', body);

  it('reads headers case-insensitively from Headers, IncomingHttpHeaders and plain records', async () => {
    const v = smartcarVerifier(keys);
    for (const headers of [
      new Headers({ 'SC-Signature': sig }),
      { 'sc-signature': sig, 'content-type': 'application/json' },
      { 'Sc-SiGnAtUrE': sig },
      { 'sc-signature': [sig] },
    ]) {
      expect((await v.verify({ body, headers })).keyId).toBe('k');
    }
  });

  it('hashes the bytes exactly as received (string, Buffer, Uint8Array, ArrayBuffer)', async () => {
    const v = smartcarVerifier(keys);
    const bytes = Buffer.from(body);
    for (const b of [body, bytes, new Uint8Array(bytes), bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)]) {
      expect((await v.verify({ body: b, headers: { 'sc-signature': sig } })).keyId).toBe('k');
    }
    // Bytes that are not valid UTF-8 are hashed as bytes, not transcoded.
    const raw = Buffer.from([0xff, 0xfe, 0x00, 0x41]);
    expect((await v.verify({ body: raw, headers: { 'sc-signature': hex('token', raw) } })).keyId).toBe('k');
    await expect(v.verify({ body: raw.toString('utf8'), headers: { 'sc-signature': hex('token', raw) } })).rejects.toMatchObject({
      code: 'NO_MATCHING_KEY',
    });
  });

  it('rejects a parsed object with BODY_NOT_RAW and a raw-body hint', async () => {
    const v = smartcarVerifier(keys);
    const err = (await v
      .verify({ body: JSON.parse(body) as never, headers: { 'sc-signature': sig } })
      .catch((e: unknown) => e)) as VerificationError;
    expect(err.code).toBe('BODY_NOT_RAW');
    expect(err.status).toBe(500);
    expect(err.hint).toMatch(/raw/);
    await expect(v.verify({ body: undefined as never, headers: {} })).rejects.toMatchObject({ code: 'BODY_NOT_RAW' });
  });

  it('resolves secretId per request (multi-tenant) and per call', async () => {
    const v = createVerifier({
      provider: providers.mobway(),
      keys,
      secretId: (req) => String((req.headers as Record<string, string>)['x-tenant']),
    });
    const r = await v.verify({ body, headers: { 'x-signature': sig, 'x-tenant': 'acme' } });
    expect(r.secretId).toBe('acme');
    expect((await v.verify({ body, headers: { 'x-signature': sig }, secretId: 'other' })).secretId).toBe('other');
  });

  it('verifySync gives the same answers as verify', async () => {
    const v = smartcarVerifier(keys);
    expect(v.verifySync({ body, headers: { 'sc-signature': sig } })).toEqual(await v.verify({ body, headers: { 'sc-signature': sig } }));
    expect(() => v.verifySync({ body: body + 'x', headers: { 'sc-signature': sig } })).toThrow(VerificationError);
  });

  it('safeVerify returns { ok: false, error } instead of throwing', async () => {
    const v = smartcarVerifier(keys);
    const r = await v.safeVerify({ body, headers: {} });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.code).toBe('MISSING_SIGNATURE');
    expect((await v.safeVerify({ body, headers: { 'sc-signature': sig } })).ok).toBe(true);
  });

  it('checks timestamps against receivedAt when given (queued deliveries)', async () => {
    const secret = 'whsec_' + 'aa'.repeat(32);
    const v = createVerifier({ provider: providers.dataspike(), keys: [{ id: 'd', secret, role: 'active' }], now: () => T0 + 3_600_000 });
    const headers = sign(providers.dataspike(), { body, secret, timestamp: T0 / 1000 });
    await expect(v.verify({ body, headers })).rejects.toMatchObject({ code: 'TIMESTAMP_TOO_OLD' });
    expect((await v.verify({ body, headers, receivedAt: T0 + 1_000 })).timestamp).toBe(T0 / 1000);
  });
});

describe('configuration errors fail at construction', () => {
  it('an undecodable Dataspike secret is INVALID_SECRET, naming the key id but not the secret', () => {
    const secret = 'whsec_not-hex-at-all';
    let err: unknown;
    try {
      createVerifier({ provider: providers.dataspike(), keys: [{ id: 'ds-1', secret, role: 'active' }] });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'INVALID_SECRET', keyId: 'ds-1' });
    expect(inspect(err)).not.toContain('not-hex-at-all');
  });

  it('a secret with surrounding whitespace is refused, never trimmed', () => {
    expect(() => createVerifier({ provider: providers.smartcar(), keys: [{ id: 'k', secret: 'token\n', role: 'active' }] })).toThrow(
      /whitespace/,
    );
  });

  it('a bad version shape or a store without secretId is a TypeError', () => {
    expect(() => createVerifier({ provider: providers.smartcar(), keys: [{ id: 'k', secret: 'x', role: 'current' as never }] })).toThrow(
      TypeError,
    );
    // @ts-expect-error -- secretId is required with a store, in the types too
    expect(() => createVerifier({ provider: providers.smartcar(), keys: { name: 's', getVersions: async () => [] } })).toThrow(/secretId/);
  });
});

describe('Smartcar VERIFY', () => {
  const keys: SecretVersion[] = [
    { id: 'new', secret: 'new-amt', role: 'active' },
    { id: 'old', secret: 'old-amt', role: 'previous' },
  ];
  it('answers v4.0 and v2.0 challenges with the active token, matching the smartcar SDK', async () => {
    const v = smartcarVerifier(keys);
    const want = { challenge: smartcarSdk.hashChallenge('new-amt', 'c-123') };
    expect(await v.answerChallenge({ eventType: 'VERIFY', data: { challenge: 'c-123' } })).toEqual(want);
    expect(await v.answerChallenge({ version: '2.0', eventName: 'verify', payload: { challenge: 'c-123' } })).toEqual(want);
    expect(await v.answerChallenge(JSON.stringify({ eventType: 'VERIFY', data: { challenge: 'c-123' } }))).toEqual(want);
    expect(v.isChallenge(Buffer.from(JSON.stringify({ eventType: 'VERIFY', data: { challenge: 'x' } })))).toBe(true);
    expect(v.isChallenge({ eventType: 'VEHICLE_STATE' })).toBe(false);
    await expect(v.answerChallenge({ eventType: 'VEHICLE_STATE' })).rejects.toThrow(TypeError);
  });
  it('matches the published hashChallenge vector', async () => {
    const v = smartcarVerifier([{ id: 'a', secret: 'amt', role: 'active' }]);
    expect(await v.answerChallenge({ eventType: 'VERIFY', data: { challenge: 'challenge' } })).toEqual({
      challenge: '9baf5a7464bd86740ad5a06e439dcf535a075022ed2c92d74efacf646d79328e',
    });
  });
});

describe('sign', () => {
  it('emits a multi-signature Dataspike header that verifies with either key', async () => {
    const a = 'whsec_' + '01'.repeat(32);
    const b = 'whsec_' + '02'.repeat(32);
    const headers = sign(providers.dataspike(), { body, secret: [a, b], timestamp: T0 / 1000 });
    expect(headers['x-webhook-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    for (const s of [a, b]) {
      const v = createVerifier({ provider: providers.dataspike(), keys: [{ id: 'x', secret: s, role: 'active' }], now: () => T0 });
      expect((await v.verify({ body, headers })).keyId).toBe('x');
    }
  });
  it('refuses several secrets for single-signature schemes', () => {
    expect(() => sign(providers.smartcar(), { body, secret: ['a', 'b'] })).toThrow(TypeError);
  });
});

describe('no secret, signature or body in any error output', () => {
  it.each([...VERIFICATION_ERROR_CODES])('%s carries only safe fields', (code) => {
    const e = new VerificationError(code, 'm', { provider: 'p', secretId: 's' });
    expect(Object.keys(e.toJSON()).sort()).toEqual(
      ['cause', 'code', 'hint', 'keyId', 'message', 'name', 'provider', 'secretId', 'status'].sort(),
    );
  });

  it('rejections never echo the secret, the expected signature or the body', async () => {
    const secret = 'super-secret-token-value';
    const onRejected = vi.fn();
    const v = createVerifier({
      provider: providers.smartcar(),
      keys: [{ id: 'k', secret, role: 'active', notAfter: T0 - 1 }],
      now: () => T0,
      windowLeewayMs: 0,
      onRejected,
    });
    const expected = hex(secret, body);
    const forged = 'ab'.repeat(32);
    const outputs: string[] = [];
    for (const headers of [{ 'sc-signature': forged }, { 'sc-signature': expected }, { 'sc-signature': 'zz' }, {}]) {
      const err = await v.verify({ body, headers }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VerificationError);
      outputs.push(inspect(err, { depth: 5 }), JSON.stringify(err), String(err), (err as Error).stack ?? '');
    }
    outputs.push(inspect(v, { depth: 6 }), JSON.stringify(onRejected.mock.calls));
    const all = outputs.join('\n');
    expect(all).not.toContain(secret);
    expect(all).not.toContain(expected);
    expect(all).not.toContain(forged);
    expect(all).not.toContain('Škoda');
    expect(onRejected.mock.calls.map((c) => c[0].code)).toEqual([
      'NO_MATCHING_KEY',
      'KEY_EXPIRED',
      'MALFORMED_SIGNATURE',
      'MISSING_SIGNATURE',
    ]);
    expect(onRejected.mock.calls[1]![0]).toMatchObject({ keyId: 'k', keyRole: 'active' });
  });

  it('hooks receive ids and roles only', async () => {
    const onVerified = vi.fn();
    const onRejected = vi.fn();
    const v = createVerifier({
      provider: providers.mobway(),
      keys: [{ id: 'k', secret: 's3cr3t-value', role: 'active' }],
      onVerified,
      onRejected,
    });
    await v.verify({ body, headers: { 'x-signature': hex('s3cr3t-value', body) } });
    await v.verify({ body, headers: { 'x-signature': hex('nope', body) } }).catch(() => undefined);
    expect(onVerified).toHaveBeenCalledWith({ provider: 'mobway', secretId: 'default', keyId: 'k', keyRole: 'active' });
    expect(onRejected).toHaveBeenCalledWith(expect.objectContaining({ provider: 'mobway', secretId: 'default', code: 'NO_MATCHING_KEY' }));
  });

  it('a throwing hook never breaks verification', async () => {
    const v = createVerifier({
      provider: providers.mobway(),
      keys: [{ id: 'k', secret: 's', role: 'active' }],
      onVerified: () => {
        throw new Error('metrics down');
      },
    });
    expect((await v.verify({ body, headers: { 'x-signature': hex('s', body) } })).keyId).toBe('k');
  });
});

describe('rejection cost', () => {
  it('request rejections carry no stack frames (cheap under a flood); server-side errors keep theirs', async () => {
    const v = createVerifier({ provider: providers.mobway(), keys: [{ id: 'k', secret: 's', role: 'active' }] });
    const rejection = (await v.verify({ body, headers: { 'x-signature': 'zz' } }).catch((e: unknown) => e)) as VerificationError;
    expect(rejection.code).toBe('MALFORMED_SIGNATURE');
    expect(rejection.stack?.split('\n').filter((l) => l.trim().startsWith('at '))).toEqual([]);
    const forged = (await v.verify({ body, headers: { 'x-signature': 'ab'.repeat(32) } }).catch((e: unknown) => e)) as VerificationError;
    expect(forged.stack?.includes('    at ')).toBe(false);
    const serverSide = (await v.verify({ body: {} as never, headers: {} }).catch((e: unknown) => e)) as VerificationError;
    expect(serverSide.code).toBe('BODY_NOT_RAW');
    expect(serverSide.stack?.includes('    at ')).toBe(true);
    expect(Error.stackTraceLimit).toBeGreaterThan(0); // restored
  });
});
