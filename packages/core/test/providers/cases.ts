/**
 * One adapter per provider profile around its official library (or, where there is none worth
 * installing, an independent `node:crypto` implementation written from the provider's docs).
 * Shared by the cross-check and fuzz suites.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { sign as octokitSign, verify as octokitVerify } from '@octokit/webhooks-methods';
import '@shopify/shopify-api/adapters/web-api';
import { ApiVersion, LogSeverity, shopifyApi } from '@shopify/shopify-api';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { Webhook as SvixWebhook } from 'svix';
import fc from 'fast-check';
import { vi } from 'vitest';
import { providers, type ProviderProfile } from '../../src/index.ts';

/** Verifier clock used by every property: 2025-11-24T16:00:00Z. */
export const NOW_MS = 1_764_000_000_000;
export const NOW_S = NOW_MS / 1000;

export interface SignContext {
  /** Unix seconds. */
  readonly ts: number;
  /** Message / delivery id. */
  readonly id: string;
}

export interface ProviderCase {
  readonly name: string;
  /** The profile's factory name in `providers` (and key of {@link BYTE_SIGNERS}). */
  readonly factory: 'standardWebhooks' | 'stripe' | 'github' | 'shopify' | 'slack';
  /** What the official side is: a package@version or "independent node:crypto". */
  readonly reference: string;
  readonly profile: () => ProviderProfile;
  /** Secrets in the provider's format, as stored. */
  readonly secret: fc.Arbitrary<string>;
  /** Whether a timestamp is signed (and checked). */
  readonly timestamped: boolean;
  /** Whether an id is signed. */
  readonly signsId: boolean;
  /** Headers the reference sends for `body` (a string: the official libraries take text). */
  referenceSign(secret: string, body: string, ctx: SignContext): Promise<Record<string, string>>;
  /** Whether the reference accepts the request at `NOW_MS`. */
  referenceVerify(secret: string, body: string, headers: Record<string, string>): Promise<boolean>;
  /** The same headers with every signature corrupted (one bit flipped). */
  corruptSignature(headers: Record<string, string>): Record<string, string>;
  /** The same headers with another signed timestamp (timestamped schemes). */
  withTimestamp?(headers: Record<string, string>, ts: number): Record<string, string>;
  /** The same headers with another id (schemes that sign one). */
  withId?(headers: Record<string, string>, id: string): Record<string, string>;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const alnum = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...ALNUM), minLength: min, maxLength: max });
/** UTF-8 secrets as users store them: any text (non-ASCII included) without surrounding whitespace. */
export const textSecret = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 48 }).filter((s) => s.length > 0 && !/^\s|\s$/.test(s));
/** Message ids: the Svix alphabet plus `_` and `-`; never a dot. */
export const messageId = fc.tuple(fc.constantFrom('msg_', 'evt_', ''), alnum(1, 40)).map(([p, s]) => p + s);

/** Flips the lowest bit of the first byte of a hex or base64 signature, keeping its encoding. */
export function flipHex(hex: string): string {
  const b = Buffer.from(hex, 'hex');
  b[0] = (b[0] as number) ^ 1;
  return b.toString('hex');
}
export function flipBase64(b64: string): string {
  const b = Buffer.from(b64, 'base64');
  b[0] = (b[0] as number) ^ 1;
  return b.toString('base64');
}

/** Runs `fn` with `Date.now()` frozen at `NOW_MS` (the Standard Webhooks libraries read the clock). */
async function atNow<T>(fn: () => T | Promise<T>): Promise<T> {
  vi.useFakeTimers({ toFake: ['Date'], now: NOW_MS });
  try {
    return await fn();
  } finally {
    vi.useRealTimers();
  }
}

function lowerKeys(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}

// --- Standard Webhooks / Svix -------------------------------------------------------------

const whsecSecret = fc
  .tuple(fc.uint8Array({ minLength: 24, maxLength: 64 }), fc.boolean())
  .map(([key, prefixed]) => (prefixed ? 'whsec_' : '') + Buffer.from(key).toString('base64'));

function swCase(lib: 'standardwebhooks' | 'svix'): ProviderCase {
  const Lib = lib === 'svix' ? SvixWebhook : StandardWebhook;
  const family = lib === 'svix' ? 'svix' : 'webhook';
  return {
    name: `standardWebhooks vs ${lib}`,
    factory: 'standardWebhooks',
    reference: lib === 'svix' ? 'svix (wraps standardwebhooks)' : 'standardwebhooks',
    profile: () => providers.standardWebhooks(lib === 'svix' ? { name: 'svix' } : {}),
    secret: whsecSecret,
    timestamped: true,
    signsId: true,
    async referenceSign(secret, body, { ts, id }) {
      const signature = new Lib(secret).sign(id, new Date(ts * 1000), body);
      return { [`${family}-id`]: id, [`${family}-timestamp`]: String(ts), [`${family}-signature`]: signature };
    },
    referenceVerify(secret, body, headers) {
      return atNow(() => {
        try {
          // Only the signature check: the libraries' JSON.parse of the payload is not under test.
          if (lib === 'svix') new SvixWebhook(secret).verify(body, lowerKeys(headers));
          else new StandardWebhook(secret).verify(body, lowerKeys(headers), { jsonParse: false });
          return true;
        } catch {
          return false;
        }
      });
    },
    corruptSignature(headers) {
      const h = lowerKeys(headers);
      const key = h['webhook-signature'] !== undefined ? 'webhook-signature' : 'svix-signature';
      h[key] = h[key]!.split(' ')
        .map((t) => (t.startsWith('v1,') ? `v1,${flipBase64(t.slice(3))}` : t))
        .join(' ');
      return h;
    },
    withTimestamp(headers, ts) {
      const h = lowerKeys(headers);
      h[h['webhook-timestamp'] !== undefined ? 'webhook-timestamp' : 'svix-timestamp'] = String(ts);
      return h;
    },
    withId(headers, id) {
      const h = lowerKeys(headers);
      h[h['webhook-id'] !== undefined ? 'webhook-id' : 'svix-id'] = id;
      return h;
    },
  };
}

// --- Stripe -------------------------------------------------------------------------------

const stripeClient = new Stripe('sk_test_keyturn');
const stripeSecret = fc.oneof(
  alnum(32, 32).map((s) => `whsec_${s}`),
  textSecret,
);

const stripeCase: ProviderCase = {
  factory: 'stripe',
  name: 'stripe vs stripe',
  reference: 'stripe',
  profile: () => providers.stripe(),
  secret: stripeSecret,
  timestamped: true,
  signsId: false,
  async referenceSign(secret, body, { ts }) {
    return { 'Stripe-Signature': stripeClient.webhooks.generateTestHeaderString({ payload: body, secret, timestamp: ts }) };
  },
  async referenceVerify(secret, body, headers) {
    try {
      // verifyHeader is constructEvent without its JSON.parse of the payload.
      return stripeClient.webhooks.signature!.verifyHeader(body, lowerKeys(headers)['stripe-signature']!, secret, 300, undefined, NOW_S);
    } catch {
      return false;
    }
  },
  corruptSignature(headers) {
    const h = lowerKeys(headers);
    h['stripe-signature'] = h['stripe-signature']!.split(',')
      .map((item) => (item.startsWith('v1=') ? `v1=${flipHex(item.slice(3))}` : item))
      .join(',');
    return h;
  },
  withTimestamp(headers, ts) {
    const h = lowerKeys(headers);
    h['stripe-signature'] = h['stripe-signature']!.replace(/^t=\d+/, `t=${ts}`);
    return h;
  },
};

// --- GitHub -------------------------------------------------------------------------------

const githubCase: ProviderCase = {
  factory: 'github',
  name: 'github vs @octokit/webhooks-methods',
  reference: '@octokit/webhooks-methods',
  profile: () => providers.github(),
  secret: textSecret,
  timestamped: false,
  signsId: false,
  async referenceSign(secret, body, { id }) {
    return { 'X-Hub-Signature-256': await octokitSign(secret, body), 'X-GitHub-Delivery': id };
  },
  referenceVerify: (secret, body, headers) => octokitVerify(secret, body, lowerKeys(headers)['x-hub-signature-256']!),
  corruptSignature(headers) {
    const h = lowerKeys(headers);
    h['x-hub-signature-256'] = `sha256=${flipHex(h['x-hub-signature-256']!.slice(7))}`;
    return h;
  },
};

// --- Shopify ------------------------------------------------------------------------------

/** The official validator (`shopify.webhooks.validate`) for one secret, memoised. */
const shopifyApis = new Map<string, ReturnType<typeof shopifyApi>>();
function shopifyFor(secret: string): ReturnType<typeof shopifyApi> {
  let api = shopifyApis.get(secret);
  if (api === undefined) {
    api = shopifyApi({
      apiSecretKey: secret,
      apiKey: 'keyturn-test',
      hostName: 'localhost',
      apiVersion: ApiVersion.October25,
      isEmbeddedApp: false,
      logger: { level: LogSeverity.Error, log: async () => undefined },
    });
    if (shopifyApis.size > 64) shopifyApis.clear();
    shopifyApis.set(secret, api);
  }
  return api;
}

const shopifyCase: ProviderCase = {
  factory: 'shopify',
  name: 'shopify vs @shopify/shopify-api',
  reference: '@shopify/shopify-api (webhooks.validate)',
  profile: () => providers.shopify(),
  secret: fc.oneof(
    alnum(32, 32).map((s) => `shpss_${s}`),
    textSecret,
  ),
  timestamped: false,
  signsId: false,
  // Shopify's library has no signer; its signature is the base64 HMAC of the body (node:crypto here).
  async referenceSign(secret, body, { id }) {
    return {
      'X-Shopify-Hmac-Sha256': createHmac('sha256', secret).update(body, 'utf8').digest('base64'),
      'X-Shopify-Webhook-Id': id,
    };
  },
  async referenceVerify(secret, body, headers) {
    const rawRequest = new Request('https://app.example/webhooks', {
      method: 'POST',
      headers: {
        'x-shopify-topic': 'orders/create',
        'x-shopify-shop-domain': 'keyturn.myshopify.com',
        'x-shopify-api-version': '2025-10',
        'x-shopify-webhook-id': 'w-1',
        ...lowerKeys(headers),
      },
      body,
    });
    const result = await shopifyFor(secret).webhooks.validate({ rawBody: body, rawRequest } as never);
    return result.valid;
  },
  corruptSignature(headers) {
    const h = lowerKeys(headers);
    h['x-shopify-hmac-sha256'] = flipBase64(h['x-shopify-hmac-sha256']!);
    return h;
  },
};

// --- Slack --------------------------------------------------------------------------------

/** Slack's documented algorithm, written from its docs with node:crypto (Bolt is not a dependency). */
function slackSignature(secret: string, ts: number | string, body: string | Uint8Array): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${ts}:`).update(body).digest('hex')}`;
}

const slackCase: ProviderCase = {
  factory: 'slack',
  name: 'slack vs independent node:crypto (Slack docs)',
  reference: 'independent node:crypto from Slack docs',
  profile: () => providers.slack(),
  secret: fc.oneof(fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 32, maxLength: 32 }), textSecret),
  timestamped: true,
  signsId: false,
  async referenceSign(secret, body, { ts }) {
    return { 'X-Slack-Request-Timestamp': String(ts), 'X-Slack-Signature': slackSignature(secret, ts, body) };
  },
  async referenceVerify(secret, body, headers) {
    const h = lowerKeys(headers);
    const ts = Number(h['x-slack-request-timestamp']);
    if (!Number.isInteger(ts) || Math.abs(NOW_S - ts) > 300) return false;
    const expected = Buffer.from(slackSignature(secret, ts, body));
    const got = Buffer.from(h['x-slack-signature'] ?? '');
    return expected.length === got.length && timingSafeEqual(expected, got);
  },
  corruptSignature(headers) {
    const h = lowerKeys(headers);
    h['x-slack-signature'] = `v0=${flipHex(h['x-slack-signature']!.slice(3))}`;
    return h;
  },
  withTimestamp(headers, ts) {
    return { ...lowerKeys(headers), 'x-slack-request-timestamp': String(ts) };
  },
};

export const CASES: readonly ProviderCase[] = [swCase('standardwebhooks'), swCase('svix'), stripeCase, githubCase, shopifyCase, slackCase];

/** Independent signers over raw bytes (the official libraries decode bodies as UTF-8 first). */
export const BYTE_SIGNERS: Record<string, (secret: string, body: Uint8Array, ctx: SignContext) => Record<string, string>> = {
  standardWebhooks(secret, body, { ts, id }) {
    const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
    const sig = createHmac('sha256', key).update(`${id}.${ts}.`).update(body).digest('base64');
    return { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': `v1,${sig}` };
  },
  stripe(secret, body, { ts }) {
    return { 'stripe-signature': `t=${ts},v1=${createHmac('sha256', secret).update(`${ts}.`).update(body).digest('hex')}` };
  },
  github(secret, body) {
    return { 'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}` };
  },
  shopify(secret, body) {
    return { 'x-shopify-hmac-sha256': createHmac('sha256', secret).update(body).digest('base64') };
  },
  slack(secret, body, { ts }) {
    return { 'x-slack-request-timestamp': String(ts), 'x-slack-signature': slackSignature(secret, ts, body) };
  },
};
