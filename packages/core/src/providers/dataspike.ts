/**
 * Dataspike: `X-Webhook-Signature: t=<unix>,v1=<hex>`, signed content `"{t}.{raw body}"`, key =
 * hex-decode of the secret after `whsec_`. Several `v1` entries are accepted (rotation).
 *
 * @module
 */
import { DIGEST_LENGTH } from '../lib/crypto-types.ts';
import { encodeHex } from '../lib/encoding.ts';
import { readHeader } from '../lib/headers.ts';
import { decodeSecretWith, jsonField, parseTimestampedHeader, reject } from './shared.ts';
import type { ProviderProfile } from './types.ts';

/** Options of {@link dataspike}. */
export interface DataspikeOptions {
  /** How old `t` may be, in ms. @default 300_000 */
  toleranceMs?: number;
  /** How far ahead `t` may be (sender clock skew), in ms. @default 60_000 */
  futureToleranceMs?: number;
  /** HTTP status for a rejected signature. @default 401 */
  rejectStatus?: number;
}

const HEADER = 'x-webhook-signature';

/** The Dataspike profile. */
export function dataspike(options: DataspikeOptions = {}): ProviderProfile {
  const name = 'dataspike';
  const rejectStatus = options.rejectStatus ?? 401;
  return {
    name,
    rejectStatus,
    algorithm: 'sha256',
    headerNames: [HEADER],
    timestampTolerance: { pastMs: options.toleranceMs ?? 300_000, futureMs: options.futureToleranceMs ?? 60_000 },
    multiSignature: true,
    decodeSecret: (secret) => decodeSecretWith('whsec-hex', secret, name),
    parse(headers) {
      const value = readHeader(headers, HEADER);
      if (value === undefined || value.length === 0) {
        throw reject('MISSING_SIGNATURE', name, rejectStatus, 'Missing X-Webhook-Signature header.');
      }
      const parsed = parseTimestampedHeader(value, 'v1', DIGEST_LENGTH.sha256);
      if (typeof parsed === 'string') {
        throw reject('MALFORMED_SIGNATURE', name, rejectStatus, `Malformed X-Webhook-Signature: ${parsed}.`);
      }
      return parsed;
    },
    signedPrefix(ctx) {
      if (ctx.timestamp === undefined) throw new TypeError('dataspike: signing needs a timestamp');
      return `${ctx.timestamp}.`;
    },
    formatHeaders(digests, ctx) {
      if (ctx.timestamp === undefined) throw new TypeError('dataspike: signing needs a timestamp');
      return { [HEADER]: [`t=${ctx.timestamp}`, ...digests.map((d) => `v1=${encodeHex(d)}`)].join(',') };
    },
    eventIdFromBody: (body) => jsonField(body, 'id'),
  };
}
