// Counts node:crypto HMACs per verification: steady state costs one, a forgery at most one per
// eligible key (+ one per out-of-window key for KEY_EXPIRED reporting), cheap rejections none.
// An HMAC is either one createHmac (streaming route) or two one-shot crypto.hash calls (the
// precomputed-pads route small bodies take, lib/crypto-node.ts): both are counted.
import * as nodeCrypto from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('node:crypto', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:crypto')>();
  return { ...original, createHmac: vi.fn(original.createHmac), hash: vi.fn(original.hash) };
});

const { createVerifier, providers, sign } = await import('../src/index.ts');
const streamed = nodeCrypto.createHmac as unknown as ReturnType<typeof vi.fn>;
const oneShot = nodeCrypto.hash as unknown as ReturnType<typeof vi.fn>;
/** Forgets the HMACs counted so far. */
function resetCount(): void {
  streamed.mockClear();
  oneShot.mockClear();
}
/** HMACs computed since the last {@link resetCount}, on either route. */
const hmacs = (): number => streamed.mock.calls.length + oneShot.mock.calls.length / 2;
const T0 = Date.UTC(2026, 10, 24, 12);
const body = '{"id":"evt_1","payload":{"name":"Zoë"}}';
const secrets = Array.from({ length: 8 }, (_, i) => 'whsec_' + String(i).padStart(2, '0').repeat(32));

function rotatingVerifier(n: number, expired = 0) {
  const keys = secrets.slice(0, n).map((secret, i) => ({
    id: `k${i}`,
    secret,
    role: i === 0 ? ('active' as const) : ('previous' as const),
    notAfter: i >= n - expired ? T0 - 60_000 : undefined,
  }));
  return createVerifier({ provider: providers.dataspike(), keys, now: () => T0, windowLeewayMs: 0 });
}
const headersFor = (secret: string) => sign(providers.dataspike(), { body, secret, timestamp: T0 / 1000 });

describe('HMACs per verification', () => {
  beforeEach(() => {
    resetCount();
  });

  it.each([2, 8])('steady state with %i keys and the sender on the oldest key costs one HMAC', async (n) => {
    const v = rotatingVerifier(n);
    const headers = headersFor(secrets[n - 1]!);
    await v.verify({ body, headers }); // first request walks the list
    resetCount();
    for (let i = 0; i < 5; i++) expect((await v.verify({ body, headers })).keyId).toBe(`k${n - 1}`);
    expect(v.verifySync({ body, headers }).keyId).toBe(`k${n - 1}`);
    expect(hmacs()).toBe(6);
  });

  it('the first request after the sender switches keys costs at most N HMACs, then one again', async () => {
    const v = rotatingVerifier(4);
    await v.verify({ body, headers: headersFor(secrets[3]!) });
    const switched = headersFor(secrets[0]!);
    resetCount();
    await v.verify({ body, headers: switched });
    expect(hmacs()).toBeLessThanOrEqual(4);
    resetCount();
    await v.verify({ body, headers: switched });
    expect(hmacs()).toBe(1);
  });

  it('a forged request costs one HMAC per eligible key plus one per out-of-window key', async () => {
    const v = rotatingVerifier(8, 2);
    const forged = headersFor('whsec_' + 'ff'.repeat(32));
    resetCount();
    await expect(v.verify({ body, headers: forged })).rejects.toMatchObject({ code: 'NO_MATCHING_KEY' });
    expect(hmacs()).toBe(8);
    resetCount();
    const strict = createVerifier({
      provider: providers.dataspike(),
      keys: secrets.map((secret, i) => ({ id: `k${i}`, secret, role: 'previous' as const, notAfter: i >= 6 ? T0 - 60_000 : undefined })),
      now: () => T0,
      windowLeewayMs: 0,
      reportExpiredKeys: false,
    });
    await expect(strict.verify({ body, headers: forged })).rejects.toMatchObject({ code: 'NO_MATCHING_KEY' });
    expect(hmacs()).toBe(6);
  });

  it.each([
    ['a stale timestamp', { 'x-webhook-signature': `t=${T0 / 1000 - 3_600},v1=${'00'.repeat(32)}` }, 'TIMESTAMP_TOO_OLD'],
    ['a future timestamp', { 'x-webhook-signature': `t=${T0 / 1000 + 3_600},v1=${'00'.repeat(32)}` }, 'TIMESTAMP_IN_FUTURE'],
    ['a malformed header', { 'x-webhook-signature': `t=${T0 / 1000},v1=xyz` }, 'MALFORMED_SIGNATURE'],
    ['no header', {}, 'MISSING_SIGNATURE'],
  ])('%s is rejected before any HMAC', async (_name, headers, code) => {
    const v = rotatingVerifier(8);
    resetCount();
    await expect(v.verify({ body, headers })).rejects.toMatchObject({ code });
    expect(hmacs()).toBe(0);
  });

  it('a header with many signatures is capped (MALFORMED past 8) and costs one HMAC per key, not per signature', async () => {
    const v = rotatingVerifier(1);
    const sig = `v1=${'00'.repeat(32)}`;
    await expect(
      v.verify({ body, headers: { 'x-webhook-signature': `t=${T0 / 1000},${Array(9).fill(sig).join(',')}` } }),
    ).rejects.toMatchObject({ code: 'MALFORMED_SIGNATURE' });
    expect(hmacs()).toBe(0);
    const good = headersFor(secrets[0]!)['x-webhook-signature']!;
    resetCount();
    expect((await v.verify({ body, headers: { 'x-webhook-signature': `${good},${Array(7).fill(sig).join(',')}` } })).keyId).toBe('k0');
    expect(hmacs()).toBe(1);
  });
});
