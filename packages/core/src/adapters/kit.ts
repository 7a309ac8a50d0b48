/**
 * The shared core of the adapters, for building an adapter for another framework (the NestJS
 * adapter `@keyturn/nestjs` is built on it). Every built-in adapter is these steps and nothing
 * more, so limits, deadlines, decoding, handshake ordering and answers stay the same everywhere:
 *
 * 1. check the options once, when the adapter is created: {@link resolveAdapterOptions};
 * 2. read the body: {@link readBody} over a small {@link BodySource} (or {@link bytesSource} for
 *    bytes a framework already holds);
 * 3. {@link processWebhook} verifies the request or answers the provider handshake;
 * 4. on a throw, {@link report} it and answer {@link rejection}'s status, body and headers;
 * 5. call the handler; when it throws or answers 5xx, {@link releaseOnce} frees a replay claim.
 *
 * Exported from the subpath `@keyturn/core/adapters/kit`. See docs/adapters.md, "Building another
 * adapter".
 *
 * @example A minimal adapter for a framework with request-to-response handlers
 * ```ts
 * import { processWebhook, readBody, rejection, report, resolveAdapterOptions, bytesSource } from '@keyturn/core/adapters/kit';
 *
 * export function verified(verifier, handler, options) {
 *   const settings = resolveAdapterOptions(options, 'verified');
 *   return async (req) => {
 *     try {
 *       const body = await readBody(bytesSource(await req.bytes()), req.headers, settings);
 *       const outcome = await processWebhook(verifier, body, req.headers, settings, undefined);
 *       if (outcome.kind === 'challenge') return Response.json(outcome.response);
 *       return handler(req, outcome.result);
 *     } catch (error) {
 *       report(settings, error);
 *       const answer = rejection(error);
 *       return new Response(answer.body, { status: answer.status, headers: answer.headers });
 *     }
 *   };
 * }
 * ```
 *
 * @module
 */
export * from './common.ts';
export {
  bytesSource,
  contentCoding,
  MAX_UNSIGNED_CHALLENGE_BYTES,
  processWebhook,
  readBody,
  rejection,
  releaseOnce,
  releaseOnFailure,
  report,
  resolveAdapterOptions,
  resolveBodyLimits,
} from './shared.ts';
export type { AdapterSettings, BodyLimits, BodySource, ContentCoding, Rejection, WebhookOutcome } from './shared.ts';
