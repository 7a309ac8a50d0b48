/**
 * `node:http` adapter: reads the raw body itself (with a size limit and a read deadline, decoding
 * `gzip` / `deflate`), verifies it, answers the provider handshake, and answers rejections with the
 * profile's status and a generic body.
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
import type { Verifier, VerifyResult } from '../verifier.ts';
import {
  STREAM_CONSUMED_HINT,
  handleNodeWebhook,
  nodeSettings,
  readNodeRequestBody,
  releaseOnServerError,
  sendJson,
  sendRejection,
  type NodeAdapterOptions,
} from './node-shared.ts';
import { report, resolveBodyLimits } from './shared.ts';

export * from './common.ts';
export { STREAM_CONSUMED_HINT, type NodeAdapterOptions } from './node-shared.ts';

/** What the handler receives after a webhook is accepted. */
export interface NodeWebhookContext<TEvent = unknown> {
  /** The key that matched (`keyId`, `keyRole`, ...), and `event`: the body as JSON, typed by the profile. */
  readonly result: VerifyResult<TEvent>;
  /** The raw body, exactly the bytes that were verified (decoded, if it was sent with `Content-Encoding: gzip` or `deflate`). */
  readonly body: Buffer;
}

/** Handler called with an accepted webhook. Answer with `res`; a throw or a 5xx releases a replay reservation. */
export type NodeWebhookHandler<TEvent = unknown> = (
  req: IncomingMessage,
  res: ServerResponse,
  context: NodeWebhookContext<TEvent>,
) => unknown;

/** Options of {@link readNodeBody}. */
export interface ReadNodeBodyOptions {
  /** Largest body, as sent and decoded, in bytes. @default 1_048_576 */
  maxBodyBytes?: number;
  /** Deadline for the whole body, in ms. @default 10_000 */
  bodyTimeoutMs?: number;
  /** The `hint` of the `BODY_NOT_RAW` error when a parser consumed the stream. @default {@link STREAM_CONSUMED_HINT} */
  hint?: string;
}

/**
 * Reads the raw body of `req` as a `Buffer`: stops at `maxBodyBytes` ({@link BodyTooLargeError}, 413)
 * and at `bodyTimeoutMs` (`BODY_TIMEOUT`, 408), and decodes `Content-Encoding: gzip` / `deflate`
 * with the limit applied to the decoded bytes (other codings: `UNSUPPORTED_CONTENT_ENCODING`, 415).
 * Uses `req.rawBody` or a `Buffer`/string `req.body` as is when a body parser already captured the
 * raw bytes; throws `BODY_NOT_RAW` (with the exact fix in `hint`) when a parser consumed the stream
 * and kept only a parsed object. Throws a `TypeError` for an invalid limit.
 */
export async function readNodeBody(req: IncomingMessage, options: ReadNodeBodyOptions = {}): Promise<Buffer> {
  return readNodeRequestBody(req, resolveBodyLimits(options, 'readNodeBody'), options.hint ?? STREAM_CONSUMED_HINT);
}

/**
 * Reads and verifies one request. Resolves to the matched key and the raw body; throws
 * `VerificationError` (rejection) or a {@link BodyError} (413, 408, 415, 400). Does not answer
 * handshakes; use {@link createNodeHandler} for that. Throws a `TypeError` for invalid options.
 */
export async function verifyNodeRequest<TEvent = unknown>(
  verifier: Verifier<TEvent>,
  req: IncomingMessage,
  options: NodeAdapterOptions = {},
): Promise<NodeWebhookContext<TEvent>> {
  const settings = nodeSettings(options, 'verifyNodeRequest');
  const body = await readNodeRequestBody(req, settings);
  const result = await verifier.verify({ body, headers: req.headers, secretId: options.secretId?.(req) });
  return { result, body };
}

/**
 * A `node:http` request listener: reads and verifies the body, answers handshakes and rejections,
 * and calls `handler` with the matched key and the raw body. If `handler` throws (answered 500) or
 * answers 5xx, a replay reservation is released so the sender's retry is accepted. Options are
 * checked here (`TypeError`), not per request.
 */
export function createNodeHandler<TEvent = unknown>(
  verifier: Verifier<TEvent>,
  handler: NodeWebhookHandler<TEvent>,
  options: NodeAdapterOptions = {},
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const settings = nodeSettings(options, 'createNodeHandler');
  return async (req, res) => {
    let body: Buffer;
    try {
      body = await readNodeRequestBody(req, settings);
    } catch (error) {
      sendRejection(res, settings, error);
      return;
    }
    const outcome = await handleNodeWebhook(verifier, req, res, body, settings, options.secretId?.(req));
    if (outcome === undefined || outcome.kind !== 'verified') return;
    const result = outcome.result;
    const release = releaseOnServerError(res, result);
    try {
      await handler(req, res, { result: result as VerifyResult<TEvent>, body });
    } catch (error) {
      report(settings, error);
      if (!res.headersSent) sendJson(res, 500, '{"error":"webhook handler failed"}');
      else {
        await release();
        res.end();
      }
    }
  };
}
