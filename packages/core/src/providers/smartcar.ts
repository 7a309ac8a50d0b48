/**
 * Smartcar: `SC-Signature` is the hex HMAC-SHA256 of the raw body, keyed by the UTF-8 bytes of the
 * Application Management Token (AMT). On setup Smartcar sends a `VERIFY` event whose challenge
 * must be answered with `{"challenge": hex HMAC-SHA256(AMT, challenge)}`.
 *
 * @module
 */
import { rejectStatusOption } from '../lib/validate.ts';
import { hmac } from './hmac.ts';
import { jsonField } from './shared.ts';
import type { SmartcarEvent } from './events.ts';
import type { ChallengeSpec, ProviderProfile } from './types.ts';

/** Options of {@link smartcar}. */
export interface SmartcarOptions {
  /** HTTP status for a rejected signature. @default 401 */
  rejectStatus?: number;
}

/** Reads the challenge of a v4.0 (`eventType: "VERIFY"`, `data.challenge`) or v2.0 (`eventName: "verify"`, `payload.challenge`) VERIFY payload. */
export const smartcarChallenge: ChallengeSpec = {
  extract(payload) {
    if (payload === null || typeof payload !== 'object') return undefined;
    const p = payload as Record<string, unknown>;
    const v4 = p['eventType'] === 'VERIFY' ? p['data'] : undefined;
    const v2 = p['eventName'] === 'verify' ? p['payload'] : undefined;
    const holder = (v4 ?? v2) as Record<string, unknown> | undefined;
    const challenge = holder && typeof holder === 'object' ? holder['challenge'] : undefined;
    return typeof challenge === 'string' && challenge.length > 0 ? challenge : undefined;
  },
  respond: (hexDigest) => ({ challenge: hexDigest }),
};

/**
 * The Smartcar profile. `result.event` is a {@link SmartcarEvent} (v4.0 or v2.0 payload).
 *
 * @example
 * ```ts
 * import { createVerifier, providers } from '@keyturn/core';
 * const verifier = createVerifier({ provider: providers.smartcar(), keys: envKeyStore(), secretId: 'SMARTCAR_AMT' });
 * ```
 */
export function smartcar(options: SmartcarOptions = {}): ProviderProfile<SmartcarEvent> {
  const base = hmac<SmartcarEvent>({
    name: 'smartcar',
    header: 'SC-Signature',
    encoding: 'hex',
    secretCodec: 'utf8',
    rejectStatus: rejectStatusOption('smartcar()', options.rejectStatus, 401),
    challenge: smartcarChallenge,
  });
  return {
    ...base,
    // v4.0 payloads carry `eventId`; v2.0 ones carry none (the body digest is used instead).
    eventIdFromBody: (body) => jsonField(body, 'eventId'),
  };
}
