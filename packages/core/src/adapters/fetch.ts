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
 *   console.log(result.event.eventType, 'signed with', result.keyId); // typed by the profile
 *   return new Response(null, { status: 204 });
 * });
 * ```
 *
 * @module
 */
import { VerificationError } from '../errors.ts';
import type { Verifier, VerifyResult } from '../verifier.ts';
import {
  contentCoding,
  optionalFunction,
  processWebhook,
  readBody,
  rejection,
  releaseOnce,
  report,
  resolveAdapterOptions,
  resolveBodyLimits,
  type AdapterOptions,
  type AdapterSettings,
  type BodyLimits,
  type BodySource,
} from './shared.ts';

export * from './common.ts';

/** Options of {@link verifyRequest} and {@link withVerification}. */
export interface FetchAdapterOptions extends AdapterOptions {
  /** Secret id for this request (multi-tenant receivers), for example from the URL. @default the verifier's */
  secretId?: (request: Request) => string | undefined;
}

/** An accepted webhook. */
export interface VerifiedRequest<TEvent = unknown> {
  /**
   * The key that matched (`keyId`, `keyRole`, ...), and `event`: the body as JSON, typed by the profile.
   */
  readonly result: VerifyResult<TEvent>;
  /**
   * The raw body, exactly the bytes that were verified: decoded when the request came with
   * `Content-Encoding: gzip` or `deflate`. The request's own body is still unread.
   */
  readonly body: Uint8Array;
}

/** Options of {@link readRequestBody}. */
export interface ReadRequestBodyOptions {
  /** Largest body, as sent and decoded, in bytes. @default 1_048_576 */
  maxBodyBytes?: number;
  /** Deadline for the whole body, in ms. @default 10_000 */
  bodyTimeoutMs?: number;
}

/** Hint for a request whose body was read before verification. */
export const FETCH_BODY_USED_HINT =
  'The request body was already read (request.json(), text() or formData() ran before keyturn), so it cannot be ' +
  'verified. Verify first: verifyRequest() reads a clone and leaves the body readable for your handler.';

/**
 * Reads the raw body of `request` from a clone: stops at `maxBodyBytes` ({@link BodyTooLargeError},
 * 413) and at `bodyTimeoutMs` (`BODY_TIMEOUT`, 408), with or without a `Content-Length`, and decodes
 * `Content-Encoding: gzip` / `deflate` with the limit applied to the decoded bytes (other codings:
 * `UNSUPPORTED_CONTENT_ENCODING`, 415). The original body stays readable; after a failure both the
 * clone and the original are cancelled. Throws `BODY_NOT_RAW` when the body was already consumed,
 * and a `TypeError` for an invalid limit.
 */
export async function readRequestBody(request: Request, options: ReadRequestBodyOptions = {}): Promise<Uint8Array> {
  return readFetchBody(request, resolveBodyLimits(options, 'readRequestBody'));
}

/** {@link readRequestBody} with checked limits. @internal */
export async function readFetchBody(request: Request, limits: BodyLimits): Promise<Uint8Array> {
  if (request.bodyUsed) {
    throw new VerificationError('BODY_NOT_RAW', 'The request body was already consumed.', { hint: FETCH_BODY_USED_HINT });
  }
  if (request.body === null) return readBody(emptySource, request.headers, limits);
  return readBody(cloneSource(request), request.headers, limits);
}

const emptySource: BodySource = { read: async () => undefined, cancel: () => {} };

/**
 * A {@link BodySource} over a clone of `request`'s body. Cancelling one branch of a teed stream
 * waits for the other branch, so `cancel()` cancels both branches and waits for neither (awaiting
 * the clone's cancel alone is what hung oversized streamed bodies on Node, Bun and Deno).
 */
function cloneSource(request: Request): BodySource {
  const reader = (request.clone().body as ReadableStream<Uint8Array>).getReader();
  return {
    async read() {
      const { done, value } = await reader.read();
      return done ? undefined : value;
    },
    cancel() {
      reader.cancel().catch(() => {});
      const original = request.body;
      if (original !== null && !original.locked) original.cancel().catch(() => {});
    },
  };
}

/** Checks {@link FetchAdapterOptions}. */
function fetchSettings(options: FetchAdapterOptions, where: string): AdapterSettings {
  const settings = resolveAdapterOptions(options, where);
  optionalFunction(options.secretId, 'secretId', where);
  return settings;
}

/**
 * Verifies a Fetch `Request`: resolves to the matched key and the raw body, and leaves the
 * request's body readable. Throws `VerificationError` on a rejection (its `status` is the answer
 * to give) or a {@link BodyError} (413, 408, 415, 400). Does not answer handshakes;
 * {@link withVerification} does. For a compressed delivery, read the event from the returned
 * `body`: the request's own body is still the compressed bytes.
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
export async function verifyRequest<TEvent = unknown>(
  verifier: Verifier<TEvent>,
  request: Request,
  options: FetchAdapterOptions = {},
): Promise<VerifiedRequest<TEvent>> {
  const settings = fetchSettings(options, 'verifyRequest');
  const body = await readFetchBody(request, settings);
  const result = await verifier.verify({ body, headers: request.headers, secretId: options.secretId?.(request) });
  return { result, body };
}

/** A handler that receives an accepted webhook; extra arguments (Workers `env, ctx`, Next.js `context`) pass through. */
export type FetchWebhookHandler<Rest extends unknown[] = unknown[], TEvent = unknown> = (
  request: Request,
  verified: VerifiedRequest<TEvent>,
  ...rest: Rest
) => Response | Promise<Response>;

/**
 * Wraps a handler: verifies the request, answers the provider handshake (Smartcar `VERIFY`) and
 * rejections (profile status, generic JSON body), and calls `handler` with the result. If the
 * handler throws or answers 5xx, a replay reservation is released so the sender's retry is accepted.
 * When the body came compressed (`Content-Encoding: gzip` / `deflate`), the handler gets a copy of
 * the request carrying the decoded body, without `Content-Encoding` and `Content-Length`, so
 * `request.json()` works as usual. Options are checked here (`TypeError`), not per request.
 */
export function withVerification<Rest extends unknown[], TEvent = unknown>(
  verifier: Verifier<TEvent>,
  handler: FetchWebhookHandler<Rest, TEvent>,
  options: FetchAdapterOptions = {},
): (request: Request, ...rest: Rest) => Promise<Response> {
  const settings = fetchSettings(options, 'withVerification');
  return async (request, ...rest) => {
    let body: Uint8Array;
    let result: VerifyResult;
    try {
      body = await readFetchBody(request, settings);
      const outcome = await processWebhook(verifier, body, request.headers, settings, options.secretId?.(request));
      if (outcome.kind === 'challenge') return jsonResponse(200, JSON.stringify(outcome.response));
      result = outcome.result;
    } catch (error) {
      report(settings, error);
      const answer = rejection(error);
      return jsonResponse(answer.status, answer.body, answer.headers);
    }
    const release = releaseOnce(result);
    let response: Response;
    try {
      const decoded = request.body !== null && contentCoding(request.headers) !== 'identity';
      const forHandler = decoded ? decodedRequest(request, body) : request;
      response = await handler(forHandler, { result: result as VerifyResult<TEvent>, body }, ...rest);
    } catch (error) {
      await release();
      throw error;
    }
    if (response.status >= 500) await release();
    return response;
  };
}

function jsonResponse(status: number, body: string, headers: Readonly<Record<string, string>> = {}): Response {
  return new Response(body, { status, headers: { ...headers, 'content-type': 'application/json; charset=utf-8' } });
}

/**
 * A copy of `request` carrying the decoded `body` (what was verified), without the coding headers:
 * same URL, method, headers and signal. Built from those parts, not with `new Request(request, …)`:
 * frameworks hand handlers wrapped requests (Next.js route handlers get a `Proxy` around its
 * `NextRequest`), and the `Request` constructor refuses anything but a genuine `Request`. @internal
 */
export function decodedRequest(request: Request, body: Uint8Array): Request {
  const headers = new Headers(request.headers);
  headers.delete('content-encoding');
  headers.delete('content-length');
  const signal = request.signal;
  return new Request(request.url, {
    method: request.method,
    headers,
    body: body as BodyInit,
    ...(signal instanceof AbortSignal ? { signal } : {}),
  });
}
