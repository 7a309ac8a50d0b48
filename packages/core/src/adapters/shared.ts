/**
 * The one core every adapter is built on: options and their validation, the body reader (size
 * limit, read deadline, `Content-Encoding`), the verify-or-answer-the-challenge step, the status and
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

/** Default body size limit of the adapters: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1_048_576;

/** Default deadline for reading a whole body: 10 s. */
export const DEFAULT_BODY_TIMEOUT_MS = 10_000;

/** The largest delay timers accept (2³¹ − 1 ms, about 24.8 days); a larger one would fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

/** The content codings the adapters decode: the ones every runtime's `DecompressionStream` has. */
export const SUPPORTED_CONTENT_ENCODINGS = ['gzip', 'deflate'] as const;

/** Every code a {@link BodyError} can carry. Stable: switch on these. */
export const BODY_ERROR_CODES = ['BODY_TOO_LARGE', 'BODY_TIMEOUT', 'UNSUPPORTED_CONTENT_ENCODING', 'MALFORMED_CONTENT_ENCODING', 'INVALID_BASE64_BODY'] as const;

/** Why a request body could not be read. */
export type BodyErrorCode = (typeof BODY_ERROR_CODES)[number];

const BODY_STATUS: Readonly<Record<BodyErrorCode, number>> = {
  BODY_TOO_LARGE: 413,
  BODY_TIMEOUT: 408,
  UNSUPPORTED_CONTENT_ENCODING: 415,
  MALFORMED_CONTENT_ENCODING: 400,
  INVALID_BASE64_BODY: 400,
};

/**
 * Thrown by the adapters when the request body cannot be read: larger than `maxBodyBytes` (413),
 * not complete within `bodyTimeoutMs` (408), compressed with a coding the adapters do not decode
 * (415), or not valid for its declared coding (400), or (Lambda) marked base64 but not base64 (400,
 * `INVALID_BASE64_BODY`). The body is never verified. Like
 * {@link VerificationError} it is log-safe: no body byte appears in it.
 *
 * @example
 * ```ts
 * onError: (err) => {
 *   if (err instanceof BodyError && err.code === 'BODY_TIMEOUT') metrics.increment('webhook.slow_sender');
 * }
 * ```
 */
export class BodyError extends Error {
  /** Stable code. */
  readonly code: BodyErrorCode;
  /** HTTP status to answer with. */
  readonly status: number;
  /** What to change, when there is a known fix. */
  readonly hint: string | undefined;

  constructor(code: BodyErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BodyError';
    this.code = code;
    this.status = BODY_STATUS[code];
    this.hint = options.hint;
  }

  /** A log-safe plain object. */
  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, status: this.status, message: this.message, hint: this.hint };
  }
}

/**
 * Thrown by the adapters when a body is larger than `maxBodyBytes` (compressed or decoded).
 * Answered with 413; the body is not read further and never verified.
 */
export class BodyTooLargeError extends BodyError {
  /** The limit that was exceeded, in bytes. */
  readonly limitBytes: number;

  constructor(limitBytes: number) {
    super('BODY_TOO_LARGE', `The request body is larger than maxBodyBytes (${limitBytes} bytes).`, {
      hint: 'Raise maxBodyBytes if your provider sends larger events.',
    });
    this.name = 'BodyTooLargeError';
    this.limitBytes = limitBytes;
  }

  /** A log-safe plain object. */
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), limitBytes: this.limitBytes };
  }
}

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

/** The limits of one body read. */
export interface BodyLimits {
  /** Largest body, as sent and decoded, in bytes. */
  readonly maxBodyBytes: number;
  /** Deadline for the whole body, in ms. */
  readonly bodyTimeoutMs: number;
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

/** Checks `maxBodyBytes` and `bodyTimeoutMs` and applies their defaults. */
export function resolveBodyLimits(options: { maxBodyBytes?: number; bodyTimeoutMs?: number }, where: string): BodyLimits {
  const { maxBodyBytes = DEFAULT_MAX_BODY_BYTES, bodyTimeoutMs = DEFAULT_BODY_TIMEOUT_MS } = options;
  if (typeof maxBodyBytes !== 'number' || !Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1) {
    throw new TypeError(`${where}: maxBodyBytes must be a positive integer (bytes), got ${describe(maxBodyBytes)}`);
  }
  if (typeof bodyTimeoutMs !== 'number' || !Number.isFinite(bodyTimeoutMs) || bodyTimeoutMs <= 0 || bodyTimeoutMs > MAX_TIMER_MS) {
    throw new TypeError(`${where}: bodyTimeoutMs must be a finite positive number of milliseconds (at most ${MAX_TIMER_MS}), got ${describe(bodyTimeoutMs)}`);
  }
  return { maxBodyBytes, bodyTimeoutMs };
}

/** Throws a `TypeError` unless `value` is a function or `undefined`. */
export function optionalFunction(value: unknown, name: string, where: string): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new TypeError(`${where}: ${name} must be a function, got ${describe(value)}`);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40));
  return typeof value;
}

// --- The body reader ----------------------------------------------------------------------------

/**
 * A body as the adapters pull it, whatever the transport (a Node stream, a Fetch `ReadableStream`,
 * a Lambda event's bytes).
 */
export interface BodySource {
  /** The next chunk, or `undefined` at the end. Rejects when the transport fails. */
  read(): Promise<Uint8Array | undefined>;
  /**
   * Stop reading: release the transport and settle a pending `read()`. Must return at once,
   * without waiting for the sender (the caller answers right after).
   */
  cancel(): void;
}

/** The coding a body arrives in, after {@link contentCoding}. */
export type ContentCoding = 'identity' | (typeof SUPPORTED_CONTENT_ENCODINGS)[number];

/** Hint for a `Content-Encoding` the adapters do not decode. */
export const UNSUPPORTED_ENCODING_HINT =
  `keyturn decodes Content-Encoding ${SUPPORTED_CONTENT_ENCODINGS.join(' and ')} and verifies the decoded bytes (what ` +
  'providers sign). Ask the sender (or the proxy in front of you) to send one of those or no compression, or decode ' +
  'the body yourself and call verifier.verify() with the bytes that were signed.';

/** Hint for a runtime without a working `DecompressionStream`. */
const NO_DECOMPRESSION_HINT =
  'This runtime has no working DecompressionStream (the Next.js Edge Runtime is one): receive compressed deliveries ' +
  'on a runtime that has it (the Next.js Node.js runtime, Node, Bun, Deno, Workers).';

/**
 * The coding of a body from its `Content-Encoding` header. `identity` and an absent header mean
 * none; `gzip` (also `x-gzip`) and `deflate` are decoded; anything else, or more than one coding,
 * throws `UNSUPPORTED_CONTENT_ENCODING` (415).
 */
export function contentCoding(headers: HeadersInput): ContentCoding {
  const raw = readHeader(headers, 'content-encoding');
  if (raw === undefined) return 'identity';
  const codings = raw
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  if (codings.length === 0) return 'identity';
  if (codings.length === 1) {
    if (codings[0] === 'gzip' || codings[0] === 'x-gzip') return 'gzip';
    if (codings[0] === 'deflate') return 'deflate';
  }
  const shown = /^[\w\-, ]{1,64}$/.test(raw) ? `"${raw}"` : 'an unrecognised value';
  throw bodyError('UNSUPPORTED_CONTENT_ENCODING', `The request body has Content-Encoding ${shown}, which keyturn does not decode.`, {
    hint: UNSUPPORTED_ENCODING_HINT,
  });
}

/**
 * Reads a whole body from `source` under `limits`: refuses a declared `Content-Length` over the
 * limit before reading, counts bytes as they arrive (413 as soon as the limit is passed, as sent or
 * decoded), answers 408 when the body is not complete within the deadline, and decodes `gzip` and
 * `deflate` (`Content-Encoding`) as it reads, so a compression bomb stops at the limit. On any
 * failure `source` is cancelled (without waiting for the sender) before the error is thrown.
 */
export async function readBody(source: BodySource, headers: HeadersInput, limits: BodyLimits): Promise<Uint8Array> {
  const limit = limits.maxBodyBytes;
  let sink: BodySink;
  try {
    const coding = contentCoding(headers);
    const declared = declaredLength(headers);
    if (declared !== undefined && declared > limit) throw new BodyTooLargeError(limit);
    sink = coding === 'identity' ? collector(limit) : decoder(coding, limit);
  } catch (error) {
    source.cancel();
    throw error;
  }
  const deadline = startDeadline(limits.bodyTimeoutMs);
  let received = 0;
  try {
    for (;;) {
      const chunk = await deadline.race(source.read());
      if (chunk === undefined) break;
      received += chunk.byteLength;
      if (received > limit) throw new BodyTooLargeError(limit);
      if (chunk.byteLength > 0) await deadline.race(sink.write(chunk));
    }
    if (received === 0) {
      sink.abort();
      return new Uint8Array(0);
    }
    return await deadline.race(sink.end());
  } catch (error) {
    source.cancel();
    sink.abort();
    throw error;
  } finally {
    deadline.clear();
  }
}

/** Where {@link readBody} puts the bytes it receives. */
interface BodySink {
  write(chunk: Uint8Array): Promise<void>;
  end(): Promise<Uint8Array>;
  abort(): void;
}

/** Collects chunks up to `limit` bytes. */
function collector(limit: number): BodySink & { add(chunk: Uint8Array): void; bytes(): Uint8Array } {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const add = (chunk: Uint8Array): void => {
    total += chunk.byteLength;
    if (total > limit) throw new BodyTooLargeError(limit);
    chunks.push(chunk);
  };
  const bytes = (): Uint8Array => concatBytes(chunks, total);
  return {
    add,
    bytes,
    write: async (chunk) => add(chunk),
    end: async () => bytes(),
    abort: () => void (chunks.length = 0),
  };
}

/**
 * Decodes a compressed body with the runtime's `DecompressionStream`, counting decoded bytes as
 * they come out: past `limit` the stream is torn down, so a small bomb never inflates further.
 */
function decoder(coding: Exclude<ContentCoding, 'identity'>, limit: number): BodySink {
  let stream: DecompressionStream;
  try {
    stream = new DecompressionStream(coding);
  } catch (cause) {
    // A runtime without a working DecompressionStream (the Next.js Edge Runtime stubs it with one
    // that throws): the body cannot be decoded here, which is the sender's 415, not our 500.
    throw bodyError('UNSUPPORTED_CONTENT_ENCODING', `This runtime cannot decode Content-Encoding ${coding} (no DecompressionStream).`, {
      hint: `${NO_DECOMPRESSION_HINT} ${UNSUPPORTED_ENCODING_HINT}`,
      cause,
    });
  }
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  const out = collector(limit);
  let failure: unknown;
  const fail = (error: unknown): void => {
    if (failure !== undefined) return;
    failure = error instanceof BodyError ? error : malformed(coding, error);
    writer.abort(failure).catch(noop);
    reader.cancel(failure).catch(noop);
  };
  const pump = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      out.add(value);
    }
  })().catch(fail);
  const check = (): void => {
    if (failure !== undefined) throw failure;
  };
  return {
    async write(chunk) {
      check();
      await writer.write(chunk as Uint8Array<ArrayBuffer>).catch(fail);
      check();
    },
    async end() {
      check();
      await writer.close().catch(fail);
      await pump;
      check();
      return out.bytes();
    },
    abort: () => fail(new Error('aborted')),
  };
}

function malformed(coding: string, cause: unknown): BodyError {
  return bodyError('MALFORMED_CONTENT_ENCODING', `The request body is not valid ${coding} data (Content-Encoding: ${coding}).`, {
    hint: 'The sender or a proxy declared a Content-Encoding the body does not have.',
    cause,
  });
}

/** A timer that rejects with `BODY_TIMEOUT`; `race` runs a step against it. */
function startDeadline(ms: number): { race<T>(step: Promise<T>): Promise<T>; clear(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        bodyError('BODY_TIMEOUT', `The request body did not arrive within bodyTimeoutMs (${ms} ms).`, {
          hint: 'A sender (or a proxy) is sending the body too slowly. Raise bodyTimeoutMs only if genuine deliveries are this slow.',
        }),
      );
    }, ms);
  });
  expired.catch(noop);
  return { race: (step) => Promise.race([step, expired]), clear: () => clearTimeout(timer) };
}

/** A {@link BodyError} without a stack: a flood of bad requests must not cost stack captures. */
function bodyError(code: BodyErrorCode, message: string, options: { hint?: string; cause?: unknown }): BodyError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new BodyError(code, message, options);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

const noop = (): void => {};

/** A {@link BodySource} over bytes already in memory (a Lambda event, a captured copy). */
export function bytesSource(bytes: Uint8Array): BodySource {
  let done = false;
  return {
    read: async () => {
      if (done) return undefined;
      done = true;
      return bytes;
    },
    cancel: () => void (done = true),
  };
}

// --- Verify, or answer the handshake ------------------------------------------------------------

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
