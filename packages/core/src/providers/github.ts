/**
 * GitHub: `X-Hub-Signature-256: sha256=<hex>` is the HMAC-SHA256 of the raw body, keyed with the
 * UTF-8 bytes of the webhook secret. `X-GitHub-Delivery` (a GUID, not signed) is reported as the
 * event id.
 *
 * @module
 */
import { readHeader } from '../lib/headers.ts';
import { booleanOption, rejectStatusOption } from '../lib/validate.ts';
import { hmac } from './hmac.ts';
import type { GitHubEvent } from './events.ts';
import type { ProviderProfile } from './types.ts';

/** Options of {@link github}. */
export interface GitHubOptions {
  /**
   * HTTP status for a rejected signature. @default 401 (GitHub's documented receiver;
   * `@octokit/webhooks` middleware answers 400)
   */
  rejectStatus?: number;
  /**
   * Report `X-GitHub-Delivery` as the event id in results. The header is not signed, so replay
   * defence never keys on it (it uses the digest of the signed content).
   * @default true
   */
  deliveryIdAsEventId?: boolean;
}

const DELIVERY = 'x-github-delivery';

/**
 * The GitHub profile (`X-Hub-Signature-256`). Hex is accepted in either case, identically on every
 * runtime. The legacy SHA-1 `X-Hub-Signature` header is not read: GitHub sends the SHA-256 header
 * on every delivery that has a secret. `result.event` is a {@link GitHubEvent}. If you must verify SHA-1, build
 * `hmac({ name: 'github-sha1', header: 'X-Hub-Signature', prefix: 'sha1=', encoding: 'hex', algorithm: 'sha1' })`.
 *
 * @example
 * ```ts
 * const verifier = createVerifier({ provider: providers.github(), keys: envKeyStore(), secretId: 'GITHUB_WEBHOOK_SECRET' });
 * ```
 */
export function github(options: GitHubOptions = {}): ProviderProfile<GitHubEvent> {
  const useDeliveryId = booleanOption('github()', 'deliveryIdAsEventId', options.deliveryIdAsEventId, true);
  const base = hmac<GitHubEvent>({
    name: 'github',
    header: 'X-Hub-Signature-256',
    encoding: 'hex',
    prefix: 'sha256=',
    secretCodec: 'utf8',
    rejectStatus: rejectStatusOption('github()', options.rejectStatus, 401),
  });
  return {
    ...base,
    headerNames: [...base.headerNames, DELIVERY],
    parse(headers) {
      const parsed = base.parse(headers);
      return useDeliveryId ? { ...parsed, eventId: unsignedId(readHeader(headers, DELIVERY)) } : parsed;
    },
    formatHeaders(digests, ctx) {
      const out = base.formatHeaders(digests, ctx);
      if (ctx.id !== undefined) out[DELIVERY] = ctx.id;
      return out;
    },
  };
}

/** An unsigned id header worth reporting: present, non-empty, at most 256 characters. @internal */
export function unsignedId(value: string | undefined): string | undefined {
  return value !== undefined && value.length > 0 && value.length <= 256 ? value : undefined;
}
