/**
 * Options and injection tokens of the NestJS integration.
 *
 * @module
 */
import type { IncomingHttpHeaders } from 'node:http';
import { createVerifier, type Verifier, type VerifierOptions } from '@keyturn/core';
import type { AdapterOptions } from '@keyturn/core/adapters/kit';

/** Injection token of the module's {@link Verifier}: `@Inject(KEYTURN_VERIFIER) verifier: Verifier`. */
export const KEYTURN_VERIFIER = Symbol.for('keyturn.nestjs.verifier');

/** Injection token of the resolved {@link KeyturnGuardOptions} the {@link KeyturnGuard} is built from. */
export const KEYTURN_GUARD_OPTIONS = Symbol.for('keyturn.nestjs.guard-options');

/** The request as the guard sees it on either platform (an Express request or a `FastifyRequest`). */
export interface WebhookHttpRequest {
  /** Request headers. */
  readonly headers: IncomingHttpHeaders;
  /** Route parameters (`/webhooks/:tenant`). */
  readonly params?: Record<string, string | undefined> | undefined;
  /** Any other field of the platform's request. */
  readonly [field: string]: unknown;
}

/** What the guard accepts on top of the options every keyturn adapter has. */
export interface NestAdapterOptions extends AdapterOptions {
  /**
   * Secret id for this request (multi-tenant receivers), for example
   * `(request) => request.params?.tenant`. @default the verifier's
   */
  secretId?: (request: WebhookHttpRequest) => string | undefined;
}

/** Options of {@link KeyturnGuard} when you build one yourself (`new KeyturnGuard({ verifier })`). */
export interface KeyturnGuardOptions extends NestAdapterOptions {
  /** The verifier (from `createVerifier()`). */
  verifier: Verifier;
}

/**
 * Options of {@link KeyturnModule.forRoot}: a verifier, or the options to create one, plus the
 * adapter options (`maxBodyBytes`, `onError`, ...).
 */
export interface KeyturnModuleOptions extends NestAdapterOptions {
  /**
   * A verifier from `createVerifier()`, or its options (the module then creates it, and disposes
   * of it when the application shuts down).
   */
  verifier: Verifier | VerifierOptions;
}

/** Whether `value` is a built verifier (rather than the options of one). */
export function isVerifier(value: unknown): value is Verifier {
  return value !== null && typeof value === 'object' && typeof (value as Verifier).verify === 'function';
}

/** The resolved options, and whether the module created (and so owns) the verifier. @internal */
export interface ResolvedModuleOptions extends KeyturnGuardOptions {
  /** `true` when the verifier was created from options by the module. */
  readonly owned: boolean;
}

/** Checks module options and creates the verifier when options were given. Throws a `TypeError` naming the fix. */
export function resolveModuleOptions(options: KeyturnModuleOptions, where: string): ResolvedModuleOptions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${where}: pass { verifier } (a verifier from createVerifier(), or its options)`);
  }
  const { verifier, ...adapter } = options;
  if (isVerifier(verifier)) return { ...adapter, verifier, owned: false };
  if (verifier === null || typeof verifier !== 'object') {
    throw new TypeError(`${where}: \`verifier\` must be a verifier from createVerifier() or its options ({ provider, keys, ... })`);
  }
  return { ...adapter, verifier: createVerifier(verifier), owned: true };
}
