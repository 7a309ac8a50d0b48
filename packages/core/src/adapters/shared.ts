/**
 * What every adapter shares: options, the verify-or-answer-the-challenge step, generic rejection
 * bodies and the replay release. Runtime-neutral (no `Buffer`, no `node:*`).
 *
 * @internal
 * @module
 */
import { VerificationError } from '../errors.ts';
import type { HeadersInput } from '../lib/headers.ts';
import { readHeader } from '../lib/headers.ts';
import type { Verifier, VerifyResult } from '../verifier.ts';

/** Default body size limit of the adapters: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1_048_576;

/**
 * Thrown by the adapters when a body is larger than `maxBodyBytes`. Answered with 413; the body is
 * not read further and never verified.
 */
export class BodyTooLargeError extends Error {
  /** Stable code. */
  readonly code = 'BODY_TOO_LARGE' as const;
  /** HTTP status to answer with. */
  readonly status = 413;
  /** The limit that was exceeded, in bytes. */
  readonly limitBytes: number;

  constructor(limitBytes: number) {
    super(`The request body is larger than maxBodyBytes (${limitBytes} bytes).`);
    this.name = 'BodyTooLargeError';
    this.limitBytes = limitBytes;
  }

  /** A log-safe plain object. */
  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, status: this.status, message: this.message, limitBytes: this.limitBytes };
  }
}

/** What an adapter reports through `onError`: a rejection, an oversized body, or an unexpected failure. */
export type AdapterError = VerificationError | BodyTooLargeError | Error;

/**
 * How the adapters treat a provider handshake (Smartcar `VERIFY`).
 *
 * - `'required'` (default): the handshake is answered only if the request itself carries a valid
 *   signature. Answering computes an HMAC of attacker-chosen text with the signing key; answering
 *   unsigned handshakes would hand anyone a valid signature for any body they choose.
 * - `'optional'`: a handshake that carries a signature must verify; one without any signature
 *   header is answered too, unless its challenge looks like a JSON document (which could be
 *   replayed as a webhook body). Use only if your provider sends unsigned handshakes.
 */
export type ChallengeSignaturePolicy = 'required' | 'optional';

/** Options every adapter accepts. */
export interface AdapterOptions {
  /**
   * Answer the provider's handshake (Smartcar `VERIFY`) with `200` and the JSON the provider expects,
   * without calling your handler. @default true when the profile has a handshake
   */
  answerChallenges?: boolean;
  /** Whether a handshake must carry a valid signature. @default 'required' */
  challengeSignature?: ChallengeSignaturePolicy;
  /** Largest body read, in bytes; a larger one is answered with 413. @default 1_048_576 */
  maxBodyBytes?: number;
  /**
   * Called with every rejection and failure, for logs and metrics. The sender only ever gets a
   * generic body; the code, message and hint are for you here. Without it, server-side failures
   * (5xx: a key store outage, a body that was not captured raw) are written to `console.error`.
   */
  onError?: (error: AdapterError) => void;
}

/** The outcome of {@link processWebhook}. */
export type WebhookOutcome =
  | { readonly kind: 'verified'; readonly result: VerifyResult }
  | { readonly kind: 'challenge'; readonly response: Record<string, unknown> };

/** Verifies a request, or answers the handshake it carries. Throws {@link VerificationError} on a rejection. */
export async function processWebhook(
  verifier: Verifier,
  body: string | Uint8Array,
  headers: HeadersInput,
  options: AdapterOptions,
  secretId: string | undefined,
): Promise<WebhookOutcome> {
  const spec = verifier.provider.challenge;
  const challenges = spec !== undefined && (options.answerChallenges ?? true);
  if (challenges && mentionsChallenge(body) && verifier.isChallenge(body)) {
    const policy = options.challengeSignature ?? 'required';
    const signed = verifier.provider.headerNames.some((h) => readHeader(headers, h) !== undefined);
    let keyId: string | undefined;
    if (policy === 'required' || signed) {
      // Answer with the key that verified the handshake: a sender already signing with a new
      // (pending) key expects the answer computed with that key.
      keyId = (await verifier.verify({ body, headers, secretId })).keyId;
    } else if (looksLikeJson(spec.extract(parseJson(body)) ?? '')) {
      throw new VerificationError('MISSING_SIGNATURE', 'Unsigned handshake whose challenge looks like a JSON document; not answered.', {
        provider: verifier.provider.name,
        status: verifier.provider.rejectStatus,
      });
    }
    const answerOptions = { ...(secretId === undefined ? {} : { secretId }), ...(keyId === undefined ? {} : { keyId }) };
    return { kind: 'challenge', response: await verifier.answerChallenge(body, answerOptions) };
  }
  return { kind: 'verified', result: await verifier.verify({ body, headers, secretId }) };
}

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

/** Status and generic JSON body for a rejection or failure; never any detail of why (a duplicate says it is one). */
export function rejection(error: unknown): { status: number; body: string } {
  if (error instanceof BodyTooLargeError) return { status: 413, body: '{"error":"payload too large"}' };
  const status = error instanceof VerificationError ? error.status : 500;
  if (status >= 500) return { status, body: '{"error":"webhook receiver error"}' };
  if (error instanceof VerificationError && error.code === 'REPLAYED') {
    // A duplicate delivery of a validly signed event: acknowledged (replay.duplicateStatus 2xx) or 409.
    return { status, body: status < 400 ? '{"duplicate":true}' : '{"error":"duplicate delivery"}' };
  }
  return { status, body: '{"error":"invalid signature"}' };
}

/** Reports `error` to `onError`, or writes server-side ones to `console.error`. */
export function report(options: AdapterOptions, error: unknown): void {
  const err = error instanceof Error ? error : new Error(String(error));
  if (options.onError !== undefined) {
    try {
      options.onError(err);
    } catch {
      // A logging hook must never change the answer.
    }
    return;
  }
  if (rejection(err).status < 500) return;
  const detail = err instanceof VerificationError ? err.toJSON() : { name: err.name, message: err.message };
  console.error('[keyturn] webhook not processed:', JSON.stringify(detail));
}

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

/** Concatenates chunks into one array. */
export function concatBytes(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

/** `Content-Length` as a number, or `undefined` when absent or not a plain integer. */
export function declaredLength(headers: HeadersInput): number | undefined {
  const v = readHeader(headers, 'content-length');
  if (v === undefined || !/^\d{1,15}$/.test(v)) return undefined;
  return Number(v);
}
