/**
 * Standard Webhooks (and Svix, Clerk, Resend, ... which send it): `webhook-id`,
 * `webhook-timestamp` and `webhook-signature: v1,<base64> [v1a,<base64> ...]` (or the same three
 * headers named `svix-*`). Signed content `"{id}.{timestamp}.{raw body}"`. Symmetric `v1`:
 * HMAC-SHA256, key = base64-decode of the secret after an optional `whsec_`. Asymmetric `v1a`:
 * Ed25519, verified with `whpk_` public keys (base64 of the 32 raw bytes) and signed with `whsk_`
 * secret keys (base64 of the 32-byte seed).
 *
 * @module
 */
import { VerificationError } from '../errors.ts';
import { DIGEST_LENGTH } from '../lib/crypto-types.ts';
import { decodeBase64, encodeBase64 } from '../lib/encoding.ts';
import { booleanOption, rejectStatusOption, toleranceOptions } from '../lib/validate.ts';
import { readHeader } from '../lib/headers.ts';
import type { StandardWebhooksEvent } from './events.ts';
import { MAX_HEADER_LENGTH, MAX_SIGNATURES, decodeSecretWith, parseUnixSeconds, reject } from './shared.ts';
import type { AsymmetricScheme, HeadersInput, ParsedSignature, ProviderProfile, SignContext } from './types.ts';

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

/** The prefixes of an Ed25519 public key (verifies `v1a`) and secret key (signs it). */
const PUBLIC_PREFIX = 'whpk_';
const SECRET_PREFIX = 'whsk_';
const ED25519_KEY_BYTES = 32;
const ED25519_SIGNATURE_BYTES = 64;

const FAMILIES = [
  { id: 'webhook-id', timestamp: 'webhook-timestamp', signature: 'webhook-signature' },
  { id: 'svix-id', timestamp: 'svix-timestamp', signature: 'svix-signature' },
] as const;

/**
 * The Standard Webhooks profile: symmetric `v1` (HMAC-SHA256, `whsec_` secrets) and asymmetric
 * `v1a` (Ed25519, `whpk_` public keys) signatures, in any mix, space-separated in one header (the
 * sender signs with old and new keys during a rotation); tokens of other versions (`v2`) are
 * skipped. A key version whose secret is a `whpk_` public key verifies `v1a` signatures, with the
 * same roles and windows as a secret; `sign()` with a `whsk_` secret key writes `v1a`. The
 * `webhook-id` header (signed) is reported as the event id. `result.event` is a
 * {@link StandardWebhooksEvent}, or your own type: `standardWebhooks<MyEvent>()`.
 *
 * @example Svix, keys from the environment
 * ```ts
 * import { createVerifier, providers } from '@keyturn/core';
 * const verifier = createVerifier({ provider: providers.standardWebhooks({ name: 'svix' }), keys: envKeyStore(), secretId: 'SVIX_SECRET' });
 * ```
 *
 * @example Asymmetric (v1a): the receiver holds only the public key
 * ```ts
 * const verifier = createVerifier({ provider: providers.standardWebhooks(), keys: 'whpk_…' });
 * ```
 */
export function standardWebhooks<TEvent = StandardWebhooksEvent>(options: StandardWebhooksOptions = {}): ProviderProfile<TEvent> {
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
    let asymmetric: Uint8Array[] | undefined;
    let start = 0;
    const n = value.length;
    while (start < n) {
      let end = value.indexOf(' ', start);
      if (end < 0) end = n;
      if (end > start) {
        const comma = value.indexOf(',', start);
        if (comma < 0 || comma >= end) throw fail('MALFORMED_SIGNATURE', `A ${family.signature} entry is not "version,signature".`);
        if (comma - start === 2 && value.startsWith('v1', start)) {
          if (signatures.length + (asymmetric?.length ?? 0) === MAX_SIGNATURES)
            throw fail('MALFORMED_SIGNATURE', `Too many signatures in ${family.signature}.`);
          const sig = decodeBase64(value, false, comma + 1, end);
          if (sig === undefined || sig.length !== digestLength) {
            throw fail('MALFORMED_SIGNATURE', `A v1 signature in ${family.signature} is not ${digestLength} bytes of base64.`);
          }
          signatures.push(sig);
        } else if (comma - start === 3 && value.startsWith('v1a', start)) {
          if (signatures.length + (asymmetric?.length ?? 0) === MAX_SIGNATURES)
            throw fail('MALFORMED_SIGNATURE', `Too many signatures in ${family.signature}.`);
          const sig = decodeBase64(value, false, comma + 1, end);
          if (sig === undefined || sig.length !== ED25519_SIGNATURE_BYTES) {
            throw fail('MALFORMED_SIGNATURE', `A v1a signature in ${family.signature} is not ${ED25519_SIGNATURE_BYTES} bytes of base64.`);
          }
          (asymmetric ??= []).push(sig);
        }
        // Other versions (future ones) are skipped, as the spec's libraries do.
      }
      start = end + 1;
    }
    if (signatures.length === 0 && asymmetric === undefined)
      throw fail('MALFORMED_SIGNATURE', `No v1 or v1a signature in ${family.signature}.`);
    const prefix = `${id}.${tsText}.`;
    if (asymmetric === undefined) return { signatures, prefix, timestamp, eventId: id, eventIdSigned: true };
    return { signatures, asymmetricSignatures: asymmetric, prefix, timestamp, eventId: id, eventIdSigned: true };
  }

  function context(ctx: SignContext): { id: string; timestamp: number } {
    if (ctx.id === undefined || ctx.id.length === 0) throw new TypeError(`${name}: signing needs a message id (sign({ id }))`);
    if (ctx.id.length > MAX_ID_LENGTH) throw new TypeError(`${name}: a message id must be at most ${MAX_ID_LENGTH} characters`);
    if (ctx.id.includes('.')) throw new TypeError(`${name}: a message id must not contain "."`);
    if (ctx.timestamp === undefined) throw new TypeError(`${name}: signing needs a timestamp`);
    return { id: ctx.id, timestamp: ctx.timestamp };
  }

  const asymmetricScheme: AsymmetricScheme = {
    algorithm: 'ed25519',
    publicKey(secret) {
      const text = keyText(secret);
      if (text.startsWith(SECRET_PREFIX)) {
        throw invalidKey(
          name,
          'it is a whsk_ secret key, which only the sender holds',
          'A receiver verifies v1a signatures with the whpk_ public key; store that one.',
        );
      }
      if (!text.startsWith(PUBLIC_PREFIX)) return undefined;
      const key = ed25519Key(text.slice(PUBLIC_PREFIX.length));
      if (key === undefined) {
        throw invalidKey(
          name,
          `a whpk_ public key is ${ED25519_KEY_BYTES} bytes of base64 after the prefix`,
          'Check that the whole whpk_… key was stored.',
        );
      }
      return key;
    },
    signingKey(secret) {
      const text = keyText(secret);
      if (!text.startsWith(SECRET_PREFIX)) return undefined;
      const bytes = decodeBase64(text.slice(SECRET_PREFIX.length));
      // The 32-byte seed (the spec's libraries), or seed || public key (libsodium, NaCl).
      if (bytes === undefined || (bytes.length !== ED25519_KEY_BYTES && bytes.length !== 2 * ED25519_KEY_BYTES)) {
        throw new TypeError(
          `${name}: a whsk_ secret key is base64 of the ${ED25519_KEY_BYTES}-byte Ed25519 seed (or the 64-byte seed and public key)`,
        );
      }
      return bytes.subarray(0, ED25519_KEY_BYTES);
    },
  };

  return {
    name,
    rejectStatus,
    algorithm: 'sha256',
    headerNames: FAMILIES.flatMap((f) => [f.signature, f.id, f.timestamp]),
    timestampTolerance: tolerance,
    multiSignature: true,
    asymmetric: asymmetricScheme,
    decodeSecret(secret) {
      const text = keyText(secret);
      if (text.startsWith(PUBLIC_PREFIX) || text.startsWith(SECRET_PREFIX)) {
        // A v1a key where a v1 (HMAC) secret is expected: never read it as base64 key bytes.
        throw invalidKey(
          name,
          `a ${text.slice(0, 5)} key is an Ed25519 key, not a v1 signing secret`,
          'Verify v1a signatures with the whpk_ public key as a key version, and sign them with the whsk_ secret key.',
        );
      }
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
    formatHeaders(digests, ctx, asymmetricSignatures = []) {
      const { id, timestamp } = context(ctx);
      return {
        [sender.id]: id,
        [sender.timestamp]: String(timestamp),
        [sender.signature]: [
          ...digests.map((d) => `v1,${encodeBase64(d)}`),
          ...asymmetricSignatures.map((s) => `v1a,${encodeBase64(s)}`),
        ].join(' '),
      };
    },
  };
}

/** A stored key as text (bytes from a store are read as UTF-8, as the other codecs do). */
function keyText(secret: string | Uint8Array): string {
  return typeof secret === 'string' ? secret : new TextDecoder().decode(secret);
}

/** The 32 raw bytes of a base64 Ed25519 key, or `undefined`. */
function ed25519Key(b64: string): Uint8Array | undefined {
  const bytes = decodeBase64(b64) ?? decodeBase64(b64, true);
  return bytes !== undefined && bytes.length === ED25519_KEY_BYTES ? bytes : undefined;
}

function invalidKey(provider: string, why: string, hint: string): VerificationError {
  return new VerificationError('INVALID_SECRET', `Invalid ${provider} key: ${why}.`, { provider, hint });
}
