/**
 * The adapters' body reader: size limit, read deadline and `Content-Encoding` (gzip, deflate) with the
 * limit applied to the decoded bytes, the typed body errors, and the byte helpers. Runtime-neutral (no
 * `Buffer`, no `node:*`). Part of the shared core (`shared.ts` re-exports it).
 *
 * @module
 */
import type { VerificationError } from '../errors.ts';
import type { HeadersInput } from '../lib/headers.ts';
import { readHeader } from '../lib/headers.ts';

/** Default body size limit of the adapters: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1_048_576;

/** Default deadline for reading a whole body: 10 s. */
export const DEFAULT_BODY_TIMEOUT_MS = 10_000;

/** The largest delay timers accept (2³¹ − 1 ms, about 24.8 days); a larger one would fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

/** The content codings the adapters decode: the ones every runtime's `DecompressionStream` has. */
export const SUPPORTED_CONTENT_ENCODINGS = ['gzip', 'deflate'] as const;

/** Every code a {@link BodyError} can carry. Stable: switch on these. */
export const BODY_ERROR_CODES = [
  'BODY_TOO_LARGE',
  'BODY_TIMEOUT',
  'UNSUPPORTED_CONTENT_ENCODING',
  'MALFORMED_CONTENT_ENCODING',
  'INVALID_BASE64_BODY',
] as const;

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

/** The limits of one body read. */
export interface BodyLimits {
  /** Largest body, as sent and decoded, in bytes. */
  readonly maxBodyBytes: number;
  /** Deadline for the whole body, in ms. */
  readonly bodyTimeoutMs: number;
}

/** Checks `maxBodyBytes` and `bodyTimeoutMs` and applies their defaults. */
export function resolveBodyLimits(options: { maxBodyBytes?: number; bodyTimeoutMs?: number }, where: string): BodyLimits {
  const { maxBodyBytes = DEFAULT_MAX_BODY_BYTES, bodyTimeoutMs = DEFAULT_BODY_TIMEOUT_MS } = options;
  if (typeof maxBodyBytes !== 'number' || !Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1) {
    throw new TypeError(`${where}: maxBodyBytes must be a positive integer (bytes), got ${describe(maxBodyBytes)}`);
  }
  if (typeof bodyTimeoutMs !== 'number' || !Number.isFinite(bodyTimeoutMs) || bodyTimeoutMs <= 0 || bodyTimeoutMs > MAX_TIMER_MS) {
    throw new TypeError(
      `${where}: bodyTimeoutMs must be a finite positive number of milliseconds (at most ${MAX_TIMER_MS}), got ${describe(bodyTimeoutMs)}`,
    );
  }
  return { maxBodyBytes, bodyTimeoutMs };
}

export function describe(value: unknown): string {
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
