/**
 * Scheme rules the cross-checks do not reach: header families, token grammar, key codecs and
 * lengths, event ids, options, and what the sender side refuses.
 */
import { createHmac } from 'node:crypto';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { describe, expect, it, vi } from 'vitest';
import { createVerifier, providers, sign, VerificationError, type ProviderProfile } from '../../src/index.ts';

const NOW_S = 1_764_000_000;
const NOW_MS = NOW_S * 1000;

function verifier(provider: ProviderProfile, secret: string | string[]) {
  const secrets = Array.isArray(secret) ? secret : [secret];
  return createVerifier({
    provider,
    keys: secrets.map((s, i) => ({ id: `k${i}`, secret: s, role: i === 0 ? 'active' : 'previous' })),
    now: () => NOW_MS,
  });
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(VerificationError);
  return (e as VerificationError).code;
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('standardWebhooks', () => {
  const key24 = Buffer.alloc(24, 0x5a);
  const secret = 'whsec_' + key24.toString('base64');
  const body = '{"type":"contact.created"}';
  const signed = (id = 'msg_1', ts = NOW_S) => sign(providers.standardWebhooks(), { body, secret, timestamp: ts, id });

  it('reports webhook-id as the event id', async () => {
    expect((await verifier(providers.standardWebhooks(), secret).verify({ body, headers: signed('msg_abc') })).eventId).toBe('msg_abc');
  });

  it('reads one header family: webhook-* when webhook-signature is present, svix-* otherwise', async () => {
    const good = signed();
    const svix = {
      'svix-id': good['webhook-id']!,
      'svix-timestamp': good['webhook-timestamp']!,
      'svix-signature': good['webhook-signature']!,
    };
    const v = verifier(providers.standardWebhooks(), secret);
    expect((await v.verify({ body, headers: svix })).keyId).toBe('k0');
    // Both families: webhook-* decides, even when only the svix-* signature is right.
    const wrong = { ...good, 'webhook-signature': 'v1,' + Buffer.alloc(32).toString('base64') };
    expect(await codeOf(v.verify({ body, headers: { ...wrong, ...svix } }))).toBe('NO_MATCHING_KEY');
    // No mixing: webhook-signature with only svix-id is missing webhook-id.
    expect(
      await codeOf(
        v.verify({
          body,
          headers: { 'webhook-signature': good['webhook-signature']!, 'webhook-timestamp': String(NOW_S), 'svix-id': 'msg_1' },
        }),
      ),
    ).toBe('MISSING_SIGNATURE');
  });

  it('parses the space-separated token list strictly', async () => {
    const good = signed();
    const sig = good['webhook-signature']!;
    const v = verifier(providers.standardWebhooks(), secret);
    const with_ = (value: string) => v.verify({ body, headers: { ...good, 'webhook-signature': value } });
    expect((await with_(`  ${sig}   v1a,${Buffer.alloc(64, 7).toString('base64')}  `)).keyId).toBe('k0'); // a v1a no key verifies
    expect(await codeOf(with_(`${sig} v1a,AAAA`))).toBe('MALFORMED_SIGNATURE'); // a v1a is 64 bytes
    expect(await codeOf(with_(`garbage ${sig}`))).toBe('MALFORMED_SIGNATURE'); // no "version,"
    expect(await codeOf(with_(`v1,${Buffer.alloc(31).toString('base64')} ${sig}`))).toBe('MALFORMED_SIGNATURE'); // 31 bytes
    expect(await codeOf(with_(`v1,not*base64 ${sig}`))).toBe('MALFORMED_SIGNATURE');
    const other = `v1,${Buffer.alloc(32, 1).toString('base64')}`;
    expect((await with_(`${Array(7).fill(other).join(' ')} ${sig}`)).keyId).toBe('k0'); // 8 v1 tokens
    expect(await codeOf(with_(`${Array(8).fill(other).join(' ')} ${sig}`))).toBe('MALFORMED_SIGNATURE'); // 9
    expect(await codeOf(with_(`${sig} ${'v2,x '.repeat(1000)}`))).toBe('MALFORMED_SIGNATURE'); // > 4096 chars
    expect(await codeOf(v.verify({ body, headers: { ...good, 'webhook-timestamp': `${NOW_S}.5` } }))).toBe('MALFORMED_SIGNATURE');
    expect(await codeOf(v.verify({ body, headers: { ...good, 'webhook-id': 'x'.repeat(257) } }))).toBe('MALFORMED_SIGNATURE');
  });

  it('checks the key length against the spec (24 to 64 bytes) unless told not to', async () => {
    const short = 'whsec_' + Buffer.alloc(16, 1).toString('base64');
    const long = 'whsec_' + Buffer.alloc(65, 1).toString('base64');
    for (const s of [short, long]) {
      const e = thrown(() => verifier(providers.standardWebhooks(), s));
      expect(e).toBeInstanceOf(VerificationError);
      expect((e as VerificationError).code).toBe('INVALID_SECRET');
      expect((e as VerificationError).message).not.toContain(s.slice(6));
    }
    expect(() => verifier(providers.standardWebhooks(), 'whsec_' + Buffer.alloc(64, 1).toString('base64'))).not.toThrow();
    // The official library accepts a 16-byte key; so does keyturn with strictKeyLength: false.
    const loose = providers.standardWebhooks({ strictKeyLength: false });
    const headers = sign(loose, { body, secret: short, timestamp: NOW_S, id: 'msg_1' });
    vi.useFakeTimers({ toFake: ['Date'], now: NOW_MS });
    try {
      expect(() => new StandardWebhook(short).verify(body, headers, { jsonParse: false })).not.toThrow();
    } finally {
      vi.useRealTimers();
    }
    expect((await verifier(loose, short).verify({ body, headers })).keyId).toBe('k0');
  });

  it('refuses secrets that are not whsec_ + base64, and a pasted signature', () => {
    for (const bad of ['whsec_not base64!', 'v1,' + Buffer.alloc(24).toString('base64'), ' ' + secret, 'whsec_']) {
      const e = thrown(() => verifier(providers.standardWebhooks(), bad));
      expect((e as VerificationError).code).toBe('INVALID_SECRET');
    }
  });

  it('signs with svix-* names on request, and the svix library verifies them', () => {
    const headers = sign(providers.standardWebhooks({ senderHeaders: 'svix' }), { body, secret, timestamp: NOW_S, id: 'msg_svix' });
    expect(Object.keys(headers).sort()).toEqual(['svix-id', 'svix-signature', 'svix-timestamp']);
    vi.useFakeTimers({ toFake: ['Date'], now: NOW_MS });
    try {
      expect(() => new SvixWebhook(secret).verify(body, headers)).not.toThrow();
    } finally {
      vi.useRealTimers();
    }
  });

  it('the sender side needs an id without "." and a timestamp', () => {
    expect(() => sign(providers.standardWebhooks(), { body, secret, timestamp: NOW_S })).toThrow(TypeError);
    expect(() => sign(providers.standardWebhooks(), { body, secret, timestamp: NOW_S, id: 'a.b' })).toThrow(TypeError);
  });

  it('tolerance options are honoured in both directions', async () => {
    const p = providers.standardWebhooks({ toleranceMs: 10_000, futureToleranceMs: 1_000 });
    const v = verifier(p, secret);
    const at = (ts: number) => v.verify({ body, headers: sign(p, { body, secret, timestamp: ts, id: 'm' }) });
    expect((await at(NOW_S - 10)).keyId).toBe('k0');
    expect(await codeOf(at(NOW_S - 11))).toBe('TIMESTAMP_TOO_OLD');
    expect((await at(NOW_S + 1)).keyId).toBe('k0');
    expect(await codeOf(at(NOW_S + 2))).toBe('TIMESTAMP_IN_FUTURE');
  });

  it('uses the name option in results and errors', async () => {
    const p = providers.standardWebhooks({ name: 'clerk' });
    const r = await verifier(p, secret).safeVerify({ body, headers: {} });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.provider).toBe('clerk');
      expect(r.error.status).toBe(400);
    }
  });
});

describe('stripe', () => {
  const secret = 'whsec_test_secret';
  it('keys HMAC with the UTF-8 bytes of the whole whsec_ string', () => {
    expect(Buffer.from(providers.stripe().decodeSecret(secret)).toString('utf8')).toBe(secret);
  });

  it('takes the event id from the body (evt_…) for replay defence, not from a header', async () => {
    const body = '{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event"}';
    const p = providers.stripe();
    expect(p.eventIdFromBody?.(body)).toBe('evt_1NG8Du2eZvKYlo2CUI79vXWy');
    expect(p.eventIdFromBody?.(new TextEncoder().encode(body))).toBe('evt_1NG8Du2eZvKYlo2CUI79vXWy');
    expect(p.eventIdFromBody?.('not json')).toBeUndefined();
    const r = await verifier(p, secret).verify({ body, headers: sign(p, { body, secret, timestamp: NOW_S }) });
    expect(r.eventId).toBeUndefined();
  });

  it('ignores v0 and unknown schemes, and refuses a header without v1', async () => {
    const body = '{}';
    const p = providers.stripe();
    const v = verifier(p, secret);
    const h = sign(p, { body, secret, timestamp: NOW_S })['stripe-signature']!;
    expect((await v.verify({ body, headers: { 'Stripe-Signature': `v0=abc,${h},v9=zzz, x=1` } })).keyId).toBe('k0');
    expect(await codeOf(v.verify({ body, headers: { 'Stripe-Signature': `t=${NOW_S},v0=${'0'.repeat(64)}` } }))).toBe(
      'MALFORMED_SIGNATURE',
    );
    expect(await codeOf(v.verify({ body, headers: { 'Stripe-Signature': `${h},t=${NOW_S}` } }))).toBe('MALFORMED_SIGNATURE');
  });
});

describe('github', () => {
  const secret = "It's a Secret to Everybody";
  const body = 'Hello, World!';
  // GitHub's documentation example ("Validating webhook deliveries", testing section).
  const docSig = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';

  it('verifies the example from GitHub’s documentation', async () => {
    expect('sha256=' + createHmac('sha256', secret).update(body).digest('hex')).toBe(docSig);
    expect((await verifier(providers.github(), secret).verify({ body, headers: { 'X-Hub-Signature-256': docSig } })).keyId).toBe('k0');
  });

  it('reports X-GitHub-Delivery (unsigned) as the event id, unless told not to', async () => {
    const headers = { 'X-Hub-Signature-256': docSig, 'X-GitHub-Delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958' };
    expect((await verifier(providers.github(), secret).verify({ body, headers })).eventId).toBe('72d3162e-cc78-11e3-81ab-4c9367dc0958');
    expect((await verifier(providers.github({ deliveryIdAsEventId: false }), secret).verify({ body, headers })).eventId).toBeUndefined();
    expect(
      (await verifier(providers.github(), secret).verify({ body, headers: { ...headers, 'X-GitHub-Delivery': 'x'.repeat(300) } })).eventId,
    ).toBeUndefined();
  });

  it('reads X-Hub-Signature-256 only and needs exactly 64 hex digits', async () => {
    const v = verifier(providers.github(), secret);
    const sha1 = 'sha1=' + createHmac('sha1', secret).update(body).digest('hex');
    expect((await v.verify({ body, headers: { 'X-Hub-Signature': 'sha1=' + '0'.repeat(40), 'X-Hub-Signature-256': docSig } })).keyId).toBe(
      'k0',
    );
    expect(await codeOf(v.verify({ body, headers: { 'X-Hub-Signature': sha1 } }))).toBe('MISSING_SIGNATURE');
    expect(await codeOf(v.verify({ body, headers: { 'X-Hub-Signature-256': docSig.slice(0, -1) } }))).toBe('MALFORMED_SIGNATURE');
    expect(await codeOf(v.verify({ body, headers: { 'X-Hub-Signature-256': docSig + '0' } }))).toBe('MALFORMED_SIGNATURE');
    expect(await codeOf(v.verify({ body, headers: { 'X-Hub-Signature-256': docSig.replace('sha256=', 'SHA256=') } }))).toBe(
      'MALFORMED_SIGNATURE',
    );
  });

  it('a custom hmac() profile covers legacy SHA-1 senders', async () => {
    const sha1 = providers.hmac({ name: 'github-sha1', header: 'X-Hub-Signature', prefix: 'sha1=', encoding: 'hex', algorithm: 'sha1' });
    const header = 'sha1=' + createHmac('sha1', secret).update(body).digest('hex');
    expect((await verifier(sha1, secret).verify({ body, headers: { 'X-Hub-Signature': header } })).keyId).toBe('k0');
  });

  it('GitHub carries one signature: signing with two secrets is refused', () => {
    expect(() => sign(providers.github(), { body, secret: [secret, 'other'] })).toThrow(TypeError);
  });
});

describe('shopify', () => {
  const secret = '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';
  const body = '{"id":1}';
  const mac = createHmac('sha256', secret).update(body).digest('base64');

  it('reports the webhook id of the header family it verified', async () => {
    const v = verifier(providers.shopify(), secret);
    expect((await v.verify({ body, headers: { 'X-Shopify-Hmac-Sha256': mac, 'X-Shopify-Webhook-Id': 'w-classic' } })).eventId).toBe(
      'w-classic',
    );
    expect(
      (
        await v.verify({
          body,
          headers: { 'shopify-hmac-sha256': mac, 'shopify-webhook-id': 'w-events', 'X-Shopify-Webhook-Id': 'w-classic' },
        })
      ).eventId,
    ).toBe('w-events');
    expect(
      (
        await verifier(providers.shopify({ webhookIdAsEventId: false }), secret).verify({
          body,
          headers: { 'X-Shopify-Hmac-Sha256': mac, 'X-Shopify-Webhook-Id': 'w' },
        })
      ).eventId,
    ).toBeUndefined();
  });

  it('the events header wins when both families are present (as in @shopify/shopify-api)', async () => {
    const v = verifier(providers.shopify(), secret);
    const wrong = Buffer.alloc(32).toString('base64');
    expect(await codeOf(v.verify({ body, headers: { 'X-Shopify-Hmac-Sha256': mac, 'shopify-hmac-sha256': wrong } }))).toBe(
      'NO_MATCHING_KEY',
    );
  });

  it('needs standard, padded base64 of 32 bytes', async () => {
    const v = verifier(providers.shopify(), secret);
    const url = mac.replace(/\+/g, '-').replace(/\//g, '_');
    if (url !== mac) expect(await codeOf(v.verify({ body, headers: { 'X-Shopify-Hmac-Sha256': url } }))).toBe('MALFORMED_SIGNATURE');
    expect(await codeOf(v.verify({ body, headers: { 'X-Shopify-Hmac-Sha256': Buffer.alloc(20).toString('base64') } }))).toBe(
      'MALFORMED_SIGNATURE',
    );
  });
});

describe('slack', () => {
  const secret = '8f742231b10e8888abcd99yyyzzz85a5';
  const body = 'token=x&challenge=abc&type=url_verification';

  it('refuses a non-integer timestamp header', async () => {
    const v = verifier(providers.slack(), secret);
    const good = sign(providers.slack(), { body, secret, timestamp: NOW_S });
    for (const ts of [`${NOW_S}.0`, `+${NOW_S}`, ` ${NOW_S}`, 'now', '']) {
      expect(await codeOf(v.verify({ body, headers: { ...good, 'x-slack-request-timestamp': ts } }))).toBe('MALFORMED_SIGNATURE');
    }
  });

  it('has no event id and one signature', async () => {
    const good = sign(providers.slack(), { body, secret, timestamp: NOW_S });
    expect((await verifier(providers.slack(), secret).verify({ body, headers: good })).eventId).toBeUndefined();
    expect(providers.slack().multiSignature).toBe(false);
  });
});

describe('every profile', () => {
  const all: [string, ProviderProfile][] = [
    ['standardWebhooks', providers.standardWebhooks()],
    ['stripe', providers.stripe()],
    ['github', providers.github()],
    ['shopify', providers.shopify()],
    ['slack', providers.slack()],
  ];

  it.each(all)('%s: a secret with surrounding whitespace is INVALID_SECRET and never printed', (_n, profile) => {
    const secret = 'whsec_' + Buffer.alloc(24, 3).toString('base64') + '\n';
    const e = thrown(() => profile.decodeSecret(secret)) as VerificationError;
    expect(e.code).toBe('INVALID_SECRET');
    expect(JSON.stringify(e) + e.message + String(e.hint)).not.toContain(secret.trim().slice(6));
  });

  it.each(all)('%s: header names are lowercase and include the signature header', (_n, profile) => {
    for (const h of profile.headerNames) expect(h).toBe(h.toLowerCase());
    expect(profile.headerNames.length).toBeGreaterThan(0);
  });
});
