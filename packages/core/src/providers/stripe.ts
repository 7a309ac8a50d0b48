/**
 * Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]`, signed content `"{t}.{raw body}"`,
 * HMAC-SHA256 keyed with the UTF-8 bytes of the **whole** `whsec_…` string (Stripe does not decode it).
 *
 * @module
 */
import { DIGEST_LENGTH } from '../lib/crypto-types.ts';
import { encodeHex } from '../lib/encoding.ts';
import { readHeader } from '../lib/headers.ts';
import { decodeSecretWith, jsonField, parseTimestampedHeader, reject } from './shared.ts';
import type { ProviderProfile } from './types.ts';

/** Options of {@link stripe}. */
export interface StripeOptions {
  /** How old `t` may be, in ms. @default 300_000 (stripe-node's `constructEvent` default) */
  toleranceMs?: number;
  /**
   * How far ahead `t` may be (clock skew between Stripe and this host), in ms. stripe-node never
   * rejects a future `t`; pass `Infinity` to match it.
   * @default 300_000
   */
  futureToleranceMs?: number;
  /** HTTP status for a rejected signature. @default 400 (Stripe's documented receivers) */
  rejectStatus?: number;
}

const HEADER = 'stripe-signature';

/**
 * The Stripe profile. Every `v1` entry is a candidate (Stripe sends one per active secret while an
 * endpoint secret is being rolled); `v0` (test-mode legacy) and unknown schemes are ignored.
 *
 * @example
 * ```ts
 * const verifier = createVerifier({ provider: providers.stripe(), keys: envKeyStore(), secretId: 'STRIPE_WEBHOOK_SECRET' });
 * ```
 */
export function stripe(options: StripeOptions = {}): ProviderProfile {
  const name = 'stripe';
  const rejectStatus = options.rejectStatus ?? 400;
  return {
    name,
    rejectStatus,
    algorithm: 'sha256',
    headerNames: [HEADER],
    timestampTolerance: { pastMs: options.toleranceMs ?? 300_000, futureMs: options.futureToleranceMs ?? 300_000 },
    multiSignature: true,
    decodeSecret: (secret) => decodeSecretWith('utf8', secret, name),
    parse(headers) {
      const value = readHeader(headers, HEADER);
      if (value === undefined || value.length === 0) {
        throw reject('MISSING_SIGNATURE', name, rejectStatus, 'Missing Stripe-Signature header.');
      }
      const parsed = parseTimestampedHeader(value, 'v1', DIGEST_LENGTH.sha256);
      if (typeof parsed === 'string') {
        throw reject('MALFORMED_SIGNATURE', name, rejectStatus, `Malformed Stripe-Signature: ${parsed}.`);
      }
      return parsed;
    },
    signedPrefix(ctx) {
      if (ctx.timestamp === undefined) throw new TypeError('stripe: signing needs a timestamp');
      return `${ctx.timestamp}.`;
    },
    formatHeaders(digests, ctx) {
      if (ctx.timestamp === undefined) throw new TypeError('stripe: signing needs a timestamp');
      return { [HEADER]: [`t=${ctx.timestamp}`, ...digests.map((d) => `v1=${encodeHex(d)}`)].join(',') };
    },
    // Stripe events carry their id (`evt_…`) in the signed body.
    eventIdFromBody: (body) => jsonField(body, 'id'),
  };
}
