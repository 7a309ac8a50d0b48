/**
 * Fetch API adapter (`Request` → `Response`), for Hono, Next.js route handlers, Cloudflare
 * Workers, Bun, Deno and any runtime with web-standard requests. The body is read from a clone, so
 * the handler can still call `request.json()` / `text()` / `arrayBuffer()`.
 *
 * Exported from the subpath `@keyturn/core/adapters/fetch`.
 *
 * @example A Next.js route handler (app/api/webhooks/route.ts), a Worker, Bun.serve or Deno.serve
 * ```ts
 * import { withVerification } from '@keyturn/core/adapters/fetch';
 *
 * export const POST = withVerification(verifier, async (request, { result }) => {
 *   const event = await request.json();
 *   return Response.json({ ok: true, key: result.keyId });
 * });
 * ```
 *
 * @module
 */
import { VerificationError } from '../errors.ts';
import type { Verifier, VerifyResult } from '../verifier.ts';
import {
  BodyTooLargeError,
  DEFAULT_MAX_BODY_BYTES,
  concatBytes,
  declaredLength,
  processWebhook,
  rejection,
  releaseOnce,
  report,
  type AdapterOptions,
} from './shared.ts';

export { BodyTooLargeError, DEFAULT_MAX_BODY_BYTES } from './shared.ts';
export type { AdapterOptions, AdapterError, ChallengeSignaturePolicy } from './shared.ts';

/** Options of {@link verifyRequest} and {@link withVerification}. */
export interface FetchAdapterOptions extends AdapterOptions {
  /** Secret id for this request (multi-tenant receivers), for example from the URL. @default the verifier's */
  secretId?: (request: Request) => string | undefined;
}

/** An accepted webhook. */
export interface VerifiedRequest {
  /** The key that matched (`keyId`, `keyRole`, ...). */
  readonly result: VerifyResult;
  /** The raw body, exactly the bytes that were verified. The request's own body is still unread. */
  readonly body: Uint8Array;
}

/** Hint for a request whose body was read before verification. */
export const FETCH_BODY_USED_HINT =
  'The request body was already read (request.json(), text() or formData() ran before keyturn), so it cannot be ' +
  'verified. Verify first: verifyRequest() reads a clone and leaves the body readable for your handler.';

/**
 * Reads the raw body of `request` from a clone, stopping at `maxBodyBytes`. The original body stays readable.
 * Throws {@link BodyTooLargeError}, or `BODY_NOT_RAW` when the body was already consumed.
 */
export async function readRequestBody(request: Request, options: { maxBodyBytes?: number } = {}): Promise<Uint8Array> {
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (request.bodyUsed) {
    throw new VerificationError('BODY_NOT_RAW', 'The request body was already consumed.', { hint: FETCH_BODY_USED_HINT });
  }
  const declared = declaredLength(request.headers);
  if (declared !== undefined && declared > limit) throw new BodyTooLargeError(limit);
  const stream = request.clone().body;
  if (stream === null) return new Uint8Array(0);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLargeError(limit);
    }
    chunks.push(value);
  }
  return concatBytes(chunks, total);
}

/**
 * Verifies a Fetch `Request`: resolves to the matched key and the raw body, and leaves the
 * request's body readable. Throws `VerificationError` on a rejection (its `status` is the answer
 * to give) or {@link BodyTooLargeError}. Does not answer handshakes; {@link withVerification} does.
 *
 * @example Hono
 * ```ts
 * app.post('/webhooks/mobway', async (c) => {
 *   const { result } = await verifyRequest(verifier, c.req.raw);   // throws on a rejection
 *   const event = await c.req.json();                                // still readable
 *   return c.json({ key: result.keyId });
 * });
 * ```
 */
export async function verifyRequest(verifier: Verifier, request: Request, options: FetchAdapterOptions = {}): Promise<VerifiedRequest> {
  const body = await readRequestBody(request, options);
  const result = await verifier.verify({ body, headers: request.headers, secretId: options.secretId?.(request) });
  return { result, body };
}

/** A handler that receives an accepted webhook; extra arguments (Workers `env, ctx`, Next.js `context`) pass through. */
export type FetchWebhookHandler<Rest extends unknown[] = unknown[]> = (
  request: Request,
  verified: VerifiedRequest,
  ...rest: Rest
) => Response | Promise<Response>;

/**
 * Wraps a handler: verifies the request, answers the provider handshake (Smartcar `VERIFY`) and
 * rejections (profile status, generic JSON body), and calls `handler` with the result. If the
 * handler throws or answers 5xx, a replay reservation is released so the sender's retry is accepted.
 */
export function withVerification<Rest extends unknown[]>(
  verifier: Verifier,
  handler: FetchWebhookHandler<Rest>,
  options: FetchAdapterOptions = {},
): (request: Request, ...rest: Rest) => Promise<Response> {
  return async (request, ...rest) => {
    let body: Uint8Array;
    let result: VerifyResult;
    try {
      body = await readRequestBody(request, options);
      const outcome = await processWebhook(verifier, body, request.headers, options, options.secretId?.(request));
      if (outcome.kind === 'challenge') return jsonResponse(200, JSON.stringify(outcome.response));
      result = outcome.result;
    } catch (error) {
      report(options, error);
      const { status, body: answer } = rejection(error);
      return jsonResponse(status, answer);
    }
    const release = releaseOnce(result);
    let response: Response;
    try {
      response = await handler(request, { result, body }, ...rest);
    } catch (error) {
      await release();
      throw error;
    }
    if (response.status >= 500) await release();
    return response;
  };
}

function jsonResponse(status: number, body: string): Response {
  return new Response(body, { status, headers: { 'content-type': 'application/json; charset=utf-8' } });
}
