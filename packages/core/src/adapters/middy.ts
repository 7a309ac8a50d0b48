/**
 * Middy middleware (`@middy/core` 4+): verifies the webhook in `before`, on the exact body bytes, and
 * answers rejections and the provider handshake itself (an early response, so no later middleware and
 * not the handler run); releases the replay claim when the handler throws or the final response is
 * 5xx; flushes the fleet's ledger before the response is returned. No dependency on Middy.
 *
 * **Order**: register it first (`middy(handler).use(keyturnMiddy(verifier)).use(httpJsonBodyParser())`).
 * Middy runs `before` hooks in `.use()` order, so keyturn sees `event.body` as the event source sent it
 * and the body parser runs only on a verified delivery. A body parser registered before it has already
 * replaced `event.body`: the delivery is answered 500 with `BODY_NOT_RAW` (the hint says to move keyturn
 * first). After a `Content-Encoding: gzip` delivery is verified, `event.body` holds the decoded bytes
 * (text, `isBase64Encoded: false`; base64 when they are not UTF-8) and the coding headers are removed,
 * so body parsers after it read the event as usual.
 *
 * Exported from the subpath `@keyturn/core/adapters/middy`.
 *
 * @example
 * ```ts
 * import middy from '@middy/core';
 * import httpJsonBodyParser from '@middy/http-json-body-parser';
 * import { keyturnMiddy, type KeyturnMiddyContext } from '@keyturn/core/adapters/middy';
 *
 * export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyResultV2, Error, KeyturnMiddyContext>()
 *   .use(keyturnMiddy(verifier)) // first
 *   .use(httpJsonBodyParser())
 *   .handler(async (event, context) => {
 *     console.log('signed with', context.keyturn.result.keyId);
 *     return { statusCode: 200, body: JSON.stringify({ ok: true }) };
 *   });
 * ```
 *
 * @module
 */
import type { Verifier, VerifyResult } from '../verifier.ts';
import { flushFleet, lambdaSettings, webhookOf, type LambdaAdapterOptions, type LambdaWebhook } from './lambda.ts';
import { encodeBase64, isLambdaResult, shapeResult, type LambdaEventKind, type LambdaHttpEvent } from './lambda-events.ts';
import { type LambdaOutcome, verifyLambdaEvent } from './lambda-verify.ts';
import { releaseOnce } from './shared.ts';

export * from './common.ts';
export { BODY_PARSED_HINT, LambdaEventError, type LambdaEventKind, type LambdaHttpEvent, type LambdaHttpResult } from './lambda-events.ts';
export type { FlushableFleet } from './lambda-verify.ts';

/** Options of {@link keyturnMiddy}: the Lambda adapter's. */
export type KeyturnMiddyOptions<E extends LambdaHttpEvent = LambdaHttpEvent> = LambdaAdapterOptions<E>;

/** What the middleware puts on `context.keyturn` for the handler and later middlewares. */
export type KeyturnMiddyWebhook = Omit<LambdaWebhook<LambdaHttpEvent, unknown>, 'event' | 'context'>;

/** A Lambda context after the middleware ran: `context.keyturn` holds the accepted webhook. */
export interface KeyturnMiddyContext {
  /** The accepted webhook: `result` (the key that matched), `body` (the verified bytes), `headers`, `text()`, `json()`, `kind`. */
  keyturn: KeyturnMiddyWebhook;
}

/** The request object Middy hands to middlewares (the fields used). */
export interface MiddyRequestLike {
  /** The event (the middleware may replace `body` of a decoded delivery). */
  event: unknown;
  /** The Lambda context (`keyturn` is added). */
  context: unknown;
  /** The handler's response, once there is one. */
  response?: unknown;
  /** The error, in `onError`. */
  error?: unknown;
}

/** A Middy middleware object. */
export interface KeyturnMiddyMiddleware {
  /** Verifies; answers rejections and handshakes early. */
  before(request: MiddyRequestLike): Promise<unknown>;
  /** Releases the claim on a 5xx response; flushes the fleet. */
  after(request: MiddyRequestLike): Promise<void>;
  /** Releases the claim; flushes the fleet; leaves the error to the next error handler. */
  onError(request: MiddyRequestLike): Promise<void>;
}

interface Pending {
  readonly release: () => Promise<void>;
  readonly kind: LambdaEventKind;
}

/**
 * Creates the middleware. Options are the Lambda adapter's (`maxBodyBytes`, `answerChallenges`,
 * `challengeSignature`, `onError`, `secretId(event)`, `fleet`), checked here (`TypeError`). An event
 * that is not an HTTP request fails the invocation with a `LambdaEventError` (never a 401).
 */
export function keyturnMiddy<E extends LambdaHttpEvent = LambdaHttpEvent>(
  verifier: Verifier,
  options: KeyturnMiddyOptions<E> = {},
): KeyturnMiddyMiddleware {
  const settings = lambdaSettings(options as LambdaAdapterOptions<never>, 'keyturnMiddy');
  const secretIdOf = options.secretId as ((event: LambdaHttpEvent) => string | undefined) | undefined;
  const fleet = options.fleet;
  const pending = new WeakMap<object, Pending>();

  async function settle(request: MiddyRequestLike, failed: boolean): Promise<void> {
    const state = pending.get(request);
    pending.delete(request);
    try {
      const status = isLambdaResult(request.response) ? request.response.statusCode : undefined;
      if (state !== undefined && (failed || (typeof status === 'number' && status >= 500))) await state.release();
    } finally {
      await flushFleet(fleet);
    }
  }

  return {
    async before(request) {
      const event = request.event as LambdaHttpEvent;
      let outcome: LambdaOutcome;
      try {
        outcome = await verifyLambdaEvent(verifier, event, settings, secretIdOf);
      } catch (error) {
        await flushFleet(fleet);
        throw error;
      }
      if (outcome.type === 'answer') {
        await flushFleet(fleet);
        return outcome.answer;
      }
      pending.set(request, { release: releaseOnce(outcome.result as VerifyResult), kind: outcome.kind });
      const { event: _e, context: _c, ...webhook } = webhookOf(outcome, event, undefined);
      if (request.context !== null && typeof request.context === 'object') (request.context as KeyturnMiddyContext).keyturn = webhook;
      else request.context = { keyturn: webhook };
      if (outcome.decoded) replaceBody(event, outcome.body);
      return undefined;
    },
    async after(request) {
      const state = pending.get(request);
      if (state !== undefined && isLambdaResult(request.response)) {
        request.response = shapeResult(request.event as LambdaHttpEvent, state.kind, request.response);
      }
      await settle(request, false);
    },
    async onError(request) {
      await settle(request, true);
    },
  };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Puts the decoded bytes of a compressed delivery into the event, without the coding headers. */
function replaceBody(event: LambdaHttpEvent, body: Uint8Array): void {
  const e = event as { body?: unknown; isBase64Encoded?: unknown; headers?: unknown; multiValueHeaders?: unknown };
  try {
    e.body = strictUtf8.decode(body);
    e.isBase64Encoded = false;
  } catch {
    e.body = encodeBase64(body);
    e.isBase64Encoded = true;
  }
  for (const field of ['headers', 'multiValueHeaders'] as const) {
    const h = e[field];
    if (h === null || typeof h !== 'object') continue;
    for (const name of Object.keys(h)) {
      const lower = name.toLowerCase();
      if (lower === 'content-encoding' || lower === 'content-length') delete (h as Record<string, unknown>)[name];
    }
  }
}
