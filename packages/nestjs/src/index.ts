/**
 * keyturn for NestJS: `KeyturnModule.forRoot/forRootAsync`, the `KeyturnGuard` and the
 * `@VerifiedWebhook()` parameter decorator, on `@nestjs/platform-express` and
 * `@nestjs/platform-fastify`. Create the application with `rawBody: true`.
 *
 * @example
 * ```ts
 * const app = await NestFactory.create(AppModule, { rawBody: true });
 * ```
 *
 * @module
 */
export { KeyturnModule, type KeyturnModuleAsyncOptions, type KeyturnModuleRootOptions, type KeyturnOptionsFactory } from './module.ts';
export { KeyturnGuard, KeyturnHttpException, NEST_RAW_BODY_HINT } from './guard.ts';
export { VerifiedWebhook } from './decorator.ts';
export {
  KEYTURN_GUARD_OPTIONS,
  KEYTURN_VERIFIER,
  type KeyturnGuardOptions,
  type KeyturnModuleOptions,
  type NestAdapterOptions,
  type WebhookHttpRequest,
} from './options.ts';
