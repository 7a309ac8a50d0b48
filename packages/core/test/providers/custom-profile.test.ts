/**
 * The custom-profile examples of docs/providers.md, run: `hmac()` for a header keyturn can express
 * with options, and a hand-written `ProviderProfile` for a grammar it cannot (Paddle's
 * `ts=…;h1=…`), checked against Paddle's published vector.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createVerifier, providers, sign, VerificationError, type HeadersInput, type ProviderProfile } from '../../src/index.ts';

// --- docs/providers.md: "A hand-written profile" (keep in sync) ------------------------------
/** Fetch `Headers` or a Node/plain record, any case; a repeated header is joined like Fetch does. */
function readHeader(headers: HeadersInput, name: string): string | undefined {
  if ('get' in headers && typeof headers.get === 'function') return headers.get(name) ?? undefined;
  const entry = Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1];
  return Array.isArray(entry) ? entry.join(', ') : (entry as string | undefined);
}

function paddle(options: { toleranceMs?: number } = {}): ProviderProfile {
  const name = 'paddle';
  const rejectStatus = 400;
  const bad = (code: 'MISSING_SIGNATURE' | 'MALFORMED_SIGNATURE', message: string) =>
    new VerificationError(code, message, { provider: name, status: rejectStatus });
  const hex = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
  return {
    name,
    rejectStatus,
    algorithm: 'sha256',
    headerNames: ['paddle-signature'],
    timestampTolerance: { pastMs: options.toleranceMs ?? 300_000, futureMs: 60_000 },
    multiSignature: true,
    decodeSecret: (secret) => (typeof secret === 'string' ? new TextEncoder().encode(secret) : secret),
    parse(headers) {
      const value = readHeader(headers, 'paddle-signature');
      if (!value) throw bad('MISSING_SIGNATURE', 'Missing Paddle-Signature header.');
      let ts: string | undefined;
      const signatures: Uint8Array[] = [];
      for (const item of value.split(';')) {
        const [k, v = ''] = item.split('=', 2);
        if (k === 'ts' && /^\d{1,12}$/.test(v)) ts = v;
        else if (k === 'h1' && /^[0-9a-f]{64}$/i.test(v)) signatures.push(hex(v));
        else if (k === 'h1' || k === 'ts') throw bad('MALFORMED_SIGNATURE', `Malformed Paddle-Signature ${k}.`);
      }
      if (ts === undefined || signatures.length === 0 || signatures.length > 8)
        throw bad('MALFORMED_SIGNATURE', 'Malformed Paddle-Signature.');
      return { signatures, prefix: `${ts}:`, timestamp: Number(ts), eventId: undefined };
    },
    signedPrefix: (ctx) => `${ctx.timestamp}:`,
    formatHeaders: (digests, ctx) => ({
      'paddle-signature': [`ts=${ctx.timestamp}`, ...digests.map((d) => `h1=${Buffer.from(d).toString('hex')}`)].join(';'),
    }),
  };
}
// ---------------------------------------------------------------------------------------------

describe('custom profiles from docs/providers.md', () => {
  it('hand-written Paddle profile verifies Paddle’s published vector', async () => {
    const body = '{"data": ["1", "2"]}';
    const header = 'ts=1698796800;h1=a300428748dce5c70e4da19bffd60769591ea969c99dea3105d0ec9612cf43f9';
    // Independent check of the vector itself.
    expect(createHmac('sha256', 'VALID_SECRET').update(`1698796800:${body}`).digest('hex')).toBe(header.split('h1=')[1]);
    const verifier = createVerifier({
      provider: paddle(),
      keys: [
        { id: 'new', secret: 'pdl_ntfset_new', role: 'active' },
        { id: 'old', secret: 'VALID_SECRET', role: 'previous' },
      ],
      now: () => 1698796800_000 + 2_000,
    });
    const r = await verifier.verify({ body, headers: { 'Paddle-Signature': header } });
    expect((await verifier.verify({ body, headers: new Headers({ 'Paddle-Signature': header }) })).keyId).toBe('old');
    expect(r).toMatchObject({ keyId: 'old', keyRole: 'previous', timestamp: 1698796800 });
    await expect(verifier.verify({ body: body + ' ', headers: { 'paddle-signature': header } })).rejects.toMatchObject({
      code: 'NO_MATCHING_KEY',
      status: 400,
    });
    await expect(verifier.verify({ body, headers: { 'paddle-signature': 'ts=1;h1=zz' } })).rejects.toMatchObject({
      code: 'MALFORMED_SIGNATURE',
    });
    // The sender side round-trips with a rotation header.
    const signed = sign(paddle(), { body, secret: ['pdl_ntfset_new', 'VALID_SECRET'], timestamp: 1698796800 });
    expect(signed['paddle-signature']).toContain(header.split(';')[1]);
  });

  it('hmac(): a sender with timestamp and id headers and space-separated base64 signatures', async () => {
    // docs/providers.md: "Building a profile with hmac()"
    const acme = providers.hmac({
      name: 'acme',
      header: 'X-Acme-Signature',
      encoding: 'base64',
      separator: ' ',
      timestampHeader: 'X-Acme-Timestamp',
      idHeader: 'X-Acme-Delivery',
      signedContent: '{id}.{timestamp}.{body}',
      secretCodec: 'base64',
      toleranceMs: 300_000,
      futureToleranceMs: 30_000,
      rejectStatus: 401,
    });
    const key = Buffer.alloc(32, 9);
    const body = '{"hello":"world"}';
    const expected = createHmac('sha256', key).update(`d-1.1764000000.${body}`).digest('base64');
    const headers = { 'X-Acme-Signature': expected, 'X-Acme-Timestamp': '1764000000', 'X-Acme-Delivery': 'd-1' };
    const verifier = createVerifier({
      provider: acme,
      keys: [{ id: 'k', secret: key.toString('base64'), role: 'active' }],
      now: () => 1764000000_000,
    });
    expect(await verifier.verify({ body, headers })).toMatchObject({ keyId: 'k', eventId: 'd-1', timestamp: 1764000000 });
    expect(sign(acme, { body, secret: key.toString('base64'), timestamp: 1764000000, id: 'd-1' })['x-acme-signature']).toBe(expected);
  });

  it('hmac(): refuses a separator that can occur inside a signature (sign() would write what parse() splits)', () => {
    const base = { header: 'X-Sig', encoding: 'hex' as const };
    expect(() => providers.hmac({ ...base, prefix: 'v1,', separator: ',' })).toThrow(/separator.*","/);
    expect(() => providers.hmac({ ...base, separator: 'a' })).toThrow(TypeError);
    expect(() => providers.hmac({ ...base, encoding: 'base64', separator: '/' })).toThrow(TypeError);
    expect(() => providers.hmac({ ...base, separator: '' })).toThrow(/non-empty/);
    const ok = providers.hmac({ ...base, prefix: 'v1=', separator: ',' });
    const key = 'k'.repeat(32);
    const signed = sign(ok, { body: 'x', secret: [key, key + '2'] });
    expect(ok.parse(signed).signatures).toHaveLength(2);
  });
});
