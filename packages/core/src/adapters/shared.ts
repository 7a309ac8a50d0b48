/**
 * The one core every adapter is built on: options and their validation, the body reader (`body.ts`:
 * size limit, read deadline, `Content-Encoding`), the verify-or-answer-the-challenge step, the status and
 * generic body of every rejection, and the replay release. An adapter only moves bytes and answers
 * between its framework and these functions. Runtime-neutral (no `Buffer`, no `node:*`). Public
 * for adapter authors through `@keyturn/core/adapters/kit`.
 *
 * @module
 */
import { VerificationError } from '../errors.ts';
import type { HeadersInput } from '../lib/headers.ts';
import { readHeader } from '../lib/headers.ts';
import type { Verifier, VerifyResult } from '../verifier.ts';
import { BodyError, describe, resolveBodyLimits, type BodyErrorCode, type BodyLimits, SUPPORTED_CONTENT_ENCODINGS } from './body.ts';

export * from './body.ts';

/** What an adapter reports through `onError`: a rejection, a body that could not be read, or an unexpected failure. */
export type AdapterError = VerificationError | BodyError | Error;

/**
 * How the adapters treat a provider handshake (Smartcar `VERIFY`).
 *
 * - `'required'` (default): the handshake is answered only if the request itself carries a valid
 *   signature. The signature is checked first; only a verified body is parsed. Answering computes
 *   an HMAC of attacker-chosen text with the signing key; answering unsigned handshakes would hand
 *   anyone a valid signature for any body they choose.
 * - `'optional'`: a handshake that carries a signature must verify; one without any signature
 *   header is answered too, unless its challenge looks like a JSON document (which could be
 *   replayed as a webhook body) or the body is larger than 16 KiB. Use only if your provider sends
 *   unsigned handshakes.
 */
export type ChallengeSignaturePolicy = 'required' | 'optional';

/** Options every adapter accepts. Every one is checked when the adapter is created (`TypeError`). */
export interface AdapterOptions {
  /**
   * Answer the provider's handshake (Smartcar `VERIFY`) with `200` and the JSON the provider expects,
   * without calling your handler. @default true when the profile has a handshake
   */
  answerChallenges?: boolean;
  /** Whether a handshake must carry a valid signature. @default 'required' */
  challengeSignature?: ChallengeSignaturePolicy;
  /**
   * Largest body read, in bytes, both as sent and after decoding `Content-Encoding`; a larger one is
   * answered with 413 without reading the rest. A positive integer. @default 1_048_576
   */
  maxBodyBytes?: number;
  /**
   * Deadline for receiving the whole body, in milliseconds from the moment the adapter starts
   * reading it; a slower sender is answered with 408 and the connection is closed. A finite
   * positive number (at most 2³¹ − 1). Applies where the adapter reads the body itself (not to a
   * body a parser such as `express.raw()` already read). @default 10_000
   */
  bodyTimeoutMs?: number;
  /**
   * Called with every rejection and failure, for logs and metrics. The sender only ever gets a
   * generic body; the code, message and hint are for you here. Without it, server-side failures
   * (5xx: a key store outage, a body that was not captured raw) are written to `console.error`.
   */
  onError?: (error: AdapterError) => void;
}

/** {@link AdapterOptions} checked and with defaults applied (what {@link resolveAdapterOptions} returns). */
export interface AdapterSettings extends BodyLimits {
  /** `undefined`: answer when the profile has a handshake. */
  readonly answerChallenges: boolean | undefined;
  /** Whether a handshake must carry a valid signature. */
  readonly challengeSignature: ChallengeSignaturePolicy;
  /** The reporting hook, if any. */
  readonly onError: ((error: AdapterError) => void) | undefined;
}

/**
 * Checks {@link AdapterOptions} and applies the defaults; throws a `TypeError` naming `where` and
 * the option on the first bad value. Adapters call it once, when they are created.
 */
export function resolveAdapterOptions(options: AdapterOptions | undefined, where: string): AdapterSettings {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new TypeError(`${where}: options must be an object`);
  }
  const o = options ?? {};
  const limits = resolveBodyLimits(o, where);
  const { answerChallenges, challengeSignature = 'required', onError } = o;
  if (answerChallenges !== undefined && typeof answerChallenges !== 'boolean') {
    throw new TypeError(`${where}: answerChallenges must be a boolean, got ${describe(answerChallenges)}`);
  }
  if (challengeSignature !== 'required' && challengeSignature !== 'optional') {
    throw new TypeError(`${where}: challengeSignature must be 'required' or 'optional', got ${describe(challengeSignature)}`);
  }
  optionalFunction(onError, 'onError', where);
  return { ...limits, answerChallenges, challengeSignature, onError };
}

/** Throws a `TypeError` unless `value` is a function or `undefined`. */
export function optionalFunction(value: unknown, name: string, where: string): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new TypeError(`${where}: ${name} must be a function, got ${describe(value)}`);
  }
}

/** The outcome of {@link processWebhook}. */
export type WebhookOutcome =
  | {
      /** The request verified: hand `result` to the handler. */
      readonly kind: 'verified';
      /** The key that matched. */
      readonly result: VerifyResult;
    }
  | {
      /** The request was the provider's handshake: answer 200 with `response` as JSON, without calling the handler. */
      readonly kind: 'challenge';
      /** The answer the provider expects (Smartcar: `{ challenge }`). */
      readonly response: Record<string, unknown>;
    };

/** Unsigned handshakes (`challengeSignature: 'optional'`) larger than this are not parsed. */
export const MAX_UNSIGNED_CHALLENGE_BYTES = 16_384;

/**
 * Verifies a request, or answers the handshake it carries. Throws {@link VerificationError} on a
 * rejection. The signature is checked before the body is parsed: only a verified body, or under
 * `challengeSignature: 'optional'` a small one carrying no signature header at all, is JSON-parsed.
 */
export async function processWebhook(
  verifier: Verifier,
  body: string | Uint8Array,
  headers: HeadersInput,
  settings: Pick<AdapterSettings, 'answerChallenges' | 'challengeSignature'>,
  secretId: string | undefined,
): Promise<WebhookOutcome> {
  const spec = verifier.provider.challenge;
  if (spec === undefined || settings.answerChallenges === false) {
    return { kind: 'verified', result: await verifier.verify({ body, headers, secretId }) };
  }
  const signed = verifier.provider.headerNames.some((h) => readHeader(headers, h) !== undefined);
  if (settings.challengeSignature === 'required' || signed) {
    const result = await verifier.verify({ body, headers, secretId });
    const payload = mentionsChallenge(body) ? parseJson(body) : undefined;
    if (payload === undefined || spec.extract(payload) === undefined) return { kind: 'verified', result };
    // Answer with the key that verified the handshake: a sender already signing with a new
    // (pending) key expects the answer computed with that key.
    try {
      return { kind: 'challenge', response: await verifier.answerChallenge(payload, answerOptions(secretId, result.keyId)) };
    } catch (error) {
      await releaseOnFailure(result);
      throw error;
    }
  }
  // 'optional', and no signature header at all.
  if (body.length <= MAX_UNSIGNED_CHALLENGE_BYTES && mentionsChallenge(body)) {
    const payload = parseJson(body);
    const challenge = payload === undefined ? undefined : spec.extract(payload);
    if (challenge !== undefined) {
      if (looksLikeJson(challenge)) {
        throw new VerificationError('MISSING_SIGNATURE', 'Unsigned handshake whose challenge looks like a JSON document; not answered.', {
          provider: verifier.provider.name,
          status: verifier.provider.rejectStatus,
        });
      }
      return { kind: 'challenge', response: await verifier.answerChallenge(payload, answerOptions(secretId, undefined)) };
    }
  }
  return { kind: 'verified', result: await verifier.verify({ body, headers, secretId }) };
}

const answerOptions = (secretId: string | undefined, keyId: string | undefined) => ({
  ...(secretId === undefined ? {} : { secretId }),
  ...(keyId === undefined ? {} : { keyId }),
});

const NEEDLE = 'challenge';

/** Cheap pre-check so ordinary webhooks are never JSON-parsed by the adapter. */
function mentionsChallenge(body: string | Uint8Array): boolean {
  if (typeof body === 'string') return body.includes(NEEDLE);
  const first = NEEDLE.charCodeAt(0);
  const last = body.length - NEEDLE.length;
  outer: for (let i = 0; i <= last; i++) {
    if (body[i] !== first) continue;
    for (let j = 1; j < NEEDLE.length; j++) if (body[i + j] !== NEEDLE.charCodeAt(j)) continue outer;
    return true;
  }
  return false;
}

function parseJson(body: string | Uint8Array): unknown {
  try {
    return JSON.parse(typeof body === 'string' ? body : new TextDecoder().decode(body));
  } catch {
    return undefined;
  }
}

function looksLikeJson(text: string): boolean {
  const t = text.trimStart();
  return t.startsWith('{') || t.startsWith('[') || t.startsWith('"');
}

// --- Answers ------------------------------------------------------------------------------------

/** What to answer for a rejection or failure. */
export interface Rejection {
  /** HTTP status to answer with. */
  readonly status: number;
  /** A generic JSON body: never any detail of why (a duplicate says it is one). */
  readonly body: string;
  /** Extra response headers (`Accept-Encoding` on a 415). */
  readonly headers: Readonly<Record<string, string>>;
  /** Close the connection after answering: the body was not (fully) read. */
  readonly close: boolean;
}

const BODY_ANSWER: Readonly<Record<BodyErrorCode, string>> = {
  BODY_TOO_LARGE: '{"error":"payload too large"}',
  BODY_TIMEOUT: '{"error":"request timeout"}',
  UNSUPPORTED_CONTENT_ENCODING: '{"error":"unsupported content encoding"}',
  MALFORMED_CONTENT_ENCODING: '{"error":"malformed content encoding"}',
  INVALID_BASE64_BODY: '{"error":"invalid base64 body"}',
};

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});
// RFC 9110 §15.5.16: a 415 caused by a content coding says which codings would have been accepted.
const ACCEPT_ENCODING: Readonly<Record<string, string>> = Object.freeze({ 'accept-encoding': SUPPORTED_CONTENT_ENCODINGS.join(', ') });

/** Status, generic JSON body and headers for a rejection or failure. */
export function rejection(error: unknown): Rejection {
  if (error instanceof BodyError) {
    const headers = error.code === 'UNSUPPORTED_CONTENT_ENCODING' ? ACCEPT_ENCODING : NO_HEADERS;
    return { status: error.status, body: BODY_ANSWER[error.code], headers, close: true };
  }
  const status = error instanceof VerificationError ? error.status : 500;
  if (status >= 500) return { status, body: '{"error":"webhook receiver error"}', headers: NO_HEADERS, close: false };
  if (error instanceof VerificationError && error.code === 'REPLAYED') {
    // A duplicate delivery of a validly signed event: acknowledged (replay.duplicateStatus 2xx) or 409.
    return { status, body: status < 400 ? '{"duplicate":true}' : '{"error":"duplicate delivery"}', headers: NO_HEADERS, close: false };
  }
  return { status, body: '{"error":"invalid signature"}', headers: NO_HEADERS, close: false };
}

/** Reports `error` to `onError`, or writes server-side ones to `console.error`. */
export function report(settings: Pick<AdapterSettings, 'onError'>, error: unknown): void {
  const err = error instanceof Error ? error : new Error(String(error));
  if (settings.onError !== undefined) {
    try {
      settings.onError(err);
    } catch {
      // A logging hook must never change the answer.
    }
    return;
  }
  if (rejection(err).status < 500) return;
  const detail = err instanceof VerificationError ? err.toJSON() : { name: err.name, message: err.message };
  console.error('[keyturn] webhook not processed:', JSON.stringify(detail));
}

// --- Replay release -----------------------------------------------------------------------------

/**
 * Releases a replay reservation when the handler failed, so the sender's retry is accepted.
 * The result carries `release` only when replay defence is on.
 */
export async function releaseOnFailure(result: VerifyResult | undefined): Promise<void> {
  const release = (result as { release?: unknown } | undefined)?.release;
  if (typeof release !== 'function') return;
  try {
    await (release as () => unknown).call(result);
  } catch {
    // Best effort: the reservation expires on its own.
  }
}

/** A {@link releaseOnFailure} that runs at most once. */
export function releaseOnce(result: VerifyResult): () => Promise<void> {
  let done = false;
  return () => {
    if (done) return Promise.resolve();
    done = true;
    return releaseOnFailure(result);
  };
}

// --- Bytes and headers --------------------------------------------------------------------------
