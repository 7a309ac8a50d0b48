/**
 * Building blocks shared by the profiles: errors without request data, key codecs, signature lists.
 *
 * @internal
 * @module
 */
import { requestRejection, VerificationError } from '../errors.ts';
import type { ParsedSignature } from './types.ts';
import { decodeBase64, decodeHex, hasSurroundingWhitespace, utf8 } from '../lib/encoding.ts';

/** Longest signature header we read; a longer one is malformed before any work. */
export const MAX_HEADER_LENGTH = 4096;
/** Most signatures we compare per request. */
export const MAX_SIGNATURES = 8;

/** How a stored secret becomes key bytes. */
export type SecretCodec =
  /** UTF-8 bytes of the whole string (Smartcar, Mobway, Stripe's whole `whsec_…`, GitHub, Slack). */
  | 'utf8'
  /** Strip an optional `whsec_`, hex-decode (Dataspike). */
  | 'whsec-hex'
  /** Strip an optional `whsec_`, base64-decode (Standard Webhooks, Svix). */
  | 'whsec-base64'
  /** Hex-decode the whole string. */
  | 'hex'
  /** Base64-decode the whole string. */
  | 'base64';

/** A rejection with no request data in it. */
export function reject(
  code: 'MISSING_SIGNATURE' | 'MALFORMED_SIGNATURE',
  provider: string,
  status: number,
  message: string,
): VerificationError {
  return requestRejection(code, message, { provider, status });
}

/** Decodes a stored secret with `codec`. Bytes are used as-is. Errors never include the secret. */
export function decodeSecretWith(codec: SecretCodec, secret: string | Uint8Array, provider: string): Uint8Array {
  if (typeof secret !== 'string') {
    if (!(secret instanceof Uint8Array)) throw invalid(provider, 'the secret must be a string or bytes');
    if (secret.length === 0) throw invalid(provider, 'the secret is empty');
    // Bytes from a store (SecretBinary, a file) are the key itself for the UTF-8 codec; for the
    // text codecs (hex, base64, whsec_) they are read as UTF-8 text first.
    if (codec === 'utf8') return secret;
    return decodeSecretWith(codec, new TextDecoder().decode(secret), provider);
  }
  if (secret.length === 0) throw invalid(provider, 'the secret is empty');
  if (hasSurroundingWhitespace(secret)) {
    throw invalid(provider, 'the secret has leading or trailing whitespace (a copy-paste error?); it was not trimmed');
  }
  switch (codec) {
    case 'utf8':
      return utf8(secret);
    case 'hex':
    case 'whsec-hex': {
      const body = codec === 'whsec-hex' && secret.startsWith('whsec_') ? secret.slice(6) : secret;
      const bytes = decodeHex(body);
      if (!bytes || bytes.length === 0) throw invalid(provider, `the secret is not ${codec === 'hex' ? '' : 'whsec_ + '}hex`);
      return bytes;
    }
    case 'base64':
    case 'whsec-base64': {
      if (/^v1[,a]/.test(secret)) throw invalid(provider, 'the secret looks like a signature (starts with "v1,"), not a signing secret');
      const body = codec === 'whsec-base64' && secret.startsWith('whsec_') ? secret.slice(6) : secret;
      const bytes = decodeBase64(body) ?? decodeBase64(body, true);
      if (!bytes || bytes.length === 0) throw invalid(provider, `the secret is not ${codec === 'base64' ? '' : 'whsec_ + '}base64`);
      return bytes;
    }
  }
}

function invalid(provider: string, why: string): VerificationError {
  return new VerificationError('INVALID_SECRET', `Invalid ${provider} signing secret: ${why}.`, {
    provider,
    hint: 'Check the secret stored for this provider; keyturn never prints it.',
  });
}

/** Decodes one signature token to exactly `length` bytes, or `undefined`. */
export function decodeSignature(
  encoding: 'hex' | 'base64',
  text: string,
  start: number,
  end: number,
  length: number,
): Uint8Array | undefined {
  if (encoding === 'hex') {
    if (end - start !== length * 2) return undefined;
    return decodeHex(text, start, end);
  }
  const bytes = decodeBase64(text, false, start, end);
  return bytes && bytes.length === length ? bytes : undefined;
}

/** Parses a decimal unix timestamp token strictly (digits only, no sign, at most 12 digits). */
export function parseUnixSeconds(text: string): number | undefined {
  if (text.length === 0 || text.length > 12) return undefined;
  // Accumulated while validating: exact for up to 12 digits, and cheaper than Number(text).
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
    value = value * 10 + (c - 48);
  }
  return value;
}

/**
 * Parses `t=<unix>,v1=<hex>[,v1=<hex>…]` (Dataspike, Stripe). Items are comma-separated, optional
 * spaces after a comma are allowed (a repeated header joined by `", "`), unknown keys (`v0`, …)
 * are skipped, exactly one `t` is required and every `scheme` signature must decode to
 * `digestLength` bytes of hex. Returns an error message (no request data) or the parsed signature,
 * whose prefix is `"{t}."`.
 */
export function parseTimestampedHeader(value: string, scheme: string, digestLength: number): ParsedSignature | string {
  if (value.length > MAX_HEADER_LENGTH) return 'header is too long';
  let timestampText: string | undefined;
  // Allocated on the first signature as a one-element literal: `[]` + push would reserve 17 slots.
  let signatures: Uint8Array[] | undefined;
  let start = 0;
  const n = value.length;
  while (start < n) {
    while (start < n && value.charCodeAt(start) === 32) start++;
    let end = value.indexOf(',', start);
    if (end < 0) end = n;
    const eq = value.indexOf('=', start);
    if (eq < 0 || eq >= end) return 'an item is not key=value';
    const keyLen = eq - start;
    if (keyLen === 1 && value.charCodeAt(start) === 116 /* t */) {
      if (timestampText !== undefined) return 'more than one timestamp';
      timestampText = value.slice(eq + 1, end);
    } else if (keyLen === scheme.length && value.startsWith(scheme, start)) {
      if (signatures !== undefined && signatures.length === MAX_SIGNATURES) return 'too many signatures';
      const sig = end - eq - 1 === digestLength * 2 ? decodeHex(value, eq + 1, end) : undefined;
      if (sig === undefined) return `a ${scheme} signature is not ${digestLength * 2} hex characters`;
      if (signatures === undefined) signatures = [sig];
      else signatures.push(sig);
    }
    start = end + 1;
  }
  if (timestampText === undefined) return 'no timestamp (t=)';
  const timestamp = parseUnixSeconds(timestampText);
  if (timestamp === undefined) return 'the timestamp is not unix seconds';
  if (signatures === undefined) return `no ${scheme} signature`;
  // The signed content is `"{t}." + body`, with `t` exactly as sent.
  return { signatures, prefix: timestampText + '.', timestamp, eventId: undefined };
}

/** Parses `body` as JSON and reads a top-level string field; `undefined` on any failure. */
export function jsonField(body: string | Uint8Array, ...path: string[]): string | undefined {
  try {
    let v: unknown = JSON.parse(typeof body === 'string' ? body : new TextDecoder().decode(body));
    for (const key of path) {
      if (v === null || typeof v !== 'object') return undefined;
      v = (v as Record<string, unknown>)[key];
    }
    return typeof v === 'string' && v.length > 0 ? v : typeof v === 'number' ? String(v) : undefined;
  } catch {
    return undefined;
  }
}
