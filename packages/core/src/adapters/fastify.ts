/**
 * Fastify 5 plugin. In the scope it is registered in, it replaces the body parsers with one that
 * reads the raw `Buffer` through keyturn's shared body reader (`maxBodyBytes`, `bodyTimeoutMs`,
 * `gzip` / `deflate` decoding, exactly as the other adapters), verifies every request in a
 * `preHandler` hook, answers the provider handshake and rejections itself, and sets
 * `request.keyturn`. If a JSON parser later in the scope turned the body into an object,
 * `fastify-raw-body`'s `request.rawBody` is verified instead.
 *
 * `bodyTimeoutMs` covers the body only; set Fastify's own `requestTimeout` (off by default) and
 * `connectionTimeout` for the rest of the request (see docs/adapters.md).
 *
 * The plugin is not encapsulated (like `fastify-plugin`): register it inside the scope that holds
 * your webhook routes, so the rest of the app keeps its JSON parser.
 *
 * Exported from the subpath `@keyturn/core/adapters/fastify`.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { keyturnFastify } from '@keyturn/core/adapters/fastify';
 *
 * const app = Fastify();
 * await app.register(async (webhooks) => {
 *   await webhooks.register(keyturnFastify, { verifier });
 *   webhooks.post('/webhooks/smartcar', async (request) => {
 *     const event = JSON.parse(request.body.toString('utf8'));
 *     return { ok: true, key: request.keyturn?.keyId };
 *   });
 * });
 * ```
 *
 * @module
 */
import type { FastifyInstance, FastifyPluginCallback, FastifyRequest } from 'fastify';
import { VerificationError } from '../errors.ts';
import type { Verifier, VerifyResult } from '../verifier.ts';
import { nodeBodySource, toBuffer } from './node-shared.ts';
import {
  declaredLength,
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

/** Options of {@link keyturnFastify}. */
export interface FastifyAdapterOptions extends AdapterOptions {
  /** The verifier to use. */
  verifier: Verifier;
  /** Secret id for this request (multi-tenant receivers), for example from `request.params`. @default the verifier's */
  secretId?: (request: FastifyRequest) => string | undefined;
}

/** Hint for a body that a JSON parser turned into an object before the plugin saw it. */
export const FASTIFY_PARSED_HINT =
  'request.body is a parsed object, so the signed bytes are gone. Register keyturnFastify in the same scope as the ' +
  'webhook route (it installs a raw Buffer parser there), do not add a JSON content-type parser after it in that scope, ' +
  'or use fastify-raw-body ({ global: false, runFirst: true }) with config: { rawBody: true } on the route.';

const RELEASE = Symbol('keyturn.release');
const BODY = Symbol('keyturn.body');
const BODY_FAILURE = Symbol('keyturn.bodyFailure');

type RequestWithRaw = FastifyRequest & {
  rawBody?: unknown;
  [RELEASE]?: () => Promise<void>;
  [BODY]?: Buffer;
  [BODY_FAILURE]?: unknown;
};

function plugin(instance: FastifyInstance, options: FastifyAdapterOptions, done: (err?: Error) => void): void {
  const { verifier } = options ?? {};
  if (verifier === undefined || verifier === null || typeof verifier.verify !== 'function') {
    done(new TypeError('keyturnFastify: pass { verifier } (from createVerifier())'));
    return;
  }
  let settings: AdapterSettings;
  try {
    settings = resolveAdapterOptions(options, 'keyturnFastify');
    optionalFunction(options.secretId, 'secretId', 'keyturnFastify');
  } catch (error) {
    done(error as Error);
    return;
  }
  instance.removeAllContentTypeParsers();
  // The body is read by the shared reader; a failure is answered by the preHandler below like any
  // rejection (generic body, onError), not by Fastify's error handler.
  instance.addContentTypeParser('*', (request, payload, next) => {
    const raw = request as RequestWithRaw;
    readBody(nodeBodySource(payload), request.headers, settings).then(
      (bytes) => {
        raw[BODY] = toBuffer(bytes);
        next(null, raw[BODY]);
      },
      (error: unknown) => {
        raw[BODY_FAILURE] = error;
        next(null, undefined);
      },
    );
  });
  if (!instance.hasRequestDecorator('keyturn')) instance.decorateRequest('keyturn', null);

  instance.addHook('preHandler', async (request, reply) => {
    try {
      const raw = request as RequestWithRaw;
      if (raw[BODY_FAILURE] !== undefined) throw raw[BODY_FAILURE];
      const body = raw[BODY] ?? rawBodyOf(raw.rawBody) ?? rawBodyOf(raw.body) ?? missingBody(raw, verifier);
      const outcome = await processWebhook(verifier, body, request.headers, settings, options.secretId?.(request));
      if (outcome.kind === 'challenge') {
        return reply.code(200).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(outcome.response));
      }
      request.keyturn = outcome.result;
      raw[RELEASE] = releaseOnce(outcome.result);
      return undefined;
    } catch (error) {
      report(settings, error);
      const answer = rejection(error);
      reply.code(answer.status).headers(answer.headers).header('content-type', 'application/json; charset=utf-8');
      if (answer.close) reply.header('connection', 'close');
      return reply.send(answer.body);
    }
  });

  instance.addHook('onResponse', async (request, reply) => {
    const release = (request as RequestWithRaw)[RELEASE];
    if (release !== undefined && reply.statusCode >= 500) await release();
  });
  done();
}

function rawBodyOf(value: unknown): string | Uint8Array | undefined {
  return typeof value === 'string' || value instanceof Uint8Array ? value : undefined;
}

function missingBody(request: RequestWithRaw, verifier: Verifier): Uint8Array {
  const body = request.body;
  if (body === undefined || body === null) {
    // No content-type and no body: an empty body (it will not verify unless the empty body was signed).
    const declared = declaredLength(request.headers);
    if (declared === undefined || declared === 0) return new Uint8Array(0);
  }
  throw new VerificationError('BODY_NOT_RAW', 'The request body reached the handler as a parsed object, not the signed bytes.', {
    provider: verifier.provider.name,
    hint: FASTIFY_PARSED_HINT,
  });
}

// Not encapsulated (the equivalent of fastify-plugin): the parser and hooks apply to the registering scope.
Object.assign(plugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'keyturn',
  [Symbol.for('plugin-meta')]: { name: 'keyturn', fastify: '5.x' },
});

/** The Fastify 5 plugin. Register it with `{ verifier }` inside the scope of your webhook routes. */
export const keyturnFastify: FastifyPluginCallback<FastifyAdapterOptions> = plugin;

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified webhook's result (`keyId`, `keyRole`, ...), set by `keyturnFastify`. */
    keyturn: VerifyResult | null;
  }
}
