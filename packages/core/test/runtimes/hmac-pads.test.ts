/**
 * The hand-built HMAC of the node:crypto backend (RFC 2104 inner/outer pads + one-shot
 * `crypto.hash`, lib/crypto-node.ts) against `createHmac`, the reference: every body length from 0
 * to 8 KiB, keys shorter than, equal to and longer than the block (hashed first), empty keys,
 * unaligned `Uint8Array` views, string bodies with any code unit, and the pads' redaction.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HmacPads, hmacStream, hmacSync, padsCrossover, padsFor } from '../../src/lib/crypto-node.ts';
import type { HmacAlgorithm } from '../../src/lib/crypto-types.ts';
import { createVerifier, providers, sign } from '../../src/index.ts';

const algorithms: HmacAlgorithm[] = ['sha256', 'sha1', 'sha512'];
const BLOCK: Record<HmacAlgorithm, number> = { sha256: 64, sha1: 64, sha512: 128 };
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The reference: one createHmac over prefix then body, as separate updates. */
function reference(alg: HmacAlgorithm, key: Uint8Array, prefix: string | undefined, body: string | Uint8Array): string {
  const h = createHmac(alg, key);
  if (prefix !== undefined) h.update(prefix, 'utf8');
  h.update(body as never);
  return h.digest('hex');
}

/** A view at an odd offset into a larger buffer (not 8-byte aligned, not the whole ArrayBuffer). */
function unaligned(bytes: Uint8Array, offset: number): Uint8Array {
  const backing = new Uint8Array(bytes.length + offset + 3);
  backing.fill(0xa5);
  backing.set(bytes, offset);
  return new Uint8Array(backing.buffer, offset, bytes.length);
}

describe('HMAC from precomputed pads (crypto.hash) vs createHmac', () => {
  it('is on for this Node (the route the benchmarks measure)', () => {
    expect(padsCrossover).toBeGreaterThan(0);
  });

  it('agrees for every body length from 0 to 8 KiB (pads route forced; hmacSync picks its route)', () => {
    const all = randomBytes(8192 + 7);
    for (const alg of algorithms) {
      const key = randomBytes(32);
      const pads = new HmacPads(alg, key);
      for (let len = 0; len <= 8192; len++) {
        // Every length at an offset that changes with it: aligned and unaligned views alike.
        const body = all.subarray(len % 7, (len % 7) + len);
        const want = reference(alg, key, undefined, body);
        expect(hex(pads.mac(undefined, body))).toBe(want);
        if (len % 61 === 0) {
          expect(hex(hmacSync(alg, key, undefined, body))).toBe(want);
          expect(hex(hmacSync(alg, key, `${len}.`, body))).toBe(reference(alg, key, `${len}.`, body));
        }
      }
    }
    // 3 × 8 193 HMAC pairs: ≈1 s on an idle core, several on a loaded shared one (not a timing check).
  }, 60_000);

  it('agrees for keys of every length around the block (longer keys are hashed first) and empty keys', () => {
    const body = randomBytes(1000);
    for (const alg of algorithms) {
      const block = BLOCK[alg];
      for (let len = 0; len <= 2 * block + 2; len++) {
        const key = randomBytes(len);
        expect(hex(new HmacPads(alg, key).mac('1700000000.', body)), `${alg} key ${len} B`).toBe(reference(alg, key, '1700000000.', body));
        expect(hex(hmacSync(alg, key, undefined, body))).toBe(reference(alg, key, undefined, body));
      }
      const long = randomBytes(1000);
      expect(hex(new HmacPads(alg, long).mac(undefined, body))).toBe(reference(alg, long, undefined, body));
    }
  });

  it('agrees for random keys, prefixes and bodies: strings with any code unit (lone surrogates too), unaligned views', () => {
    const anyString = fc.string({ unit: 'binary', maxLength: 400 });
    const bytes = fc.tuple(fc.uint8Array({ maxLength: 6000 }), fc.nat(15)).map(([b, off]) => unaligned(b, off));
    fc.assert(
      fc.property(
        fc.constantFrom(...algorithms),
        fc.tuple(fc.uint8Array({ maxLength: 300 }), fc.nat(15)).map(([k, off]) => unaligned(k, off)),
        fc.option(anyString, { nil: undefined }),
        fc.oneof(anyString, bytes),
        (alg, key, prefix, body) => {
          const want = reference(alg, key, prefix, body);
          expect(hex(hmacSync(alg, key, prefix, body))).toBe(want);
          expect(hex(hmacStream(alg, key, prefix, body))).toBe(want);
          expect(hex(new HmacPads(alg, key).mac(prefix, body))).toBe(want);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('leaves no pad in the shared scratch buffers and does not depend on what a previous call left there', () => {
    const a = randomBytes(32);
    const b = randomBytes(32);
    const big = randomBytes(3000);
    const small = randomBytes(10);
    // A long body, then a short one with another key: stale bytes past the short body must not count.
    expect(hex(hmacSync('sha256', a, 'p.', big))).toBe(reference('sha256', a, 'p.', big));
    expect(hex(hmacSync('sha256', b, undefined, small))).toBe(reference('sha256', b, undefined, small));
    expect(hex(hmacSync('sha256', a, '', small))).toBe(reference('sha256', a, '', small));
  });

  it('caches pads per key-bytes object and hash function', () => {
    const key = randomBytes(16);
    expect(padsFor('sha256', key)).toBe(padsFor('sha256', key));
    expect(padsFor('sha512', key)).not.toBe(padsFor('sha256', key));
    expect(padsFor('sha256', new Uint8Array(key))).not.toBe(padsFor('sha256', key));
    expect(() => padsFor('md5' as HmacAlgorithm, key)).toThrow(TypeError);
  });

  it('keeps the pads redacted: inspect, JSON, String and own enumerable properties never show pad or key bytes', () => {
    const key = Buffer.from('0123456789abcdef0123456789abcdef');
    const pads = padsFor('sha256', key);
    const inner = Buffer.alloc(64);
    key.copy(inner);
    for (let i = 0; i < 64; i++) inner[i] = (inner[i] as number) ^ 0x36;
    const shown = [
      inspect(pads, { showHidden: true, depth: 5 }),
      JSON.stringify({ pads }),
      String(pads),
      `${pads}`,
      JSON.stringify(Object.entries(pads)),
    ];
    for (const text of shown) {
      expect(text).not.toContain(inner.toString('hex').slice(0, 16));
      expect(text).not.toContain(key.toString('hex').slice(0, 16));
      expect(text).not.toContain('0123456789abcdef');
      expect(text).not.toMatch(/\b(54|36|5c|6a),/); // no byte lists
    }
    expect(inspect(pads)).toContain('[redacted]');
  });

  it('a verifier and sign() on the pads route accept and reject exactly like createHmac signatures (dataspike, smartcar)', () => {
    const now = 1_700_000_000;
    const secret = `whsec_${randomBytes(32).toString('hex')}`;
    const key = Buffer.from(secret.slice(6), 'hex');
    const verifier = createVerifier({
      provider: providers.dataspike(),
      keys: [{ id: 'k1', secret, role: 'active' }],
      now: () => now * 1000,
    });
    for (const len of [0, 1, 63, 64, 65, 1024, padsCrossover, padsCrossover + 1, 20_000]) {
      const body = randomBytes(len);
      const header = `t=${now},v1=${createHmac('sha256', key).update(`${now}.`).update(body).digest('hex')}`;
      expect(verifier.verifySync({ body, headers: { 'x-webhook-signature': header } }).keyId).toBe('k1');
      expect(sign(providers.dataspike(), { body, secret, timestamp: now })['x-webhook-signature']).toBe(header);
      const tampered = len > 0 ? Buffer.from(body) : Buffer.from([1]);
      if (len > 0) tampered[len - 1] = (tampered[len - 1] as number) ^ 1;
      expect(() => verifier.verifySync({ body: tampered, headers: { 'x-webhook-signature': header } })).toThrow(/No key matched/);
    }
  });

  it('sign() with a byte secret the caller changes afterwards signs with the new bytes (no stale cached pads)', () => {
    const secret = new Uint8Array(Buffer.from('amt-0000-1111'));
    const body = 'hello';
    const first = sign(providers.smartcar(), { body, secret })['sc-signature'];
    expect(first).toBe(createHmac('sha256', secret).update(body).digest('hex'));
    secret[0] = 0x41;
    const second = sign(providers.smartcar(), { body, secret })['sc-signature'];
    expect(second).toBe(createHmac('sha256', secret).update(body).digest('hex'));
    expect(second).not.toBe(first);
  });
});
