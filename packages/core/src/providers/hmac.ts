/**
 * The generic, configurable HMAC profile that the built-in profiles are made of.
 *
 * @module
 */
import { DIGEST_LENGTH, type HmacAlgorithm } from '../lib/crypto-types.ts';
import { encodeBase64, encodeHex } from '../lib/encoding.ts';
import { rejectStatusOption, toleranceOptions } from '../lib/validate.ts';
import { readHeader } from '../lib/headers.ts';
import {
  MAX_HEADER_LENGTH,
  MAX_SIGNATURES,
  decodeSecretWith,
  decodeSignature,
  parseUnixSeconds,
  reject,
  type SecretCodec,
} from './shared.ts';
import type { ParsedSignature, ProviderProfile, SignContext } from './types.ts';

export type { SecretCodec } from './shared.ts';

/** Options of {@link hmac}. */
export interface HmacProfileOptions {
  /** Profile name reported in results and errors. @default 'hmac' */
  name?: string;
  /** Header carrying the signature (any case). */
  header: string;
  /** Signature encoding in the header. */
  encoding: 'hex' | 'base64';
  /** Text before each signature in the header, such as `sha256=` (GitHub) or `v0=` (Slack). */
  prefix?: string;
  /** Hash function. @default 'sha256' */
  algorithm?: HmacAlgorithm;
  /** How a stored secret becomes key bytes. @default 'utf8' */
  secretCodec?: SecretCodec;
  /** HTTP status for a rejected signature, an integer from 400 to 599. @default 401 */
  rejectStatus?: number;
  /** Separator between several signatures in one header (for example `' '`); unset = one signature. */
  separator?: string;
  /** Header carrying a signed unix timestamp (seconds). */
  timestampHeader?: string;
  /** Header carrying a signed event id. */
  idHeader?: string;
  /**
   * What is signed, as a template ending in `{body}`, with `{timestamp}` and `{id}` placeholders.
   * @default '{body}'
   */
  signedContent?: string;
  /** How old a signed timestamp may be, in ms, from 1 000 to 604 800 000 (7 days). @default 300_000 */
  toleranceMs?: number;
  /** How far ahead a signed timestamp may be, in ms, from 0 to 604 800 000 (7 days). @default 300_000 */
  futureToleranceMs?: number;
  /** Answer to a signature-check handshake, if the provider has one. */
  challenge?: ProviderProfile['challenge'];
}

/**
 * A configurable HMAC profile: signature header, encoding, prefix, optional timestamp and id
 * headers, and a signed-content template.
 *
 * @example A sender that signs the body with SHA-512 in X-Hub-Signature-512
 * ```ts
 * const profile = hmac({ name: 'acme', header: 'X-Hub-Signature-512', encoding: 'hex', prefix: 'sha512=', algorithm: 'sha512' });
 * ```
 */
export function hmac<TEvent = unknown>(options: HmacProfileOptions): ProviderProfile<TEvent> {
  const name = options.name ?? 'hmac';
  const header = options.header.toLowerCase();
  const encoding = options.encoding;
  const sigPrefix = options.prefix ?? '';
  const algorithm = options.algorithm ?? 'sha256';
  const codec = options.secretCodec ?? 'utf8';
  const rejectStatus = rejectStatusOption(`${name}()`, options.rejectStatus, 401);
  const separator = options.separator;
  const tsHeader = options.timestampHeader?.toLowerCase();
  const idHeader = options.idHeader?.toLowerCase();
  const digestLength = DIGEST_LENGTH[algorithm];
  if (encoding !== 'hex' && encoding !== 'base64') throw new TypeError(`hmac(): unknown encoding ${String(encoding)}`);
  if (!(algorithm in DIGEST_LENGTH)) throw new TypeError(`hmac(): unknown algorithm ${String(algorithm)}`);
  if (separator !== undefined) separatorOption(separator, sigPrefix, encoding);
  const template = compileTemplate(options.signedContent ?? '{body}', tsHeader !== undefined, idHeader !== undefined);
  const idSigned = (options.signedContent ?? '').includes('{id}');
  const tolerance =
    tsHeader === undefined ? undefined : toleranceOptions(`${name}()`, options.toleranceMs, options.futureToleranceMs, 300_000, 300_000);
  const headerNames = [header, tsHeader, idHeader].filter((h): h is string => h !== undefined);

  const parse = (headers: Parameters<ProviderProfile['parse']>[0]): ParsedSignature => {
    const value = readHeader(headers, header);
    if (value === undefined || value.length === 0) {
      throw reject('MISSING_SIGNATURE', name, rejectStatus, `Missing ${options.header} header.`);
    }
    if (value.length > MAX_HEADER_LENGTH) {
      throw reject('MALFORMED_SIGNATURE', name, rejectStatus, `${options.header} header is too long.`);
    }
    let signatures: Uint8Array[];
    if (separator === undefined) {
      // A one-element literal: `[]` + push would reserve 17 slots on every request.
      signatures = [token(value, 0, value.length)];
    } else {
      signatures = [];
      let start = 0;
      while (start <= value.length) {
        let end = value.indexOf(separator, start);
        if (end < 0) end = value.length;
        if (end > start) {
          if (signatures.length === MAX_SIGNATURES) {
            throw reject('MALFORMED_SIGNATURE', name, rejectStatus, `Too many signatures in ${options.header}.`);
          }
          signatures.push(token(value, start, end));
        }
        start = end + separator.length;
      }
      if (signatures.length === 0) {
        throw reject('MALFORMED_SIGNATURE', name, rejectStatus, `No signature in ${options.header}.`);
      }
    }
    let timestamp: number | undefined;
    let tsText: string | undefined;
    if (tsHeader !== undefined) {
      tsText = readHeader(headers, tsHeader);
      if (tsText === undefined) {
        throw reject('MISSING_SIGNATURE', name, rejectStatus, `Missing ${options.timestampHeader} header.`);
      }
      timestamp = parseUnixSeconds(tsText);
      if (timestamp === undefined) {
        throw reject('MALFORMED_SIGNATURE', name, rejectStatus, `${options.timestampHeader} is not a unix timestamp.`);
      }
    }
    let eventId: string | undefined;
    if (idHeader !== undefined) {
      eventId = readHeader(headers, idHeader);
      if (eventId === undefined || eventId.length === 0) {
        throw reject('MISSING_SIGNATURE', name, rejectStatus, `Missing ${options.idHeader} header.`);
      }
      if (eventId.length > 256) {
        throw reject('MALFORMED_SIGNATURE', name, rejectStatus, `${options.idHeader} is too long.`);
      }
    }
    return { signatures, prefix: template(tsText, eventId), timestamp, eventId, eventIdSigned: idSigned };
  };

  function token(value: string, start: number, end: number): Uint8Array {
    if (sigPrefix.length > 0) {
      if (!value.startsWith(sigPrefix, start)) {
        throw reject('MALFORMED_SIGNATURE', name, rejectStatus, `${options.header} does not start with "${sigPrefix}".`);
      }
      start += sigPrefix.length;
    }
    const bytes = decodeSignature(encoding, value, start, end, digestLength);
    if (bytes === undefined) {
      throw reject(
        'MALFORMED_SIGNATURE',
        name,
        rejectStatus,
        `${options.header} is not a ${digestLength}-byte ${encoding} ${algorithm} signature.`,
      );
    }
    return bytes;
  }

  return {
    name,
    rejectStatus,
    algorithm,
    headerNames,
    timestampTolerance: tolerance,
    multiSignature: separator !== undefined,
    challenge: options.challenge,
    decodeSecret: (secret) => decodeSecretWith(codec, secret, name),
    parse,
    signedPrefix: (ctx: SignContext) => template(ctx.timestamp === undefined ? undefined : String(ctx.timestamp), ctx.id),
    formatHeaders(digests, ctx) {
      if (digests.length > 1 && separator === undefined) {
        throw new TypeError(`${name}: the scheme carries one signature per header; pass one secret`);
      }
      const out: Record<string, string> = {};
      out[header] = digests.map((d) => sigPrefix + (encoding === 'hex' ? encodeHex(d) : encodeBase64(d))).join(separator ?? '');
      if (tsHeader !== undefined) {
        if (ctx.timestamp === undefined) throw new TypeError(`${name}: signing needs a timestamp`);
        out[tsHeader] = String(ctx.timestamp);
      }
      if (idHeader !== undefined) {
        // The same bounds parse() applies: an id it would refuse makes headers that never verify.
        if (ctx.id === undefined || ctx.id.length === 0 || ctx.id.length > 256) {
          throw new TypeError(`${name}: signing needs an id of 1 to 256 characters`);
        }
        out[idHeader] = ctx.id;
      }
      return out;
    },
  };
}

const ALPHABET = {
  hex: '0123456789abcdefABCDEF',
  base64: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=',
} as const;

/**
 * A separator must split a header into signatures unambiguously: non-empty, and sharing no character
 * with the prefix or the encoding's alphabet (otherwise `sign()` writes headers `parse()` splits apart).
 */
function separatorOption(separator: string, prefix: string, encoding: 'hex' | 'base64'): void {
  if (typeof separator !== 'string' || separator.length === 0) {
    throw new TypeError('hmac(): `separator` must be a non-empty string');
  }
  const token = prefix + ALPHABET[encoding];
  for (const c of separator) {
    if (token.includes(c)) {
      throw new TypeError(
        `hmac(): \`separator\` ${JSON.stringify(separator)} contains ${JSON.stringify(c)}, which can occur in a signature ` +
          `(its prefix ${JSON.stringify(prefix)} or ${encoding} digits): choose a separator such as ' ' or ','`,
      );
    }
  }
}

/** Compiles `"{id}.{timestamp}.{body}"` into a prefix builder. */
function compileTemplate(
  template: string,
  hasTimestamp: boolean,
  hasId: boolean,
): (timestamp: string | undefined, id: string | undefined) => string | undefined {
  if (!template.endsWith('{body}') || template.indexOf('{body}') !== template.length - 6) {
    throw new TypeError('hmac(): signedContent must end with {body} and contain it once');
  }
  const head = template.slice(0, -6);
  if (head.length === 0) return () => undefined;
  const parts = head.split(/(\{timestamp\}|\{id\})/).filter((p) => p.length > 0);
  for (const p of parts) {
    if (p === '{timestamp}' && !hasTimestamp) throw new TypeError('hmac(): {timestamp} needs timestampHeader');
    if (p === '{id}' && !hasId) throw new TypeError('hmac(): {id} needs idHeader');
  }
  return (timestamp, id) => {
    let out = '';
    for (const p of parts) out += p === '{timestamp}' ? (timestamp ?? '') : p === '{id}' ? (id ?? '') : p;
    return out;
  };
}
