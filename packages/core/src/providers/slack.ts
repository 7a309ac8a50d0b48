/**
 * Slack: `X-Slack-Signature: v0=<hex>` is the HMAC-SHA256 of `"v0:{X-Slack-Request-Timestamp}:{raw body}"`,
 * keyed with the UTF-8 bytes of the app's signing secret.
 *
 * @module
 */
import { hmac } from './hmac.ts';
import type { ProviderProfile } from './types.ts';

/** Options of {@link slack}. */
export interface SlackOptions {
  /** How old `X-Slack-Request-Timestamp` may be, in ms, from 1 000 to 604 800 000 (7 days). @default 300_000 (Slack's documentation) */
  toleranceMs?: number;
  /** How far ahead it may be, in ms, from 0 to 604 800 000. @default 300_000 (Slack's documentation compares the absolute difference) */
  futureToleranceMs?: number;
  /** HTTP status for a rejected signature. @default 401 (what Bolt's receivers answer) */
  rejectStatus?: number;
}

/**
 * The Slack request-signing profile (Events API, interactivity, slash commands). Slack's
 * `url_verification` handshake is an ordinary signed request: verify it, then echo its `challenge`.
 *
 * @example
 * ```ts
 * const verifier = createVerifier({ provider: providers.slack(), keys: envKeyStore(), secretId: 'SLACK_SIGNING_SECRET' });
 * ```
 */
export function slack(options: SlackOptions = {}): ProviderProfile {
  return hmac({
    name: 'slack',
    header: 'X-Slack-Signature',
    encoding: 'hex',
    prefix: 'v0=',
    secretCodec: 'utf8',
    timestampHeader: 'X-Slack-Request-Timestamp',
    signedContent: 'v0:{timestamp}:{body}',
    toleranceMs: options.toleranceMs,
    futureToleranceMs: options.futureToleranceMs,
    rejectStatus: options.rejectStatus,
  });
}
