/**
 * Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]`, signed content `"{t}.{raw body}"`,
 * HMAC-SHA256 keyed with the UTF-8 bytes of the **whole** `whsec_…` string (Stripe does not decode it).
 *
 * @module
 */
import { timestampedScheme } from './timestamped.ts';
import type { StripeEvent } from './events.ts';
import type { ProviderProfile } from './types.ts';

/** Options of {@link stripe}. */
export interface StripeOptions {
  /** How old `t` may be, in ms, from 1 000 to 604 800 000 (7 days). @default 300_000 (stripe-node's `constructEvent` default) */
  toleranceMs?: number;
  /**
   * How far ahead `t` may be (clock skew between Stripe and this host), in ms, from 0 to 604 800 000
   * (7 days). stripe-node never rejects a future `t`; keyturn always does past this bound (an unbounded
   * future would keep a request signed for a far-future `t` valid for ever).
   * @default 300_000
   */
  futureToleranceMs?: number;
  /** HTTP status for a rejected signature, an integer from 400 to 599. @default 400 (Stripe's documented receivers) */
  rejectStatus?: number;
}

/**
 * The Stripe profile. Every `v1` entry is a candidate (Stripe sends one per active secret while an
 * endpoint secret is being rolled); `v0` (test-mode legacy) and unknown schemes are ignored.
 * `result.event` is a {@link StripeEvent} envelope.
 *
 * @example
 * ```ts
 * const verifier = createVerifier({ provider: providers.stripe(), keys: envKeyStore(), secretId: 'STRIPE_WEBHOOK_SECRET' });
 * ```
 */
export function stripe(options: StripeOptions = {}): ProviderProfile<StripeEvent> {
  // Stripe events carry their id (`evt_…`) in the signed body.
  return timestampedScheme<StripeEvent>({
    name: 'stripe',
    header: 'Stripe-Signature',
    codec: 'utf8',
    rejectStatus: options.rejectStatus,
    rejectDefault: 400,
    pastMs: options.toleranceMs,
    pastDefault: 300_000,
    futureMs: options.futureToleranceMs,
    futureDefault: 300_000,
  });
}
