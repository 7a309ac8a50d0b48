/**
 * The Node side of the shared core, used by the node, Express and Fastify adapters: a
 * {@link BodySource} over a Node stream, the raw-body lookup for requests a parser already read, and
 * writing answers on a `node:http` response.
 *
 * @internal
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { VerificationError } from '../errors.ts';
import type { Verifier, VerifyResult } from '../verifier.ts';
import {
  BodyTooLargeError,
  optionalFunction,
  processWebhook,
  readBody,
  rejection,
  releaseOnce,
  report,
  resolveAdapterOptions,
  type AdapterOptions,
  type AdapterSettings,
  type BodyLimits,
  type BodySource,
  type WebhookOutcome,
} from './shared.ts';

/** Hint for a request whose stream was already read by something else. */
export const STREAM_CONSUMED_HINT =
  'Something read the request stream before keyturn and kept no raw copy. Run keyturn before any body parser on the ' +
  'webhook route, or keep the exact bytes (express.raw({ type: "*/*" }), or a parser `verify` hook that sets req.rawBody = buf).';

/** Options of `createNodeHandler` and `verifyNodeRequest` (`@keyturn/core/adapters/node`). */
export interface NodeAdapterOptions extends AdapterOptions {
  /** Secret id for this request (multi-tenant receivers), for example from the URL. @default the verifier's */
  secretId?: (req: IncomingMessage) => string | undefined;
}

/**
 * A {@link BodySource} over a Node readable stream (an `IncomingMessage`, or the payload stream a
 * Fastify hook passes on), pulled with `read()`. `cancel()` stops listening and lets the rest drain,
 * so an answer can still be written; the adapter closes the connection after it.
 */
export function nodeBodySource(stream: Readable): BodySource {
  let ended = false;
  let stopped = false;
  let aborted = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const onEnd = (): void => {
    ended = true;
    notify();
  };
  const onError = (err: Error): void => {
    failure ??= err;
    notify();
  };
  const onClose = (): void => {
    if (!ended) aborted = true;
    notify();
  };
  const detach = (): void => {
    stream.off('readable', notify);
    stream.off('end', onEnd);
    stream.off('error', onError);
    stream.off('close', onClose);
  };
  stream.on('readable', notify);
  stream.on('end', onEnd);
  stream.on('error', onError);
  // A client that goes away: node:http emits 'aborted', then destroys the request ('error' when it
  // has a cause, then 'close'), so 'close' before 'end' is the abort and an 'error' says why.
  stream.on('close', onClose);
  return {
    async read() {
      for (;;) {
        if (stopped) return undefined;
        if (failure !== undefined || aborted) {
          detach();
          throw failure ?? new Error('The request was aborted while its body was read.');
        }
        const chunk = stream.read() as Buffer | string | null;
        if (chunk !== null) return typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
        if (ended) {
          detach();
          return undefined;
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    cancel() {
      if (stopped) return;
      stopped = true;
      detach();
      notify();
      // Drain what is still coming, so the answer can be written; the connection closes after it.
      stream.on('error', () => {});
      stream.resume();
    },
  };
}

/** A request a body parser may have touched first (`req.body`, `req.rawBody`). */
type MaybeParsed = IncomingMessage & { body?: unknown; rawBody?: unknown };

/**
 * The raw body of a Node request: a copy a parser kept (`req.rawBody`, a `Buffer` or string
 * `req.body`: used as is, already decoded by that parser), else the stream read through
 * {@link readBody} (limit, deadline, `Content-Encoding`). Throws `BODY_NOT_RAW` with `hint` when a
 * parser consumed the stream and kept only a parsed object.
 */
export async function readNodeRequestBody(req: IncomingMessage, limits: BodyLimits, hint: string = STREAM_CONSUMED_HINT): Promise<Buffer> {
  const r = req as MaybeParsed;
  const captured = rawCopy(r.rawBody) ?? rawCopy(r.body);
  if (captured !== undefined) {
    if (captured.length > limits.maxBodyBytes) throw new BodyTooLargeError(limits.maxBodyBytes);
    return captured;
  }
  // An unread stream wins over a placeholder `req.body` (Express 4's body-parser sets `{}` when it skips).
  if (req.readableEnded) {
    const parsed = r.body !== undefined && r.body !== null;
    throw new VerificationError(
      'BODY_NOT_RAW',
      parsed
        ? 'The request body was already parsed (req.body is an object), so the signed bytes are gone.'
        : 'The request stream was already consumed before keyturn could read it.',
      { hint },
    );
  }
  return toBuffer(await readBody(nodeBodySource(req), req.headers, limits));
}

function rawCopy(value: unknown): Buffer | undefined {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value instanceof Uint8Array) return toBuffer(value);
  return undefined;
}

/** A `Buffer` view of `bytes` (no copy). */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Checks {@link NodeAdapterOptions} (the shared ones and `secretId`). */
export function nodeSettings(options: NodeAdapterOptions, where: string): AdapterSettings {
  const settings = resolveAdapterOptions(options, where);
  optionalFunction(options.secretId, 'secretId', where);
  return settings;
}

/** Runs the shared verify-or-answer step on a Node request whose raw body is known. */
export async function handleNodeWebhook(
  verifier: Verifier,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  settings: AdapterSettings,
  secretId: string | undefined,
): Promise<WebhookOutcome | undefined> {
  try {
    const outcome = await processWebhook(verifier, body, req.headers, settings, secretId);
    if (outcome.kind === 'challenge') sendJson(res, 200, JSON.stringify(outcome.response));
    return outcome;
  } catch (error) {
    sendRejection(res, settings, error);
    return undefined;
  }
}

/** Writes the generic answer for a rejection or failure and reports it. */
export function sendRejection(res: ServerResponse, settings: Pick<AdapterSettings, 'onError'>, error: unknown): void {
  report(settings, error);
  const answer = rejection(error);
  if (!res.headersSent) {
    for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
    if (answer.close) res.setHeader('connection', 'close');
  }
  sendJson(res, answer.status, answer.body);
}

/** Writes a JSON answer (or just ends the response if headers already went out). */
export function sendJson(res: ServerResponse, status: number, body: string): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
}

/**
 * Releases the replay claim of `result` if the response ends with a 5xx, so the sender's retry is
 * accepted. Returns the (idempotent) release function for handlers that fail after sending.
 */
export function releaseOnServerError(res: ServerResponse, result: VerifyResult): () => Promise<void> {
  const release = releaseOnce(result);
  res.once('finish', () => {
    if (res.statusCode >= 500) void release();
  });
  return release;
}
