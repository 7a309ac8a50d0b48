/**
 * `KeyturnModule`: provides the verifier and the guard's options to the application.
 *
 * @module
 */
import {
  Inject,
  Module,
  type DynamicModule,
  type FactoryProvider,
  type InjectionToken,
  type ModuleMetadata,
  type OnApplicationShutdown,
  type OptionalFactoryDependency,
  type Provider,
  type Type,
} from '@nestjs/common';
import { KeyturnGuard } from './guard.ts';
import {
  KEYTURN_GUARD_OPTIONS,
  KEYTURN_VERIFIER,
  resolveModuleOptions,
  type KeyturnModuleOptions,
  type ResolvedModuleOptions,
} from './options.ts';

/** Token of the options as given (`forRoot`) or produced (`forRootAsync`), before the verifier is created. */
const MODULE_OPTIONS = Symbol.for('keyturn.nestjs.module-options');

/** A class that produces the module options, for {@link KeyturnModuleAsyncOptions.useClass}. */
export interface KeyturnOptionsFactory {
  /** Returns the module options. */
  createKeyturnOptions(): KeyturnModuleOptions | Promise<KeyturnModuleOptions>;
}

/** Options of {@link KeyturnModule.forRootAsync}: exactly one of `useFactory`, `useClass` or `useExisting`. */
export interface KeyturnModuleAsyncOptions {
  /** Modules whose providers `useFactory` / `useClass` need (`ConfigModule`, ...). */
  imports?: ModuleMetadata['imports'];
  /** Builds the options from the providers listed in `inject`. */
  useFactory?: (...args: never[]) => KeyturnModuleOptions | Promise<KeyturnModuleOptions>;
  /** What `useFactory` receives, in order. */
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  /** A class (instantiated by the module) that produces the options. */
  useClass?: Type<KeyturnOptionsFactory>;
  /** An existing provider (from `imports`) that produces the options. */
  useExisting?: InjectionToken<KeyturnOptionsFactory>;
  /** Register the module globally, so every module can use the guard and the verifier. @default false */
  isGlobal?: boolean;
}

/** Options of {@link KeyturnModule.forRoot}: the module options, plus `isGlobal`. */
export interface KeyturnModuleRootOptions extends KeyturnModuleOptions {
  /** Register the module globally, so every module can use the guard and the verifier. @default false */
  isGlobal?: boolean;
}

const resolvedProvider: FactoryProvider<ResolvedModuleOptions> = {
  provide: KEYTURN_GUARD_OPTIONS,
  useFactory: (options: KeyturnModuleOptions) => resolveModuleOptions(options, 'KeyturnModule'),
  inject: [MODULE_OPTIONS],
};

const verifierProvider: FactoryProvider = {
  provide: KEYTURN_VERIFIER,
  useFactory: (resolved: ResolvedModuleOptions) => resolved.verifier,
  inject: [KEYTURN_GUARD_OPTIONS],
};

const shared: Provider[] = [resolvedProvider, verifierProvider, KeyturnGuard];
const exported = [KEYTURN_VERIFIER, KEYTURN_GUARD_OPTIONS, KeyturnGuard];

/**
 * The keyturn module. Import it once with a verifier (or its options); then guard webhook routes
 * with `@UseGuards(KeyturnGuard)` and read the result with `@VerifiedWebhook()`. The verifier can be
 * injected anywhere in the module (`@Inject(KEYTURN_VERIFIER)`), for `usage()` or `status()`
 * endpoints. A verifier the module created from options is disposed of when the application shuts
 * down (`app.close()`, or `enableShutdownHooks()` on a signal).
 *
 * The application must keep raw bodies: `NestFactory.create(AppModule, { rawBody: true })`.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [KeyturnModule.forRoot({ verifier: { provider: providers.smartcar(), keys: process.env.SMARTCAR_AMT! } })],
 *   controllers: [WebhooksController],
 * })
 * export class AppModule {}
 * ```
 */
@Module({})
export class KeyturnModule implements OnApplicationShutdown {
  readonly #resolved: ResolvedModuleOptions;

  /** Built by Nest (with the module's resolved options). @internal */
  constructor(@Inject(KEYTURN_GUARD_OPTIONS) resolved: ResolvedModuleOptions) {
    this.#resolved = resolved;
  }

  /**
   * The module with options known now. They are checked here: a bad option is a `TypeError` at
   * startup, never a surprise per request.
   */
  static forRoot(options: KeyturnModuleRootOptions): DynamicModule {
    const { isGlobal, ...moduleOptions } = (options ?? {}) as KeyturnModuleRootOptions;
    const resolved = resolveModuleOptions(moduleOptions as KeyturnModuleOptions, 'KeyturnModule.forRoot()');
    new KeyturnGuard(resolved); // checks the adapter options now
    return {
      module: KeyturnModule,
      global: isGlobal === true,
      providers: [{ provide: KEYTURN_GUARD_OPTIONS, useValue: resolved }, verifierProvider, KeyturnGuard],
      exports: exported,
    };
  }

  /** The module with options from other providers (`ConfigService`, a secrets client, ...). */
  static forRootAsync(options: KeyturnModuleAsyncOptions): DynamicModule {
    if (options === null || typeof options !== 'object')
      throw new TypeError('KeyturnModule.forRootAsync(): pass { useFactory, inject } (or useClass / useExisting)');
    const ways = [options.useFactory, options.useClass, options.useExisting].filter((w) => w !== undefined).length;
    if (ways !== 1) throw new TypeError('KeyturnModule.forRootAsync(): pass exactly one of useFactory, useClass or useExisting');
    const providers: Provider[] = [...shared];
    if (options.useFactory !== undefined) {
      if (typeof options.useFactory !== 'function') throw new TypeError('KeyturnModule.forRootAsync(): useFactory must be a function');
      providers.push({
        provide: MODULE_OPTIONS,
        useFactory: options.useFactory as (...args: unknown[]) => unknown,
        inject: options.inject ?? [],
      });
    } else {
      const factory = (options.useClass ?? options.useExisting) as InjectionToken<KeyturnOptionsFactory>;
      if (options.useClass !== undefined) providers.push(options.useClass);
      providers.push({ provide: MODULE_OPTIONS, useFactory: (f: KeyturnOptionsFactory) => f.createKeyturnOptions(), inject: [factory] });
    }
    return { module: KeyturnModule, global: options.isGlobal === true, imports: options.imports ?? [], providers, exports: exported };
  }

  /** Disposes of a verifier the module created (stops cache timers, releases the store). */
  async onApplicationShutdown(): Promise<void> {
    if (this.#resolved.owned) await this.#resolved.verifier.dispose();
  }
}
