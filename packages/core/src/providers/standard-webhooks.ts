/**
 * Standard Webhooks (and Svix, Clerk, Resend, ... which send it): `webhook-id`,
 * `webhook-timestamp` and `webhook-signature: v1,<base64> [v1,<base64> ...]` (or the same three
 * headers named `svix-*`). Signed content `"{id}.{timestamp}.{raw body}"`, HMAC-SHA256, key =
 * base64-decode of the secret after an optional `whsec_`.
 *
 * @module
 */
import { VerificationError } from '../errors.ts';
import { DIGEST_LENGTH } from '../lib/crypto-types.ts';
import { decodeBase64, encodeBase64 } from '../lib/encoding.ts';
import { booleanOption, rejectStatusOption, toleranceOptions } from '../lib/validate.ts';
import { readHeader } from '../lib/headers.ts';
import { MAX_HEADER_LENGTH, MAX_SIGNATURES, decodeSecretWith, parseUnixSeconds, reject } from './shared.ts';
import type { HeadersInput, ParsedSignature, ProviderProfile, SignContext } from './types.ts';

/** Options of {@link standardWebhooks}. */
export interface StandardWebhooksOptions {
  /** Profile name reported in results, errors and events (`'svix'`, `'clerk'`, ...). @default 'standard-webhooks' */
  name?: string;
  /** How old `webhook-timestamp` may be, in ms, from 1 000 to 604 800 000 (7 days). @default 300_000 (the spec and the official libraries) */
  toleranceMs?: number;
  /** How far ahead `webhook-timestamp` may be, in ms, from 0 to 604 800 000. @default 300_000 (the spec and the official libraries) */
  futureToleranceMs?: number;
  /** HTTP status for a rejected signature, an integer from 400 to 599. @default 400 (what Svix's documented receivers answer) */
  rejectStatus?: number;
  /**
   * Require the decoded key to be 24 to 64 bytes, as the spec says signing secrets are. A shorter or
   * longer key is refused with `INVALID_SECRET` at configuration time. The official libraries accept
   * any non-empty key: set `false` for a sender whose secrets fall outside the spec.
   * @default true
   */
  strictKeyLength?: boolean;
  /** Header family that `sign()` emits. Verification always reads both. @default 'webhook' */
  senderHeaders?: 'webhook' | 'svix';
}

/** The spec's bounds on a signing secret: "at least 24 bytes ... 512 [bits] maximum". */
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;
const MAX_ID_LENGTH = 256;

const FAMILIES = [
  { id: 'webhook-id', timestamp: 'webhook-timestamp', signature: 'webhook-signature' },
  { id: 'svix-id', timestamp: 'svix-timestamp', signature: 'svix-signature' },
] as const;

/**
 * The Standard Webhooks profile (symmetric `v1` signatures). Several space-separated `v1`
 * signatures are accepted (sender-side rotation); tokens of other versions (`v1a`, `v2`) are
 * skipped. The `webhook-id` header (signed) is reported as the event id.
 *
 * @example Svix, keys from the environment
 * ```ts
 * import { createVerifier, providers } from '@keyturn/core';
 * const verifier = createVerifier({ provider: providers.standardWebhooks({ name: 'svix' }), keys: envKeyStore(), secretId: 'SVIX_SECRET' });
 * ```
 */
export function standardWebhooks(options: StandardWebhooksOptions = {}): ProviderProfile {
  const name = options.name ?? 'standard-webhooks';
  const rejectStatus = rejectStatusOption(`${name}()`, options.rejectStatus, 400);
  const strictKeyLength = booleanOption(`${name}()`, 'strictKeyLength', options.strictKeyLength, true);
  const tolerance = toleranceOptions(`${name}()`, options.toleranceMs, options.futureToleranceMs, 300_000, 300_000);
  const sender = options.senderHeaders === 'svix' ? FAMILIES[1] : FAMILIES[0];
  const digestLength = DIGEST_LENGTH.sha256;
  const fail = (code: 'MISSING_SIGNATURE' | 'MALFORMED_SIGNATURE', message: string): VerificationError =>
    reject(code, name, rejectStatus, message);

  function parse(headers: HeadersInput): ParsedSignature {
    // One family for all three headers: webhook-* when webhook-signature is present, else svix-*.
    let family: (typeof FAMILIES)[number] = FAMILIES[0];
    let value = readHeader(headers, family.signature);
    if (value === undefined) {
      family = FAMILIES[1];
      value = readHeader(headers, family.signature);
    }
    if (value === undefined || value.length === 0) {
      throw fail('MISSING_SIGNATURE', 'Missing webhook-signature (or svix-signature) header.');
    }
    const id = readHeader(headers, family.id);
    if (id === undefined || id.length === 0) throw fail('MISSING_SIGNATURE', `Missing ${family.id} header.`);
    const tsText = readHeader(headers, family.timestamp);
    if (tsText === undefined || tsText.length === 0) throw fail('MISSING_SIGNATURE', `Missing ${family.timestamp} header.`);

    if (id.length > MAX_ID_LENGTH) throw fail('MALFORMED_SIGNATURE', `${family.id} is too long.`);
    // The spec: ids and timestamps must not contain "." (the content is "{id}.{timestamp}.{body}",
    // so a dot would let the split between id, timestamp and body move).
    if (id.includes('.')) throw fail('MALFORMED_SIGNATURE', `${family.id} contains ".", which the spec forbids.`);
    const timestamp = parseUnixSeconds(tsText);
    if (timestamp === undefined) throw fail('MALFORMED_SIGNATURE', `${family.timestamp} is not a unix timestamp.`);

    if (value.length > MAX_HEADER_LENGTH) throw fail('MALFORMED_SIGNATURE', `${family.signature} header is too long.`);
    const signatures: Uint8Array[] = [];
    let start = 0;
    const n = value.length;
    while (start < n) {
      let end = value.indexOf(' ', start);
      if (end < 0) end = n;
      if (end > start) {
        const comma = value.indexOf(',', start);
        if (comma < 0 || comma >= end) throw fail('MALFORMED_SIGNATURE', `A ${family.signature} entry is not "version,signature".`);
        if (comma - start === 2 && value.startsWith('v1', start)) {
          if (signatures.length === MAX_SIGNATURES) throw fail('MALFORMED_SIGNATURE', `Too many signatures in ${family.signature}.`);
          const sig = decodeBase64(value, false, comma + 1, end);
          if (sig === undefined || sig.length !== digestLength) {
            throw fail('MALFORMED_SIGNATURE', `A v1 signature in ${family.signature} is not ${digestLength} bytes of base64.`);
          }
          signatures.push(sig);
        }
        // Other versions (v1a = ed25519, future ones) are skipped, as the spec's libraries do.
      }
      start = end + 1;
    }
    if (signatures.length === 0) throw fail('MALFORMED_SIGNATURE', `No v1 signature in ${family.signature}.`);
    return { signatures, prefix: `${id}.${tsText}.`, timestamp, eventId: id, eventIdSigned: true };
  }

  function context(ctx: SignContext): { id: string; timestamp: number } {
    if (ctx.id === undefined || ctx.id.length === 0) throw new TypeError(`${name}: signing needs a message id (sign({ id }))`);
    if (ctx.id.length > MAX_ID_LENGTH) throw new TypeError(`${name}: a message id must be at most ${MAX_ID_LENGTH} characters`);
    if (ctx.id.includes('.')) throw new TypeError(`${name}: a message id must not contain "."`);
    if (ctx.timestamp === undefined) throw new TypeError(`${name}: signing needs a timestamp`);
    return { id: ctx.id, timestamp: ctx.timestamp };
  }

  return {
    name,
    rejectStatus,
    algorithm: 'sha256',
    headerNames: FAMILIES.flatMap((f) => [f.signature, f.id, f.timestamp]),
    timestampTolerance: tolerance,
    multiSignature: true,
    decodeSecret(secret) {
      const key = decodeSecretWith('whsec-base64', secret, name);
      if (strictKeyLength && (key.length < MIN_KEY_BYTES || key.length > MAX_KEY_BYTES)) {
        throw new VerificationError(
          'INVALID_SECRET',
          `Invalid ${name} signing secret: it decodes to ${key.length} bytes; Standard Webhooks secrets are ${MIN_KEY_BYTES} to ${MAX_KEY_BYTES} bytes.`,
          {
            provider: name,
            hint: 'Check that the whole whsec_… secret was stored; for a sender that uses other key sizes, pass strictKeyLength: false.',
          },
        );
      }
      return key;
    },
    parse,
    signedPrefix(ctx) {
      const { id, timestamp } = context(ctx);
      return `${id}.${timestamp}.`;
    },
    formatHeaders(digests, ctx) {
      const { id, timestamp } = context(ctx);
      return {
        [sender.id]: id,
        [sender.timestamp]: String(timestamp),
        [sender.signature]: digests.map((d) => `v1,${encodeBase64(d)}`).join(' '),
      };
    },
  };
}
