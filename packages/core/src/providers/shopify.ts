/**
 * Shopify: `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the raw body, keyed with the
 * UTF-8 bytes of the app's client secret. `X-Shopify-Webhook-Id` (not signed) is reported as the
 * event id. Shopify's newer event deliveries use the same scheme under unprefixed names
 * (`shopify-hmac-sha256`, `shopify-webhook-id`); both families are read.
 *
 * @module
 */
import { readHeader } from '../lib/headers.ts';
import { unsignedId } from './github.ts';
import { booleanOption, rejectStatusOption } from '../lib/validate.ts';
import { hmac } from './hmac.ts';
import type { ProviderProfile } from './types.ts';

/** Options of {@link shopify}. */
export interface ShopifyOptions {
  /** HTTP status for a rejected signature. @default 401 (Shopify's documentation and app templates) */
  rejectStatus?: number;
  /**
   * Report `X-Shopify-Webhook-Id` as the event id in results. The header is not signed, so replay
   * defence never keys on it (it uses the digest of the signed content).
   * @default true
   */
  webhookIdAsEventId?: boolean;
}

/**
 * The Shopify webhook profile. Shopify signs no timestamp, so there is no age check: pair it with
 * replay defence if duplicates matter.
 *
 * @example
 * ```ts
 * const verifier = createVerifier({ provider: providers.shopify(), keys: envKeyStore(), secretId: 'SHOPIFY_API_SECRET' });
 * ```
 */
export function shopify(options: ShopifyOptions = {}): ProviderProfile {
  const rejectStatus = rejectStatusOption('shopify()', options.rejectStatus, 401);
  const useWebhookId = booleanOption('shopify()', 'webhookIdAsEventId', options.webhookIdAsEventId, true);
  const common = { name: 'shopify', encoding: 'base64', secretCodec: 'utf8', rejectStatus } as const;
  const classic = hmac({ ...common, header: 'X-Shopify-Hmac-Sha256' });
  const events = hmac({ ...common, header: 'shopify-hmac-sha256' });
  return {
    ...classic,
    headerNames: ['x-shopify-hmac-sha256', 'x-shopify-webhook-id', 'shopify-hmac-sha256', 'shopify-webhook-id'],
    parse(headers) {
      // Like @shopify/shopify-api: the events family wins when its header is present.
      const isEvents = readHeader(headers, 'shopify-hmac-sha256') !== undefined;
      const parsed = (isEvents ? events : classic).parse(headers);
      if (!useWebhookId) return parsed;
      return { ...parsed, eventId: unsignedId(readHeader(headers, isEvents ? 'shopify-webhook-id' : 'x-shopify-webhook-id')) };
    },
    formatHeaders(digests, ctx) {
      const out = classic.formatHeaders(digests, ctx);
      if (ctx.id !== undefined) out['x-shopify-webhook-id'] = ctx.id;
      return out;
    },
  };
}
