// Standard Webhooks asymmetric signatures (v1a, Ed25519): public keys as key versions (roles,
// windows, rotation), v1 and v1a in one header, sign() with a whsk_ key, cross-checked both ways
// against node:crypto's own Ed25519 (the published Go-library vector is in test/vectors).
import { createPublicKey, generateKeyPairSync, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createVerifier,
  providers,
  SecretMaterial,
  sign,
  signAsync,
  VerificationError,
  type KeyStore,
  type SecretVersion,
} from '../../src/index.ts';

const T = 1_764_000_000;
const NOW = T * 1000;

/** A fresh key pair, as a sender would hand it out: whsk_ (32-byte seed) and whpk_ (32 raw bytes). */
function keyPair(): { whsk: string; whpk: string; privateKey: KeyObject; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(16);
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(12);
  return { whsk: `whsk_${seed.toString('base64')}`, whpk: `whpk_${raw.toString('base64')}`, privateKey, publicKey };
}

const profile = () => providers.standardWebhooks();
const content = (id: string, body: string) => Buffer.from(`${id}.${T}.${body}`);
const headers = (id: string, signature: string) => ({ 'webhook-id': id, 'webhook-timestamp': String(T), 'webhook-signature': signature });
const HMAC_SECRET = 'whsec_' + Buffer.alloc(32, 9).toString('base64');

describe('Standard Webhooks v1a (Ed25519)', () => {
  it('node:crypto signs, keyturn verifies with the whpk_ key; keyturn signs with the whsk_ key, node:crypto verifies', async () => {
    const pair = keyPair();
    const body = '{"type":"user.created","timestamp":"2026-01-01T00:00:00Z","data":{"id":"u_1"}}';
    const verifier = createVerifier({ provider: profile(), keys: pair.whpk, now: () => NOW });
    const theirs = `v1a,${edSign(null, content('msg_1', body), pair.privateKey).toString('base64')}`;
    const result = await verifier.verify({ body, headers: headers('msg_1', theirs) });
    expect([result.keyId, result.keyRole, result.eventId]).toEqual(['default', 'active', 'msg_1']);

    const ours = sign({ provider: profile(), body, secret: pair.whsk, id: 'msg_2', timestamp: T });
    expect(ours['webhook-signature']).toMatch(/^v1a,[A-Za-z0-9+/]{86}==$/);
    expect(edVerify(null, content('msg_2', body), pair.publicKey, Buffer.from(ours['webhook-signature']!.slice(4), 'base64'))).toBe(true);
    expect((await verifier.verify({ body, headers: ours })).keyId).toBe('default');
    // signAsync (the WebCrypto path on edge runtimes) writes the same deterministic signature.
    expect(await signAsync({ provider: profile(), body, secret: pair.whsk, id: 'msg_2', timestamp: T })).toEqual(ours);
  });

  it('agrees with node:crypto on random bodies, ids and tampering (both directions)', async () => {
    const pair = keyPair();
    const verifier = createVerifier({ provider: profile(), keys: pair.whpk, now: () => NOW });
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 200 }),
        fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/),
        fc.boolean(),
        async (body, id, tamper) => {
          const sig = edSign(null, content(id, body), pair.privateKey);
          if (tamper) sig[sig.length - 1] = (sig[sig.length - 1] as number) ^ 1;
          const expected = edVerify(null, content(id, body), pair.publicKey, sig);
          const outcome = await verifier.safeVerify({ body, headers: headers(id, `v1a,${sig.toString('base64')}`) });
          expect(outcome.ok).toBe(expected);
          if (!outcome.ok) expect(outcome.error.code).toBe('NO_MATCHING_KEY');
        },
      ),
      { numRuns: 150 },
    );
  }, 30_000);

  it('rotates public keys like secrets: roles, windows, KEY_EXPIRED, last-matched first, usage per key', async () => {
    const oldPair = keyPair();
    const newPair = keyPair();
    let now = NOW;
    const keys: SecretVersion[] = [
      { id: 'pk-2026', secret: newPair.whpk, role: 'active' },
      { id: 'pk-2025', secret: oldPair.whpk, role: 'previous', notAfter: NOW + 60_000 },
    ];
    const verifier = createVerifier({ provider: profile(), keys, now: () => now, windowLeewayMs: 0 });
    const body = '{"n":1}';
    const byOld = sign({ provider: profile(), body, secret: oldPair.whsk, id: 'm', timestamp: T });
    const byNew = sign({ provider: profile(), body, secret: newPair.whsk, id: 'm', timestamp: T });
    // The sender signs with both during its rotation: v1a and v1a in one header.
    const both = sign({ provider: profile(), body, secret: [oldPair.whsk, newPair.whsk], id: 'm', timestamp: T });
    expect(both['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(await verifier.verify({ body, headers: byOld })).toMatchObject({ keyId: 'pk-2025', keyRole: 'previous' });
    expect(await verifier.verify({ body, headers: byNew })).toMatchObject({ keyId: 'pk-2026', keyRole: 'active' });
    expect((await verifier.verify({ body, headers: both })).keyId).toBe('pk-2026'); // last matched, tried first
    expect(verifier.verifySync({ body, headers: byOld }).keyId).toBe('pk-2025');
    expect(verifier.usage().map((u) => [u.keyId, u.matches])).toEqual([
      ['pk-2026', 2],
      ['pk-2025', 2],
    ]);
    now = NOW + 120_000; // the old key's window is over (the timestamp tolerance still allows the delivery)
    await expect(verifier.verify({ body, headers: byOld })).rejects.toMatchObject({ code: 'KEY_EXPIRED', keyId: 'pk-2025', status: 400 });
    expect((await verifier.verify({ body, headers: both })).keyId).toBe('pk-2026');
  });

  it('v1 (HMAC secret) and v1a (public key) versions in one secret, and both kinds of signature in one header', async () => {
    const pair = keyPair();
    const verifier = createVerifier({
      provider: profile(),
      keys: [
        { id: 'hmac', secret: HMAC_SECRET, role: 'previous' },
        { id: 'ed25519', secret: pair.whpk, role: 'active' },
      ],
      now: () => NOW,
    });
    const body = '{"x":true}';
    const v1 = sign({ provider: profile(), body, secret: HMAC_SECRET, id: 'm1', timestamp: T });
    const v1a = sign({ provider: profile(), body, secret: pair.whsk, id: 'm1', timestamp: T });
    const mixed = sign({ provider: profile(), body, secret: [HMAC_SECRET, pair.whsk], id: 'm1', timestamp: T });
    expect(mixed['webhook-signature']).toBe(`${v1['webhook-signature']} ${v1a['webhook-signature']}`);
    expect((await verifier.verify({ body, headers: v1 })).keyId).toBe('hmac');
    expect((await verifier.verify({ body, headers: v1a })).keyId).toBe('ed25519');
    expect((await verifier.verify({ body, headers: v1 })).keyId).toBe('hmac');
    expect((await verifier.verify({ body, headers: mixed })).keyId).toBe('hmac'); // HMAC first: cheaper
    // A forged v1a next to a forged v1: no key matches.
    const forged = {
      ...mixed,
      'webhook-signature': `v1,${Buffer.alloc(32).toString('base64')} v1a,${Buffer.alloc(64).toString('base64')}`,
    };
    await expect(verifier.verify({ body, headers: forged })).rejects.toMatchObject({ code: 'NO_MATCHING_KEY' });
    expect(
      verifier
        .status()
        .versions.map((v) => v.id)
        .sort(),
    ).toEqual(['ed25519', 'hmac']);
  });

  it('public keys come from a store too, and a whsk_ key is never accepted by a receiver', async () => {
    const pair = keyPair();
    let versions: SecretVersion[] = [{ id: 'v1', secret: pair.whpk, role: 'active' }];
    const store: KeyStore = { name: 'memory', getVersions: async () => versions };
    const verifier = createVerifier({ provider: profile(), keys: store, secretId: 'svix', now: () => NOW });
    const body = '{}';
    expect(
      (await verifier.verify({ body, headers: sign({ provider: profile(), body, secret: pair.whsk, id: 'm', timestamp: T }) })).keyId,
    ).toBe('v1');
    // A stored whsk_ makes the version unusable (INVALID_SECRET, 500), never a verification key.
    versions = [{ id: 'v2', secret: pair.whsk, role: 'active' }];
    const other = createVerifier({ provider: profile(), keys: store, secretId: 'svix', now: () => NOW });
    await expect(
      other.verify({ body, headers: sign({ provider: profile(), body, secret: pair.whsk, id: 'm', timestamp: T }) }),
    ).rejects.toMatchObject({
      code: 'INVALID_SECRET',
      status: 500,
    });
    expect(() => createVerifier({ provider: profile(), keys: pair.whsk })).toThrow(/whsk_ secret key, which only the sender holds/);
  });

  it('refuses malformed keys and keys used for the wrong thing, with messages that never contain them', () => {
    const pair = keyPair();
    const short = `whpk_${Buffer.alloc(31, 1).toString('base64')}`;
    const attempts: [() => unknown, RegExp][] = [
      [() => createVerifier({ provider: profile(), keys: short }), /a whpk_ public key is 32 bytes of base64/],
      [() => createVerifier({ provider: profile(), keys: 'whpk_not base64!' }), /a whpk_ public key is 32 bytes/],
      // A public key cannot sign, and is never read as an HMAC key.
      [() => sign({ provider: profile(), body: '{}', secret: pair.whpk, id: 'm' }), /whpk_ key is an Ed25519 key, not a v1 signing secret/],
      [
        () => sign({ provider: profile(), body: '{}', secret: `whsk_${Buffer.alloc(20).toString('base64')}`, id: 'm' }),
        /whsk_ secret key is base64 of the 32-byte Ed25519 seed/,
      ],
    ];
    for (const [attempt, message] of attempts) {
      let thrown: unknown;
      try {
        attempt();
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(Error);
      expect((thrown as Error).message).toMatch(message);
      for (const key of [short, pair.whpk, pair.whsk]) expect((thrown as Error).message).not.toContain(key.slice(5));
      if (thrown instanceof VerificationError) expect(JSON.stringify(thrown)).not.toContain(pair.whpk.slice(5));
    }
    // A 64-byte whsk_ (seed || public key, libsodium's layout) signs with its seed.
    const seed = Buffer.from(pair.whsk.slice(5), 'base64');
    const raw = createPublicKey(pair.privateKey).export({ format: 'der', type: 'spki' }).subarray(12);
    const long = `whsk_${Buffer.concat([seed, raw]).toString('base64')}`;
    expect(sign({ provider: profile(), body: '{}', secret: long, id: 'm', timestamp: T })).toEqual(
      sign({ provider: profile(), body: '{}', secret: pair.whsk, id: 'm', timestamp: T }),
    );
  });

  it('parses v1a strictly: 64 bytes of base64, at most 8 signatures of both kinds together', async () => {
    const pair = keyPair();
    const verifier = createVerifier({ provider: profile(), keys: pair.whpk, now: () => NOW });
    const body = '{}';
    const good = sign({ provider: profile(), body, secret: pair.whsk, id: 'm', timestamp: T })['webhook-signature']!;
    const run = (signature: string) =>
      verifier.safeVerify({ body, headers: headers('m', signature) }).then((r) => (r.ok ? 'ok' : r.error.code));
    expect(await run(good)).toBe('ok');
    expect(await run(`v1a,${Buffer.alloc(63).toString('base64')} ${good}`)).toBe('MALFORMED_SIGNATURE');
    expect(await run(`v1a,${'*'.repeat(88)} ${good}`)).toBe('MALFORMED_SIGNATURE');
    const v1 = `v1,${Buffer.alloc(32, 1).toString('base64')}`;
    expect(await run(`${Array(7).fill(v1).join(' ')} ${good}`)).toBe('ok');
    expect(await run(`${Array(8).fill(v1).join(' ')} ${good}`)).toBe('MALFORMED_SIGNATURE');
    expect(await run('v2,abc')).toBe('MALFORMED_SIGNATURE'); // neither v1 nor v1a
  });
});

describe('Standard Webhooks v1a: the spec text, and key material never shown', () => {
  // spec/standard-webhooks.md (github.com/standard-webhooks/standard-webhooks), "Signature scheme" and
  // "Webhook headers": the signed content of its example, and its example header with one v1 and one
  // v1a signature. The spec publishes no key for them, so the header is read, not verified.
  const SPEC_ID = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';
  const SPEC_T = 1674087231;
  const SPEC_BODY =
    '{"type":"contact.created","timestamp":"2022-11-03T20:26:10.344522Z","data":{"id":"1f81eb52-5198-4599-803e-771906343485"}}';
  const SPEC_CONTENT = `msg_2KWPBgLlAfxdpx2AI54pPJ85f4W.1674087231.${SPEC_BODY}`;
  const SPEC_HEADER =
    'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4= v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==';

  it("signs the spec's content {id}.{t}.{body} byte for byte (node:crypto verifies over the spec's string)", async () => {
    const pair = keyPair();
    const ours = sign({ provider: profile(), body: SPEC_BODY, secret: pair.whsk, id: SPEC_ID, timestamp: SPEC_T });
    const signature = Buffer.from(ours['webhook-signature']!.slice('v1a,'.length), 'base64');
    expect(edVerify(null, Buffer.from(SPEC_CONTENT), pair.publicKey, signature)).toBe(true);
    const theirs = edSign(null, Buffer.from(SPEC_CONTENT), pair.privateKey).toString('base64');
    const verifier = createVerifier({ provider: profile(), keys: pair.whpk, now: () => SPEC_T * 1000 });
    const headersOf = (signature: string) => ({
      'webhook-id': SPEC_ID,
      'webhook-timestamp': String(SPEC_T),
      'webhook-signature': signature,
    });
    expect((await verifier.verify({ body: SPEC_BODY, headers: headersOf(`v1a,${theirs}`) })).eventId).toBe(SPEC_ID);
    // The spec's own header next to the valid signature: both of its entries are read and skipped.
    expect((await verifier.verify({ body: SPEC_BODY, headers: headersOf(`${SPEC_HEADER} v1a,${theirs}`) })).keyId).toBe('default');
  });

  it("reads the spec's example header: one 32-byte v1 and one 64-byte v1a; a key it was not made with is NO_MATCHING_KEY, not malformed", async () => {
    const parsed = profile().parse({ 'webhook-id': SPEC_ID, 'webhook-timestamp': String(SPEC_T), 'webhook-signature': SPEC_HEADER });
    expect(parsed.signatures.map((s) => s.length)).toEqual([32]);
    expect(parsed.asymmetricSignatures?.map((s) => s.length)).toEqual([64]);
    expect([parsed.prefix, parsed.timestamp, parsed.eventId]).toEqual([`${SPEC_ID}.${SPEC_T}.`, SPEC_T, SPEC_ID]);
    const verifier = createVerifier({
      provider: profile(),
      keys: [
        { id: 'pk', secret: keyPair().whpk, role: 'active' },
        { id: 'hmac', secret: HMAC_SECRET, role: 'previous' },
      ],
      now: () => SPEC_T * 1000,
    });
    const outcome = await verifier.safeVerify({
      body: SPEC_BODY,
      headers: { 'webhook-id': SPEC_ID, 'webhook-timestamp': String(SPEC_T), 'webhook-signature': SPEC_HEADER },
    });
    expect(outcome.ok ? 'ok' : outcome.error.code).toBe('NO_MATCHING_KEY');
  });

  it('a whsk_ secret key is redacted like an HMAC secret: never in errors, events, status, inspect or JSON', async () => {
    const pair = keyPair();
    const seed = pair.whsk.slice(5);
    const material = new SecretMaterial(pair.whsk);
    expect(String(material)).not.toContain(seed);
    expect(inspect(material)).not.toContain(seed);
    expect(JSON.stringify({ material })).not.toContain(seed);
    const shown: string[] = [];
    const show = (value: unknown) => shown.push(inspect(value, { depth: 8, showHidden: true }), JSON.stringify(value) ?? '', String(value));
    // Stored where a receiver's key belongs: an unusable version (500), shown nowhere.
    const store: KeyStore = { name: 'memory', getVersions: async () => [{ id: 'v1', secret: pair.whsk, role: 'active' }] };
    const verifier = createVerifier({
      provider: profile(),
      keys: store,
      secretId: 'svix',
      now: () => NOW,
      onEvent: show,
      onRejected: show,
    });
    const headers = sign({ provider: profile(), body: '{}', secret: material, id: 'm', timestamp: T });
    const outcome = await verifier.safeVerify({ body: '{}', headers });
    expect(outcome.ok ? 'ok' : outcome.error.code).toBe('INVALID_SECRET');
    if (!outcome.ok) show(outcome.error);
    show(verifier.status('svix'));
    show(verifier);
    for (const attempt of [
      () => createVerifier({ provider: profile(), keys: pair.whsk }),
      () => createVerifier({ provider: profile(), keys: material }),
      () => sign({ provider: profile(), body: '{}', secret: `${pair.whsk}AAAA`, id: 'm', timestamp: T }),
    ]) {
      try {
        attempt();
        shown.push('no error');
      } catch (error) {
        show(error);
      }
    }
    expect(shown.length).toBeGreaterThan(8);
    for (const text of shown) {
      expect(text).not.toContain(seed);
      expect(text).not.toContain(Buffer.from(seed, 'base64').toString('hex'));
    }
  });

  it('sign() wipes the whsk_ seed bytes once the signature is made (sync and async)', async () => {
    const pair = keyPair();
    const base = profile();
    const seeds: Uint8Array[] = [];
    const scheme = base.asymmetric!;
    const watched = {
      ...base,
      asymmetric: {
        ...scheme,
        signingKey: (secret: string | Uint8Array) => {
          const seed = scheme.signingKey(secret);
          if (seed !== undefined) seeds.push(seed);
          return seed;
        },
      },
    };
    const input = { provider: watched, body: '{"a":1}', secret: pair.whsk, id: 'm', timestamp: T };
    const signed = sign(input);
    expect(await signAsync(input)).toEqual(signed);
    // Still a valid signature: the seed was read before it was wiped.
    expect(edVerify(null, content('m', '{"a":1}'), pair.publicKey, Buffer.from(signed['webhook-signature']!.slice(4), 'base64'))).toBe(
      true,
    );
    expect(seeds).toHaveLength(2);
    for (const seed of seeds) expect([seed.length, seed.every((b) => b === 0)]).toEqual([32, true]);
  });
});
