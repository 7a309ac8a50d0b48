/**
 * The guard: verifies the webhook before the route handler runs.
 *
 * @module
 */
import { IncomingMessage, type ServerResponse } from 'node:http';
import { HttpException, Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { VerificationError, type Verifier, type VerifyResult } from '@keyturn/core';
import { readNodeBody } from '@keyturn/core/adapters/node';
import {
  BodyTooLargeError,
  processWebhook,
  rejection,
  releaseOnce,
  report,
  resolveAdapterOptions,
  type AdapterSettings,
} from '@keyturn/core/adapters/kit';
import { KEYTURN_GUARD_OPTIONS, isVerifier, type KeyturnGuardOptions, type WebhookHttpRequest } from './options.ts';

/**
 * Hint of the `BODY_NOT_RAW` error when Nest parsed the body and kept no raw copy: the fix is
 * Nest's `rawBody` option.
 */
export const NEST_RAW_BODY_HINT =
  'Nest parsed the request body and kept no raw copy, so the signed bytes are gone. Create the application with ' +
  'rawBody on: NestFactory.create(AppModule, { rawBody: true }) (or app = moduleRef.createNestApplication(adapter, ' +
  '{ rawBody: true }) in tests), on @nestjs/platform-express and @nestjs/platform-fastify alike. Nest then keeps the ' +
  'exact bytes in req.rawBody for JSON and urlencoded bodies. For another content type on Fastify, register a ' +
  'parser that keeps them: app.useBodyParser("text/plain") (also with rawBody: true).';

/** The property of the platform request where the guard puts the result (read by `@VerifiedWebhook()`). */
export const RESULT_PROPERTY = 'keyturn';

/**
 * How the guard answers what it does not pass to the handler: a rejection (the profile's status and
 * keyturn's generic body, `{"error":"invalid signature"}`, 5xx for failures on our side) or the
 * answer to a provider handshake (Smartcar `VERIFY`: 200 and `{"challenge":"…"}`). It goes through
 * Nest's exception layer like any `HttpException`; a custom exception filter should send
 * `getStatus()` and `getResponse()` of this exception unchanged, or the sender gets another answer
 * (for `VERIFY`, one that fails Smartcar's check).
 */
export class KeyturnHttpException extends HttpException {
  /** What happened: the rejection's `VerificationError` / `BodyError` code, or `'CHALLENGE'` for a handshake answer. */
  readonly code: string;

  constructor(status: number, body: Record<string, unknown>, code: string, cause?: unknown) {
    super(body, status, cause === undefined ? undefined : { cause });
    this.name = 'KeyturnHttpException';
    this.code = code;
    this.message = code === 'CHALLENGE' ? 'Webhook handshake answered by keyturn.' : `Webhook not accepted (${code}).`;
  }
}

/**
 * Verifies the webhook of the route it guards, before the handler runs: reads the raw body (Nest's
 * `req.rawBody` with `rawBody: true`, or the request stream on Express when nothing parsed it),
 * checks the signature, answers the provider handshake (Smartcar `VERIFY`) and rejections itself
 * (as a {@link KeyturnHttpException}), and puts the result on the request for
 * `@VerifiedWebhook()`. If the response ends with a 5xx (the handler threw, or answered so), a
 * replay reservation is released so the sender's retry is accepted.
 *
 * Get it from {@link KeyturnModule} (`@UseGuards(KeyturnGuard)` with the module's verifier), or
 * build one for another verifier: `@UseGuards(new KeyturnGuard({ verifier: dataspikeVerifier }))`.
 *
 * @example
 * ```ts
 * @Controller('webhooks')
 * export class WebhooksController {
 *   @Post('smartcar')
 *   @HttpCode(204)
 *   @UseGuards(KeyturnGuard)
 *   receive(@VerifiedWebhook() webhook: VerifyResult, @Body() event: SmartcarEvent): void {
 *     console.log('signed with', webhook.keyId, webhook.keyRole);
 *   }
 * }
 * ```
 */
@Injectable()
export class KeyturnGuard implements CanActivate {
  readonly #verifier: Verifier;
  readonly #settings: AdapterSettings;
  readonly #secretId: KeyturnGuardOptions['secretId'];

  /** Checks the options once (`TypeError`), not per request. */
  constructor(@Inject(KEYTURN_GUARD_OPTIONS) options: KeyturnGuardOptions) {
    if (options === null || typeof options !== 'object' || !isVerifier(options.verifier)) {
      throw new TypeError('KeyturnGuard: pass { verifier } (from createVerifier()), or import KeyturnModule.forRoot({ verifier })');
    }
    this.#verifier = options.verifier;
    this.#settings = resolveAdapterOptions(options, 'KeyturnGuard');
    if (options.secretId !== undefined && typeof options.secretId !== 'function') {
      throw new TypeError('KeyturnGuard: secretId must be a function of the request');
    }
    this.#secretId = options.secretId;
  }

  /** Verifies the request; resolves to `true` or throws {@link KeyturnHttpException}. */
  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') throw new TypeError(`KeyturnGuard guards HTTP routes, not ${context.getType()} handlers`);
    const http = context.switchToHttp();
    const request = http.getRequest<WebhookHttpRequest>();
    const response = http.getResponse<unknown>();
    const settings = this.#settings;
    let result: VerifyResult;
    try {
      const body = await rawBodyOf(request, settings, this.#verifier);
      const outcome = await processWebhook(this.#verifier, body, request.headers, settings, this.#secretId?.(request));
      if (outcome.kind === 'challenge') throw new KeyturnHttpException(200, outcome.response, 'CHALLENGE');
      result = outcome.result;
    } catch (error) {
      if (error instanceof KeyturnHttpException) throw error;
      report(settings, error);
      const answer = rejection(error);
      for (const [name, value] of Object.entries(answer.headers)) setHeader(response, name, value);
      if (answer.close) setHeader(response, 'connection', 'close');
      const code = (error as { code?: unknown }).code;
      throw new KeyturnHttpException(
        answer.status,
        JSON.parse(answer.body) as Record<string, unknown>,
        typeof code === 'string' ? code : 'INTERNAL',
        error,
      );
    }
    (request as Record<string, unknown>)[RESULT_PROPERTY] = result;
    const raw = nodeResponse(response);
    if (raw !== undefined) {
      const release = releaseOnce(result);
      raw.once('finish', () => {
        if (raw.statusCode >= 500) void release();
      });
    }
    return true;
  }
}

/**
 * The raw body of a Nest request, on either platform: Nest's `rawBody` copy (used as is: Express's
 * body-parser already decoded `Content-Encoding`), a `Buffer`/string body a parser kept, or on
 * Express the request stream when no parser read it (with `maxBodyBytes`, `bodyTimeoutMs` and
 * decoding). Throws `BODY_NOT_RAW` with {@link NEST_RAW_BODY_HINT} otherwise.
 */
async function rawBodyOf(request: WebhookHttpRequest, settings: AdapterSettings, verifier: Verifier): Promise<Uint8Array> {
  if (request instanceof IncomingMessage) {
    // @nestjs/platform-express: the request is Node's, extended by Express.
    return readNodeBody(request, { maxBodyBytes: settings.maxBodyBytes, bodyTimeoutMs: settings.bodyTimeoutMs, hint: NEST_RAW_BODY_HINT });
  }
  // @nestjs/platform-fastify: Fastify ran its content-type parser before any guard.
  const copy = rawCopy(request['rawBody']) ?? rawCopy(request['body']);
  if (copy !== undefined) {
    if (copy.length > settings.maxBodyBytes) throw new BodyTooLargeError(settings.maxBodyBytes);
    return copy;
  }
  const body = request['body'];
  if (body === undefined || body === null) return new Uint8Array(0);
  throw new VerificationError('BODY_NOT_RAW', 'Nest parsed the request body (it is an object) and kept no raw copy.', {
    provider: verifier.provider.name,
    hint: NEST_RAW_BODY_HINT,
  });
}

function rawCopy(value: unknown): Uint8Array | undefined {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return new TextEncoder().encode(value);
  return undefined;
}

/** The Node response under a platform response (Express's is one; Fastify's reply has `raw`). */
function nodeResponse(response: unknown): ServerResponse | undefined {
  if (response === null || typeof response !== 'object') return undefined;
  const raw = 'raw' in response ? (response as { raw: unknown }).raw : response;
  return raw !== null && typeof raw === 'object' && typeof (raw as ServerResponse).once === 'function'
    ? (raw as ServerResponse)
    : undefined;
}

function setHeader(response: unknown, name: string, value: string): void {
  const r = response as { header?: (n: string, v: string) => unknown; setHeader?: (n: string, v: string) => unknown; raw?: unknown };
  if (r.raw !== undefined && typeof r.header === 'function')
    r.header(name, value); // Fastify reply
  else if (typeof r.setHeader === 'function') r.setHeader(name, value); // Express / Node response
}
