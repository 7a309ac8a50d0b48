/**
 * Hono middleware: `keyturn(verifier, options?)` verifies the raw body of `c.req.raw` (read from a
 * clone, so the handler can still call `c.req.json()`, `text()` or `arrayBuffer()`), answers the
 * provider handshake (Smartcar `VERIFY`) and rejections itself, and sets the result at
 * `c.get('keyturn')`, typed through Hono's `Variables`. It runs wherever Hono runs (Node through
 * `@hono/node-server`, Bun, Deno, Cloudflare Workers, Vercel Edge) and imports nothing from `hono`
 * at run time.
 *
 * Exported from the subpath `@keyturn/core/adapters/hono`.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { keyturn } from '@keyturn/core/adapters/hono';
 *
 * const app = new Hono();
 * app.post('/webhooks/smartcar', keyturn(verifier), async (c) => {
 *   const { keyId, keyRole, event } = c.get('keyturn'); // typed: VerifyResult<SmartcarEvent>
 *   const body = await c.req.json();                     // the body is still readable
 *   return c.body(null, 204);
 * });
 * ```
 *
 * @module
 */
import type { Context, MiddlewareHandler } from 'hono';
import { VerificationError } from '../errors.ts';
import type { Verifier, VerifyResult } from '../verifier.ts';
import { decodedRequest, readFetchBody } from './fetch.ts';
import {
  bytesSource,
  contentCoding,
  optionalFunction,
  processWebhook,
  readBody,
  rejection,
  releaseOnce,
  report,
  resolveAdapterOptions,
  type AdapterOptions,
  type AdapterSettings,
} from './shared.ts';

export * from './common.ts';

/** Options of {@link keyturn}. */
export interface HonoAdapterOptions extends AdapterOptions {
  /** Secret id for this request (multi-tenant receivers), for example `(c) => c.req.param('tenant')`. @default the verifier's */
  secretId?: (c: Context) => string | undefined;
}

/** The variables {@link keyturn} sets: `c.get('keyturn')` is the verified webhook's result. */
export interface KeyturnVariables<TEvent = unknown> {
  /** The key that matched (`keyId`, `keyRole`, `secretId`, ...), and `event`: the body as JSON, typed by the profile. */
  keyturn: VerifyResult<TEvent>;
}

/** The Hono `Env` of a route behind {@link keyturn}: `new Hono<KeyturnEnv<SmartcarEvent>>()` types `c.get('keyturn')` app-wide. */
export interface KeyturnEnv<TEvent = unknown> {
  /** What the middleware sets. */
  Variables: KeyturnVariables<TEvent>;
}

/** Hint for a body that a middleware consumed before keyturn, outside Hono's body cache. */
export const HONO_BODY_USED_HINT =
  'The request body was consumed before the keyturn middleware without Hono keeping the bytes (c.req.raw.json(), ' +
  'c.req.raw.text(), or c.req.parseBody() for form data), so the signed bytes are gone. Register keyturn() before any ' +
  'middleware that reads the body; keyturn reads a clone, so c.req.json() still works in your handler.';

/**
 * The middleware. Options are checked here (`TypeError`), not per request. If the handler throws
 * (Hono's `onError` answers) or the response is a 5xx, a replay reservation is released so the
 * sender's retry is accepted. When the delivery came compressed (`Content-Encoding: gzip` /
 * `deflate`), `c.req.raw` is replaced with a copy carrying the decoded body (what was verified),
 * without `Content-Encoding` and `Content-Length`, so `c.req.json()` works as usual.
 */
export function keyturn<TEvent = unknown>(
  verifier: Verifier<TEvent>,
  options: HonoAdapterOptions = {},
): MiddlewareHandler<KeyturnEnv<TEvent>> {
  if (verifier === null || typeof verifier !== 'object' || typeof verifier.verify !== 'function') {
    throw new TypeError('keyturn(): pass a verifier (from createVerifier()) as the first argument');
  }
  const settings = resolveAdapterOptions(options, 'keyturn');
  optionalFunction(options.secretId, 'secretId', 'keyturn');
  return async (c, next) => {
    let result: VerifyResult;
    try {
      const body = await honoBody(c, settings);
      const outcome = await processWebhook(verifier, body, c.req.raw.headers, settings, options.secretId?.(c));
      if (outcome.kind === 'challenge') return json(200, JSON.stringify(outcome.response));
      result = outcome.result;
      const request = c.req.raw;
      if (!request.bodyUsed && request.body !== null && contentCoding(request.headers) !== 'identity') {
        c.req.raw = decodedRequest(request, body);
      }
    } catch (error) {
      report(settings, error);
      const answer = rejection(error);
      const headers: Record<string, string> = { ...answer.headers };
      if (answer.close) headers['connection'] = 'close';
      return json(answer.status, answer.body, headers);
    }
    const release = releaseOnce(result);
    c.set('keyturn', result as VerifyResult<TEvent>);
    try {
      await next();
    } catch (error) {
      await release();
      throw error;
    }
    // Hono's compose catches a handler's throw and answers with onError: `c.error` says so.
    if (c.error !== undefined || c.res.status >= 500) await release();
    return undefined;
  };
}

/**
 * The raw body of the request: read from a clone of `c.req.raw` (limit, deadline, decoding), or,
 * when a middleware before keyturn already read it through Hono's body cache as bytes or text,
 * those cached bytes. A body cached only as parsed JSON or form data cannot be verified.
 */
async function honoBody(c: Context, settings: AdapterSettings): Promise<Uint8Array> {
  const request = c.req.raw;
  if (!request.bodyUsed) return readFetchBody(request, settings);
  // Hono keeps what a body method read in `bodyCache` (values are promises, whatever its types say).
  const cache = ((c.req as unknown as { bodyCache?: Record<string, unknown> }).bodyCache ?? {}) as Record<
    string,
    Promise<unknown> | undefined
  >;
  let bytes: Uint8Array | undefined;
  if (cache['arrayBuffer'] !== undefined) bytes = new Uint8Array((await cache['arrayBuffer']) as ArrayBuffer);
  else if (cache['blob'] !== undefined) bytes = new Uint8Array(await ((await cache['blob']) as Blob).arrayBuffer());
  else if (cache['text'] !== undefined) bytes = new TextEncoder().encode((await cache['text']) as string);
  if (bytes === undefined) {
    throw new VerificationError('BODY_NOT_RAW', 'The request body was already consumed as a parsed value.', { hint: HONO_BODY_USED_HINT });
  }
  // The cached copy is the body as sent: the same limit and Content-Encoding decoding apply.
  return readBody(bytesSource(bytes), request.headers, settings);
}

function json(status: number, body: string, headers: Readonly<Record<string, string>> = {}): Response {
  return new Response(body, { status, headers: { ...headers, 'content-type': 'application/json; charset=utf-8' } });
}
