import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createVerifier, providers, sign, VerificationError } from '../src/index.ts';
import { decodeBase64, decodeHex, encodeBase64, encodeHex } from '../src/lib/encoding.ts';

const T0 = Date.UTC(2026, 10, 24, 12);
const profiles = {
  smartcar: { make: () => providers.smartcar(), secret: 'amt-' + 'x'.repeat(20), header: 'sc-signature' },
  dataspike: { make: () => providers.dataspike(), secret: 'whsec_' + 'ab'.repeat(32), header: 'x-webhook-signature' },
  mobway: { make: () => providers.mobway(), secret: 'mobway-secret', header: 'x-signature' },
  generic: {
    make: () =>
      providers.hmac({
        header: 'X-Sig',
        encoding: 'base64',
        prefix: 'v1,',
        separator: ' ',
        timestampHeader: 'X-Ts',
        idHeader: 'X-Id',
        signedContent: '{id}.{timestamp}.{body}',
      }),
    secret: 'generic',
    header: 'x-sig',
  },
} as const;

// Header values an attacker might send: random text, near-miss structures, huge values.
const hexChars = fc.constantFrom(...'0123456789abcdefABCDEFxyz'.split(''));
const headerValue = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.array(hexChars, { maxLength: 130 }).map((a) => a.join('')),
  fc
    .tuple(
      fc.integer({ min: -1, max: 3e9 }),
      fc.array(
        fc.array(hexChars, { minLength: 60, maxLength: 66 }).map((a) => a.join('')),
        { maxLength: 10 },
      ),
    )
    .map(([t, sigs]) => [`t=${t}`, ...sigs.map((s) => `v1=${s}`)].join(',')),
  fc.array(fc.constantFrom('t=', 'v1=', ',', '=', ' ', '1', 'a', 'v0=', 'sha256='), { maxLength: 60 }).map((a) => a.join('')),
  fc.constant('v1=' + 'a'.repeat(5000)),
);

describe.each(Object.entries(profiles))('%s header parser (property)', (_name, p) => {
  const verifier = createVerifier({ provider: p.make(), keys: [{ id: 'k', secret: p.secret, role: 'active' }], now: () => T0 });

  it('throws nothing but VerificationError and never accepts a header it did not sign', async () => {
    await fc.assert(
      fc.asyncProperty(headerValue, fc.string({ maxLength: 64 }), headerValue, async (value, body, extra) => {
        const headers = { [p.header]: value, 'x-ts': extra, 'x-id': extra };
        const outcome = await verifier.verify({ body, headers }).then(
          () => 'accepted',
          (e: unknown) => e,
        );
        expect(outcome).toBeInstanceOf(VerificationError);
        expect(() => verifier.verifySync({ body, headers })).toThrow(VerificationError);
      }),
      { numRuns: 400 },
    );
  });

  it('accepts what sign() produced and nothing with a flipped bit', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), fc.nat({ max: 255 }), async (bytes, flip) => {
        const body = Buffer.from(bytes);
        const headers = sign(p.make(), { body, secret: p.secret, timestamp: T0 / 1000, id: 'msg_1' });
        expect((await verifier.verify({ body, headers })).keyId).toBe('k');
        if (body.length > 0) {
          const tampered = Buffer.from(body);
          tampered[flip % body.length]! ^= 1 << (flip % 8);
          await expect(verifier.verify({ body: tampered, headers })).rejects.toBeInstanceOf(VerificationError);
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('signature headers are compared against an independent HMAC', () => {
  it('smartcar: node:crypto hex of the raw body (any case) verifies; anything else does not', async () => {
    const v = createVerifier({ provider: providers.smartcar(), keys: [{ id: 'k', secret: 'tok', role: 'active' }] });
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), fc.boolean(), async (bytes, upper) => {
        const body = Buffer.from(bytes);
        const mac = createHmac('sha256', 'tok').update(body).digest('hex');
        expect((await v.verify({ body, headers: { 'SC-Signature': upper ? mac.toUpperCase() : mac } })).keyId).toBe('k');
      }),
      { numRuns: 100 },
    );
  });
});

describe('strict encodings (property)', () => {
  it('hex round-trips and agrees with Buffer on valid input; rejects odd length and non-hex', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        const h = encodeHex(bytes);
        expect(h).toBe(Buffer.from(bytes).toString('hex'));
        if (bytes.length > 0) {
          expect(Buffer.from(decodeHex(h)!)).toEqual(Buffer.from(bytes));
          expect(Buffer.from(decodeHex(h.toUpperCase())!)).toEqual(Buffer.from(bytes));
          expect(decodeHex(h.slice(1))).toBeUndefined();
          expect(decodeHex(h.slice(0, -1) + 'g')).toBeUndefined();
        }
      }),
    );
  });

  it('base64 round-trips, agrees with Buffer, and rejects non-canonical or unpadded input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 80 }), (bytes) => {
        const b = encodeBase64(bytes);
        expect(b).toBe(Buffer.from(bytes).toString('base64'));
        expect(Buffer.from(decodeBase64(b)!)).toEqual(Buffer.from(bytes));
        expect(encodeBase64(bytes, true)).toBe(Buffer.from(bytes).toString('base64url'));
        if (b.endsWith('=')) expect(decodeBase64(b.replace(/=+$/, ''))).toBeUndefined();
        expect(decodeBase64(b + '*')).toBeUndefined();
      }),
    );
    expect(decodeBase64('QQ==')).toEqual(new Uint8Array([65]));
    expect(decodeBase64('QR==')).toBeUndefined(); // non-zero trailing bits
    expect(decodeBase64('Q===')).toBeUndefined();
  });
});
