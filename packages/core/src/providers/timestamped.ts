/**
 * The `t=<unix>,v1=<hex>[,v1=<hex>…]` scheme shared by Dataspike and Stripe: signed content
 * `"{t}.{raw body}"`, HMAC-SHA256, several `v1` entries accepted. The profiles differ only in the
 * header name, the key codec, the tolerances and the reject status.
 *
 * @internal
 * @module
 */
import { DIGEST_LENGTH } from '../lib/crypto-types.ts';
import { encodeHex } from '../lib/encoding.ts';
import { rejectStatusOption, toleranceOptions } from '../lib/validate.ts';
import { readHeader } from '../lib/headers.ts';
import { decodeSecretWith, jsonField, parseTimestampedHeader, reject, type SecretCodec } from './shared.ts';
import type { ProviderProfile } from './types.ts';

/** What distinguishes one `t=…,v1=…` profile from another. */
export interface TimestampedSchemeOptions {
  /** Profile name. */
  readonly name: string;
  /** Signature header as documented (any case is read). */
  readonly header: string;
  /** How a stored secret becomes key bytes. */
  readonly codec: SecretCodec;
  /** HTTP status for a rejected signature (the user's, checked here). */
  readonly rejectStatus: number | undefined;
  /** How old `t` may be, in ms (the user's `toleranceMs`, checked here). */
  readonly pastMs: number | undefined;
  /** How far ahead `t` may be, in ms (the user's `futureToleranceMs`, checked here). */
  readonly futureMs: number | undefined;
  /** Default of `pastMs`. */
  readonly pastDefault: number;
  /** Default of `futureMs`. */
  readonly futureDefault: number;
  /** Default of `rejectStatus`. */
  readonly rejectDefault: number;
}

/** Builds a `t=…,v1=…` profile; the event id is the body's top-level `id`. */
export function timestampedScheme<TEvent = unknown>(o: TimestampedSchemeOptions): ProviderProfile<TEvent> {
  const { name } = o;
  const rejectStatus = rejectStatusOption(`${name}()`, o.rejectStatus, o.rejectDefault);
  const tolerance = toleranceOptions(`${name}()`, o.pastMs, o.futureMs, o.pastDefault, o.futureDefault);
  const header = o.header.toLowerCase();
  const needTimestamp = (timestamp: number | undefined): number => {
    if (timestamp === undefined) throw new TypeError(`${name}: signing needs a timestamp`);
    return timestamp;
  };
  return {
    name,
    rejectStatus,
    algorithm: 'sha256',
    headerNames: [header],
    timestampTolerance: tolerance,
    multiSignature: true,
    decodeSecret: (secret) => decodeSecretWith(o.codec, secret, name),
    parse(headers) {
      const value = readHeader(headers, header);
      if (value === undefined || value.length === 0) {
        throw reject('MISSING_SIGNATURE', name, rejectStatus, `Missing ${o.header} header.`);
      }
      const parsed = parseTimestampedHeader(value, 'v1', DIGEST_LENGTH.sha256);
      if (typeof parsed === 'string') {
        throw reject('MALFORMED_SIGNATURE', name, rejectStatus, `Malformed ${o.header}: ${parsed}.`);
      }
      return parsed;
    },
    signedPrefix: (ctx) => `${needTimestamp(ctx.timestamp)}.`,
    formatHeaders: (digests, ctx) => ({
      [header]: [`t=${needTimestamp(ctx.timestamp)}`, ...digests.map((d) => `v1=${encodeHex(d)}`)].join(','),
    }),
    eventIdFromBody: (body) => jsonField(body, 'id'),
  };
}
