/**
 * `@keyturn/store-env/file`: webhook secrets in a `.env`-style file, readable **and writable**
 * (`rotate()`, `retirePrevious()`), for local development and single-host deployments. Node only
 * (`node:fs`); the read-only `envKeyStore` is `@keyturn/store-env`.
 *
 * @module
 */
export {
  envFileKeyStore,
  type EnvFileKeyStore,
  type EnvFileKeyStoreOptions,
  type EnvFileWarning,
  type EnvFileRotateOptions,
  type RetirePreviousOptions,
  type RetirePreviousResult,
} from './store.ts';
