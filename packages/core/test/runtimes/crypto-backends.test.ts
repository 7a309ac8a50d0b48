/**
 * Differential test of the two crypto backends: node:crypto (lib/crypto-node.ts) and WebCrypto
 * (lib/crypto-web.ts) must give identical digests (and Ed25519 signatures), and a verifier on each
 * must give identical outcomes, for random bodies, secrets, prefixes and signature headers.
 */
import { createHmac, createPrivateKey, createPublicKey, sign as edSign, verify as edVerify } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import * as nodeBackend from '../../src/lib/crypto-node.ts';
import * as webBackend from '../../src/lib/crypto-web.ts';
import type { HmacAlgorithm } from '../../src/lib/crypto-types.ts';
import type * as Core from '../../src/index.ts';

const algorithms: HmacAlgorithm[] = ['sha256', 'sha1', 'sha512'];
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The core module graph twice: once on the node backend, once with `#crypto` pointing at the web backend. */
async function loadCores(): Promise<{ node: typeof Core; web: typeof Core }> {
  vi.resetModules();
  const node = await import('../../src/index.ts');
  vi.resetModules();
  vi.doMock('#crypto', () => import('../../src/lib/crypto-web.ts'));
  const web = await import('../../src/index.ts');
  vi.doUnmock('#crypto');
  vi.resetModules();
  return { node, web };
}

// Strings with any code unit, lone surrogates included: both backends must encode them the same way.
const anyString = fc.string({ unit: 'binary', maxLength: 300 });
const body = fc.oneof(anyString, fc.uint8Array({ maxLength: 2048 }));
const keyBytes = fc.uint8Array({ minLength: 1, maxLength: 200 });

describe('crypto backends: node:crypto vs WebCrypto', () => {
  it('report what they are', () => {
    expect([nodeBackend.backendName, nodeBackend.hasSyncHmac]).toEqual(['node:crypto', true]);
    expect([webBackend.backendName, webBackend.hasSyncHmac]).toEqual(['webcrypto', false]);
    expect(() => webBackend.hmacSync('sha256', new Uint8Array([1]), undefined, 'x')).toThrow(/not available on WebCrypto/);
  });

  it('give identical digests for random keys, prefixes and bodies (strings and bytes, any algorithm)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...algorithms),
        keyBytes,
        fc.option(anyString, { nil: undefined }),
        body,
        async (alg, key, prefix, b) => {
          const n = nodeBackend.hmacSync(alg, key, prefix, b);
          const w = await webBackend.hmacAsync(alg, key, prefix, b);
          expect(hex(w)).toBe(hex(n));
          // Third opinion, independent of both modules: one createHmac over the concatenated bytes.
          const ref = createHmac(alg, key);
          ref.update(Buffer.concat([Buffer.from(prefix ?? '', 'utf8'), typeof b === 'string' ? Buffer.from(b, 'utf8') : b]));
          expect(hex(w)).toBe(ref.digest('hex'));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('hash exactly a view, not its whole underlying buffer (pooled Buffers, subarrays)', async () => {
    const pool = new Uint8Array(64).map((_, i) => i);
    const view = pool.subarray(10, 20);
    const key = pool.subarray(30, 40);
    expect(hex(await webBackend.hmacAsync('sha256', key, 'p.', view))).toBe(hex(nodeBackend.hmacSync('sha256', key, 'p.', view)));
  });

  it('cache one imported CryptoKey per key-bytes object and hash', async () => {
    const spy = vi.spyOn(globalThis.crypto.subtle, 'importKey');
    try {
      const key = new Uint8Array([9, 9, 9]);
      await Promise.all([1, 2, 3].map((i) => webBackend.hmacAsync('sha256', key, undefined, String(i))));
      await webBackend.hmacAsync('sha256', key, undefined, 'again');
      expect(spy).toHaveBeenCalledTimes(1);
      await webBackend.hmacAsync('sha512', key, undefined, 'x');
      expect(spy).toHaveBeenCalledTimes(2);
      // Equal bytes in another object: another version, another import.
      await webBackend.hmacAsync('sha256', new Uint8Array([9, 9, 9]), undefined, 'x');
      expect(spy).toHaveBeenCalledTimes(3);
    } finally {
      spy.mockRestore();
    }
  });

  it('equalBytes agree, and differ on any single flipped bit', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.nat(), (a, pos) => {
        const b = a.slice();
        expect(webBackend.equalBytes(a, b)).toBe(true);
        expect(nodeBackend.equalBytes(a, b)).toBe(true);
        const i = pos % a.length;
        b[i] = (b[i] as number) ^ (1 << (pos % 8));
        expect(webBackend.equalBytes(a, b)).toBe(false);
        expect(nodeBackend.equalBytes(a, b)).toBe(false);
        expect(webBackend.equalBytes(a, a.subarray(1))).toBe(false);
      }),
    );
  });

  it('give identical verify outcomes for random bodies, secrets and headers (smartcar, mobway, dataspike, sha512/base64)', async () => {
    const { node, web } = await loadCores();
    const { backendName: webName } = await (async () => {
      vi.resetModules();
      vi.doMock('#crypto', () => import('../../src/lib/crypto-web.ts'));
      const m = await import('../../src/lib/crypto.ts');
      vi.doUnmock('#crypto');
      return m;
    })();
    expect(webName).toBe('webcrypto');

    const now = 1_700_000_000_000;
    type P = (c: typeof Core) => Core.ProviderProfile;
    const profiles: { name: string; make: P; secret: fc.Arbitrary<string> }[] = [
      {
        name: 'smartcar',
        make: (c) => c.providers.smartcar(),
        secret: fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim() === s && s.length > 0),
      },
      {
        name: 'mobway',
        make: (c) => c.providers.mobway(),
        secret: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).filter((s) => s.trim() === s && s.length > 0),
      },
      {
        name: 'dataspike',
        make: (c) => c.providers.dataspike(),
        secret: fc.uint8Array({ minLength: 16, maxLength: 32 }).map((b) => 'whsec_' + hex(b)),
      },
      {
        name: 'acme-sha512',
        make: (c) =>
          c.providers.hmac({
            name: 'acme',
            header: 'X-Acme-Sig',
            encoding: 'base64',
            prefix: 'v1=',
            algorithm: 'sha512',
            timestampHeader: 'X-Acme-Ts',
            signedContent: '{timestamp}:{body}',
          }),
        secret: fc.string({ minLength: 1, maxLength: 30 }).filter((s) => s.trim() === s && s.length > 0),
      },
    ];

    const mutation = fc.constantFrom('valid', 'old-key', 'unknown-key', 'flip-body', 'flip-sig', 'garbage', 'missing', 'stale-ts');
    for (const p of profiles) {
      await fc.assert(
        fc.asyncProperty(p.secret, p.secret, p.secret, body, mutation, fc.nat(), async (active, previous, stranger, b, how, n) => {
          const keys = [
            { id: 'k-active', secret: active, role: 'active' as const },
            { id: 'k-prev', secret: previous, role: 'previous' as const },
          ];
          const signer = how === 'old-key' ? previous : how === 'unknown-key' ? stranger : active;
          const ts = how === 'stale-ts' ? now / 1000 - 3600 : now / 1000;
          let headers: Record<string, string> = node.sign(p.make(node), { body: b, secret: signer, timestamp: ts });
          let sent: string | Uint8Array = b;
          if (how === 'flip-body') sent = typeof b === 'string' ? b + 'x' : Uint8Array.from([...b, n & 255]);
          const sigHeader = p.make(node).headerNames[0] as string;
          if (how === 'flip-sig') {
            const v = headers[sigHeader] as string;
            const i = v.length - 1 - (n % 8);
            headers = { ...headers, [sigHeader]: v.slice(0, i) + (v[i] === 'a' ? 'b' : 'a') + v.slice(i + 1) };
          }
          if (how === 'garbage') headers = { ...headers, [sigHeader]: String(n) };
          if (how === 'missing') headers = {};

          const run = async (c: typeof Core) => {
            const v = c.createVerifier({ provider: p.make(c), keys, now: () => now });
            const r = await v.safeVerify({ body: sent, headers });
            return r.ok ? { ok: true, keyId: r.keyId, keyRole: r.keyRole } : { ok: false, code: r.error.code, status: r.error.status };
          };
          const [a, w] = [await run(node), await run(web)];
          expect(w).toEqual(a);
          if (how === 'valid') expect(a).toMatchObject({ ok: true, keyId: 'k-active' });
        }),
        { numRuns: 60 },
      );
    }

    // Published Smartcar vector and VERIFY answer on both.
    for (const c of [node, web]) {
      const v = c.createVerifier({ provider: c.providers.smartcar(), keys: [{ id: 'amt', secret: 'amt', role: 'active' }] });
      expect(
        (
          await v.verify({
            body: '{"pizza":"pasta"}',
            headers: { 'sc-signature': '4c05a8da471f05156ad717baa4017acd13a3a809850b9ca7d3301dcaaa854f70' },
          })
        ).keyId,
      ).toBe('amt');
      expect(await v.answerChallenge({ eventType: 'VERIFY', data: { challenge: 'challenge' } })).toEqual({
        challenge: '9baf5a7464bd86740ad5a06e439dcf535a075022ed2c92d74efacf646d79328e',
      });
    }
    // verifySync is a typed rejection on the web backend.
    const wv = web.createVerifier({ provider: web.providers.mobway(), keys: [{ id: 'k', secret: 's', role: 'active' }] });
    expect(() => wv.verifySync({ body: '{}', headers: { 'x-signature': '00'.repeat(32) } })).toThrow(/needs node:crypto/);
    // ...and the node-backed graph really is on node:crypto (the comparison above was not node vs node).
    expect(() => web.sign(web.providers.mobway(), { body: '{}', secret: 's' })).toThrow(/needs node:crypto/);
    expect(node.sign(node.providers.mobway(), { body: '{}', secret: 's' })).toHaveProperty('x-signature');
    // Two module graphs and 240 property runs: seconds on a loaded 2-core machine, not a hang.
  }, 30_000);
});

describe('Ed25519 (Standard Webhooks v1a): node:crypto vs WebCrypto', () => {
  const PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex');
  const seed = fc.uint8Array({ minLength: 32, maxLength: 32 });

  it('sign identically (Ed25519 is deterministic), derive the same public key, and verify each other, for random seeds and messages', async () => {
    await fc.assert(
      fc.asyncProperty(seed, fc.option(anyString, { nil: undefined }), body, async (s, prefix, b) => {
        const n = nodeBackend.ed25519SignSync(s, prefix, b);
        const w = await webBackend.ed25519SignAsync(s, prefix, b);
        expect(hex(w)).toBe(hex(n));
        // Third opinion: node:crypto directly, over the concatenated bytes.
        const key = createPrivateKey({ key: Buffer.concat([PKCS8, s]), format: 'der', type: 'pkcs8' });
        const message = Buffer.concat([Buffer.from(prefix ?? '', 'utf8'), typeof b === 'string' ? Buffer.from(b, 'utf8') : b]);
        expect(hex(edSign(null, message, key))).toBe(hex(n));
        const pub = nodeBackend.ed25519PublicKeySync(s);
        expect(hex(await webBackend.ed25519PublicKeyAsync(s))).toBe(hex(pub));
        expect(hex(createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(12))).toBe(hex(pub));
        expect(nodeBackend.ed25519VerifySync(pub, prefix, b, w)).toBe(true);
        expect(await webBackend.ed25519VerifyAsync(pub, prefix, b, n)).toBe(true);
        const flipped = n.slice();
        flipped[0] = (flipped[0] as number) ^ 1;
        expect(nodeBackend.ed25519VerifySync(pub, prefix, b, flipped)).toBe(false);
        expect(await webBackend.ed25519VerifyAsync(pub, prefix, b, flipped)).toBe(false);
        expect(edVerify(null, message, createPublicKey(key), flipped)).toBe(false);
      }),
      { numRuns: 100 },
    );
  }, 30_000);

  it('a WebCrypto without Ed25519 is a TypeError that says so (answered 500), never a signature mismatch', async () => {
    const spy = vi
      .spyOn(globalThis.crypto.subtle, 'importKey')
      .mockRejectedValue(new DOMException('Unrecognized algorithm name', 'NotSupportedError'));
    try {
      await expect(webBackend.ed25519VerifyAsync(new Uint8Array(32).fill(1), 'p.', 'b', new Uint8Array(64))).rejects.toThrow(
        /Ed25519 is not available in this runtime's WebCrypto/,
      );
      await expect(webBackend.ed25519SignAsync(new Uint8Array(32).fill(2), 'p.', 'b')).rejects.toThrow(TypeError);
    } finally {
      spy.mockRestore();
    }
    // The failed import was not cached: the key works once WebCrypto does.
    const s = new Uint8Array(32).fill(2);
    const pub = nodeBackend.ed25519PublicKeySync(s);
    expect(await webBackend.ed25519VerifyAsync(pub, 'p.', 'b', nodeBackend.ed25519SignSync(s, 'p.', 'b'))).toBe(true);
  });

  it('give identical verify outcomes for v1 + v1a headers through a rotation (random bodies, keys, mutations)', async () => {
    const { node, web } = await loadCores();
    const now = 1_700_000_000_000;
    const ts = now / 1000;
    const whsk = (s: Uint8Array) => 'whsk_' + Buffer.from(s).toString('base64');
    const whpk = (s: Uint8Array) => 'whpk_' + Buffer.from(nodeBackend.ed25519PublicKeySync(s)).toString('base64');
    const hmacSecret = 'whsec_' + Buffer.alloc(32, 5).toString('base64');
    const mutation = fc.constantFrom('v1a-active', 'v1a-previous', 'v1a-stranger', 'v1-and-v1a', 'flip-body', 'flip-sig', 'expired');
    await fc.assert(
      fc.asyncProperty(seed, seed, seed, anyString, mutation, async (active, previous, stranger, b, how) => {
        const keys = [
          { id: 'pk-active', secret: whpk(active), role: 'active' as const },
          { id: 'pk-prev', secret: whpk(previous), role: 'previous' as const, notAfter: how === 'expired' ? now - 60_000 : undefined },
          { id: 'hmac', secret: hmacSecret, role: 'previous' as const },
        ];
        const signer = how === 'v1a-previous' || how === 'expired' ? previous : how === 'v1a-stranger' ? stranger : active;
        const secrets = how === 'v1-and-v1a' ? [whsk(stranger), hmacSecret] : [whsk(signer)];
        let headers: Record<string, string> = node.sign({
          provider: node.providers.standardWebhooks(),
          body: b,
          secret: secrets,
          id: 'msg_x',
          timestamp: ts,
        });
        let sent = b;
        if (how === 'flip-body') sent = b + 'x';
        if (how === 'flip-sig')
          headers = {
            ...headers,
            'webhook-signature': headers['webhook-signature']!.replace(/^v1a,(.)/, (_m, c: string) => `v1a,${c === 'A' ? 'B' : 'A'}`),
          };
        const run = async (c: typeof Core) => {
          const v = c.createVerifier({ provider: c.providers.standardWebhooks(), keys, now: () => now, windowLeewayMs: 0 });
          const r = await v.safeVerify({ body: sent, headers });
          return r.ok ? { ok: true, keyId: r.keyId, keyRole: r.keyRole } : { ok: false, code: r.error.code };
        };
        const [a, w] = [await run(node), await run(web)];
        expect(w).toEqual(a);
        if (how === 'v1a-active') expect(a).toEqual({ ok: true, keyId: 'pk-active', keyRole: 'active' });
        if (how === 'v1a-previous') expect(a).toEqual({ ok: true, keyId: 'pk-prev', keyRole: 'previous' });
        if (how === 'v1-and-v1a') expect(a).toEqual({ ok: true, keyId: 'hmac', keyRole: 'previous' });
        if (how === 'expired') expect(a).toEqual({ ok: false, code: 'KEY_EXPIRED' });
        if (how === 'v1a-stranger' || how === 'flip-body') expect(a).toEqual({ ok: false, code: 'NO_MATCHING_KEY' });
      }),
      { numRuns: 60 },
    );
    // The web graph signs v1a on WebCrypto (signAsync) exactly as the node graph does.
    const s = new Uint8Array(32).fill(3);
    const input = { provider: web.providers.standardWebhooks(), body: '{}', secret: whsk(s), id: 'm', timestamp: ts };
    expect(await web.signAsync(input)).toEqual(node.sign({ ...input, provider: node.providers.standardWebhooks() }));
  }, 30_000);
});
