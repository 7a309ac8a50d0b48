/**
 * `node:http` adapter: reads the raw body itself (with a size limit), verifies it, answers the
 * provider handshake, and answers rejections with the profile's status and a generic body.
 *
 * Exported from the subpath `@keyturn/core/adapters/node`.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createNodeHandler } from '@keyturn/core/adapters/node';
 *
 * createServer(createNodeHandler(verifier, (req, res, { result, body }) => {
 *   const event = JSON.parse(body.toString('utf8'));
 *   console.log('signed with', result.keyId, result.keyRole);
 *   res.writeHead(204).end();
 * })).listen(3000);
 * ```
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { VerificationError } from '../errors.ts';
import type { Verifier, VerifyResult } from '../verifier.ts';
import { handleNodeWebhook, releaseOnServerError, sendJson, sendRejection } from './node-shared.ts';
import { BodyTooLargeError, DEFAULT_MAX_BODY_BYTES, declaredLength, report, type AdapterOptions } from './shared.ts';

export { BodyTooLargeError, DEFAULT_MAX_BODY_BYTES } from './shared.ts';
export type { AdapterOptions, AdapterError, ChallengeSignaturePolicy } from './shared.ts';

/** Options of {@link createNodeHandler} and {@link verifyNodeRequest}. */
export interface NodeAdapterOptions extends AdapterOptions {
  /** Secret id for this request (multi-tenant receivers), for example from the URL. @default the verifier's */
  secretId?: (req: IncomingMessage) => string | undefined;
}

/** What the handler receives after a webhook is accepted. */
export interface NodeWebhookContext {
  /** The key that matched (`keyId`, `keyRole`, ...). */
  readonly result: VerifyResult;
  /** The raw body, exactly the bytes that were verified. */
  readonly body: Buffer;
}

/** Handler called with an accepted webhook. Answer with `res`; a throw or a 5xx releases a replay reservation. */
export type NodeWebhookHandler = (req: IncomingMessage, res: ServerResponse, context: NodeWebhookContext) => unknown;

/** A request a body parser may have touched first (`req.body`, `req.rawBody`). */
type MaybeParsed = IncomingMessage & { body?: unknown; rawBody?: unknown };

/** Hint for a request whose stream was already read by something else. */
export const STREAM_CONSUMED_HINT =
  'Something read the request stream before keyturn and kept no raw copy. Run keyturn before any body parser on the ' +
  'webhook route, or keep the exact bytes (express.raw({ type: "*/*" }), or a parser `verify` hook that sets req.rawBody = buf).';

/**
 * Reads the raw body of `req` as a `Buffer`, stopping at `maxBodyBytes` (throws {@link BodyTooLargeError}).
 * Uses `req.rawBody` or a `Buffer`/string `req.body` when a body parser already captured the raw bytes;
 * throws `BODY_NOT_RAW` (with the exact fix in `hint`) when a parser consumed the stream and kept only a parsed object.
 */
export async function readNodeBody(req: IncomingMessage, options: { maxBodyBytes?: number; hint?: string } = {}): Promise<Buffer> {
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const r = req as MaybeParsed;
  const captured = rawCopy(r.rawBody) ?? rawCopy(r.body);
  if (captured !== undefined) {
    if (captured.length > limit) throw new BodyTooLargeError(limit);
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
      { hint: options.hint ?? STREAM_CONSUMED_HINT },
    );
  }
  const declared = declaredLength(req.headers);
  if (declared !== undefined && declared > limit) {
    req.resume();
    throw new BodyTooLargeError(limit);
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer | string): void => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      total += buf.length;
      if (total > limit) {
        cleanup();
        // Stop buffering; let the rest drain so the 413 can be written.
        req.resume();
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(buf);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, total));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onAborted = (): void => {
      cleanup();
      reject(new Error('The request was aborted while its body was read.'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

function rawCopy(value: unknown): Buffer | undefined {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value instanceof Uint8Array) return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return undefined;
}

/**
 * Reads and verifies one request. Resolves to the matched key and the raw body; throws
 * `VerificationError` (rejection) or {@link BodyTooLargeError}. Does not answer handshakes; use
 * {@link createNodeHandler} for that.
 */
export async function verifyNodeRequest(
  verifier: Verifier,
  req: IncomingMessage,
  options: NodeAdapterOptions = {},
): Promise<NodeWebhookContext> {
  const body = await readNodeBody(req, options);
  const result = await verifier.verify({ body, headers: req.headers, secretId: options.secretId?.(req) });
  return { result, body };
}

/**
 * A `node:http` request listener: reads and verifies the body, answers handshakes and rejections,
 * and calls `handler` with the matched key and the raw body. If `handler` throws (answered 500) or
 * answers 5xx, a replay reservation is released so the sender's retry is accepted.
 */
export function createNodeHandler(
  verifier: Verifier,
  handler: NodeWebhookHandler,
  options: NodeAdapterOptions = {},
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    let body: Buffer;
    try {
      body = await readNodeBody(req, options);
    } catch (error) {
      sendRejection(res, options, error);
      return;
    }
    const outcome = await handleNodeWebhook(verifier, req, res, body, options);
    if (outcome === undefined || outcome.kind !== 'verified') return;
    const result = outcome.result;
    const release = releaseOnServerError(res, result);
    try {
      await handler(req, res, { result, body });
    } catch (error) {
      report(options, error);
      if (!res.headersSent) sendJson(res, 500, '{"error":"webhook handler failed"}');
      else {
        await release();
        res.end();
      }
    }
  };
}

