/**
 * AWS Lambda adapter: verifies webhooks delivered through API Gateway (REST APIs and HTTP APIs,
 * payload formats 1.0 and 2.0), Lambda function URLs and Application Load Balancer targets (with or
 * without multi-value headers), on the exact bytes the sender signed. `isBase64Encoded` bodies are
 * decoded from strict base64 straight to bytes; other bodies are the UTF-8 bytes of the string. Never
 * a round trip through a string, so bytes ≥ 0x80 survive.
 *
 * Exported from the subpath `@keyturn/core/adapters/lambda`. For Middy, see
 * `@keyturn/core/adapters/middy`.
 *
 * @example A Smartcar receiver behind an HTTP API
 * ```ts
 * import { createVerifier, providers } from '@keyturn/core';
 * import { createLambdaHandler } from '@keyturn/core/adapters/lambda';
 * import { envKeyStore } from '@keyturn/store-env';
 *
 * const verifier = createVerifier({ provider: providers.smartcar(), keys: envKeyStore(), secretId: 'SMARTCAR_AMT' });
 * await verifier.warm(); // at init: keys load once per container, before the first delivery
 *
 * export const handler = createLambdaHandler(verifier, async ({ json, result }) => {
 *   const event = json<{ eventType: string }>();
 *   console.log(event.eventType, 'signed with', result.keyId);
 *   return { received: true }; // 200, JSON
 * });
 * ```
 *
 * @module
 */
import type { Verifier, VerifyResult } from '../verifier.ts';
import { handlerResult, jsonResult, type LambdaEventKind, type LambdaHttpEvent, type LambdaHttpResult } from './lambda-events.ts';
import { verifyLambdaEvent, type FlushableFleet } from './lambda-verify.ts';
import { optionalFunction, releaseOnce, report, resolveAdapterOptions, type AdapterOptions, type AdapterSettings } from './shared.ts';

export * from './common.ts';
export {
  LambdaEventError,
  LAMBDA_EVENT_KINDS,
  BODY_PARSED_HINT,
  decodeBase64Strict,
  type LambdaEventErrorCode,
  type LambdaEventKind,
  type LambdaHttpEvent,
  type LambdaHttpResult,
} from './lambda-events.ts';
export type { FlushableFleet } from './lambda-verify.ts';

/** The parts of a Lambda context the adapter passes through (the runtime's full `Context` fits). */
export interface LambdaContext {
  /** The invocation's request id. */
  readonly awsRequestId?: string;
  /** The function's name. */
  readonly functionName?: string;
  /** Milliseconds left before the invocation times out. */
  getRemainingTimeInMillis?(): number;
}

/** Options of {@link createLambdaHandler}. */
export interface LambdaAdapterOptions<E extends LambdaHttpEvent = LambdaHttpEvent> extends AdapterOptions {
  /** Secret id for this delivery (multi-tenant receivers), for example from a path parameter. @default the verifier's */
  secretId?: (event: E) => string | undefined;
  /**
   * The fleet the verifier belongs to (`createVerifier({ fleet })`): its usage ledger is flushed before
   * every response is returned, so no count waits in a frozen container. A failed flush never changes
   * the answer (the counts stay queued for the next invocation).
   */
  fleet?: FlushableFleet;
}

/** What the handler receives for an accepted webhook. */
export interface LambdaWebhook<E extends LambdaHttpEvent = LambdaHttpEvent, C = LambdaContext> {
  /** The bytes that were verified (decoded when the delivery came with `Content-Encoding: gzip` or `deflate`). */
  readonly body: Uint8Array;
  /** The body as UTF-8 text. */
  text(): string;
  /** The body parsed as JSON (throws a `SyntaxError` for a body that is not JSON). */
  json<T = unknown>(): T;
  /** Request headers under lowercase names (repeated ones joined with `", "`); without the coding headers for a decoded body. */
  readonly headers: Readonly<Record<string, string>>;
  /** The key that matched (`keyId`, `keyRole`, `secretId`, ...). */
  readonly result: VerifyResult;
  /** The Lambda event, untouched. */
  readonly event: E;
  /** The Lambda context. */
  readonly context: C | undefined;
  /** Where the event came from. */
  readonly kind: LambdaEventKind;
}

/**
 * Called with an accepted webhook. Return a Lambda result (`{ statusCode, headers?, body? }`), or a
 * plain value to answer it as JSON with 200 (`undefined`: 204, a `Uint8Array`: binary 200). A throw
 * (answered 500) or a 5xx result releases the replay claim, so the sender's retry is accepted.
 */
export type LambdaWebhookHandler<E extends LambdaHttpEvent = LambdaHttpEvent, C = LambdaContext> = (
  webhook: LambdaWebhook<E, C>,
) => unknown;

/** The function `createLambdaHandler` returns: export it as the Lambda handler. */
export type LambdaHandler<E extends LambdaHttpEvent = LambdaHttpEvent, C = LambdaContext> = (
  event: E,
  context?: C,
) => Promise<LambdaHttpResult>;

const decoder = new TextDecoder();

/** Checks {@link LambdaAdapterOptions}. @internal */
export function lambdaSettings(options: LambdaAdapterOptions<never> | undefined, where: string): AdapterSettings {
  const settings = resolveAdapterOptions(options, where);
  optionalFunction(options?.secretId, 'secretId', where);
  const fleet = options?.fleet;
  if (fleet !== undefined && (fleet === null || typeof fleet !== 'object' || typeof fleet.flush !== 'function')) {
    throw new TypeError(`${where}: fleet must be a keyturn fleet (an object with flush()), got ${fleet === null ? 'null' : typeof fleet}`);
  }
  return settings;
}

/** Flushes the fleet's ledger; never throws (the counts stay queued). @internal */
export async function flushFleet(fleet: FlushableFleet | undefined): Promise<void> {
  if (fleet === undefined) return;
  try {
    await fleet.flush();
  } catch {
    // The fleet reports its own failures (`fleet-error` events) and keeps the counts for the next flush.
  }
}

/** The webhook object the handler receives. @internal */
export function webhookOf<E extends LambdaHttpEvent, C>(
  verified: { kind: LambdaEventKind; result: VerifyResult; body: Uint8Array; headers: Readonly<Record<string, string>> },
  event: E,
  context: C | undefined,
): LambdaWebhook<E, C> {
  const { body } = verified;
  return {
    body,
    text: () => decoder.decode(body),
    json: <T>() => JSON.parse(decoder.decode(body)) as T,
    headers: verified.headers,
    result: verified.result,
    event,
    context,
    kind: verified.kind,
  };
}

/**
 * Wraps a webhook handler as a Lambda handler: detects the event kind, verifies the exact body bytes,
 * answers the provider handshake (Smartcar `VERIFY`) and rejections (the profile's status and the
 * generic JSON body every adapter sends) in the shape the event source expects, calls `handler` with
 * the accepted webhook, releases the replay claim when the handler throws or answers 5xx, and flushes
 * `options.fleet` before returning. An event that is not an HTTP request makes the invocation fail
 * with a {@link LambdaEventError} (never a 401). Options are checked here (`TypeError`).
 */
export function createLambdaHandler<E extends LambdaHttpEvent = LambdaHttpEvent, C = LambdaContext>(
  verifier: Verifier,
  handler: LambdaWebhookHandler<E, C>,
  options: LambdaAdapterOptions<E> = {},
): LambdaHandler<E, C> {
  const settings = lambdaSettings(options as LambdaAdapterOptions<never>, 'createLambdaHandler');
  if (typeof handler !== 'function') throw new TypeError('createLambdaHandler: handler must be a function');
  const secretIdOf = options.secretId as ((event: LambdaHttpEvent) => string | undefined) | undefined;
  const fleet = options.fleet;
  return async (event, context) => {
    try {
      const outcome = await verifyLambdaEvent(verifier, event, settings, secretIdOf);
      if (outcome.type === 'answer') return outcome.answer;
      const release = releaseOnce(outcome.result);
      let answer: LambdaHttpResult;
      try {
        answer = handlerResult(event, outcome.kind, await handler(webhookOf(outcome, event, context)));
      } catch (error) {
        report(settings, error);
        await release();
        return jsonResult(event, outcome.kind, 500, '{"error":"webhook handler failed"}');
      }
      if (answer.statusCode >= 500) await release();
      return answer;
    } finally {
      await flushFleet(fleet);
    }
  };
}
