/**
 * `envKeyStore()`: the environment-variable store (wiring). Imports nothing from Node: `*_FILE` paths
 * are read with `process.getBuiltinModule('node:fs/promises')` where it exists, or your `readFile`.
 *
 * @module
 */
import type { KeyStore } from '@keyturn/core';
import type { EnvSecretWarning } from './key-ids.ts';
import { readEnvVersions } from './roles.ts';
import { abortedLoad, readSecretFile } from './secret-file.ts';

const STORE = 'env';

/** Options of {@link envKeyStore}. */
export interface EnvKeyStoreOptions {
  /** Where variables are read from. Pass `c.env` on Workers, `Deno.env.toObject()` on Deno. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * What to do with one final newline in a `*_FILE` secret (`echo secret > file` and most Kubernetes
   * secrets write one). `'strip'` drops exactly one `\n` (or `\r\n`) from a text file — the same rule as
   * the CLI's `--secret-file`; any other surrounding whitespace is still an error. `'error'` refuses the
   * newline too. A binary (non-UTF-8) file is always used byte for byte.
   * @default 'strip'
   */
  fileTrailingNewline?: 'error' | 'strip';
  /** Reads a `*_FILE` path (tests, or runtimes without `node:fs`). @default fs.promises.readFile */
  readFile?: (path: string, options: { signal: AbortSignal }) => Promise<Uint8Array>;
  /**
   * Receives a warning, once per key, when a secret looks guessable (see {@link EnvSecretWarning}).
   * @default `process.emitWarning` (or `console.warn` where there is no `process`)
   */
  onWarning?: (warning: EnvSecretWarning) => void;
}

/**
 * Creates the environment-variable store.
 *
 * @example
 * ```ts
 * // SMARTCAR_AMT=new-token  SMARTCAR_AMT_PREVIOUS=old-token  SMARTCAR_AMT_PREVIOUS_NOT_AFTER=2026-12-01T00:00:00Z
 * const verifier = createVerifier({ provider: providers.smartcar(), keys: envKeyStore(), secretId: 'SMARTCAR_AMT' });
 * ```
 */
export function envKeyStore(options: EnvKeyStoreOptions = {}): KeyStore {
  const read = options.readFile ?? nodeReadFile;
  const newline = options.fileTrailingNewline ?? 'strip';
  if (newline !== 'strip' && newline !== 'error') throw new TypeError("envKeyStore(): `fileTrailingNewline` must be 'strip' or 'error'");
  if (options.onWarning !== undefined && typeof options.onWarning !== 'function')
    throw new TypeError('envKeyStore(): `onWarning` must be a function');
  const stripNewline = newline === 'strip';
  return {
    name: STORE,
    async getVersions(secretId, { signal }) {
      if (signal.aborted) throw abortedLoad(STORE, secretId, signal.reason);
      const env = options.env ?? processEnv();
      return readEnvVersions(
        env,
        secretId,
        (variable, path) => readSecretFile({ store: STORE, secretId, variable, signal, stripNewline, read: () => read(path, { signal }) }),
        { store: STORE, onWarning: options.onWarning },
      );
    },
  };
}

type ReadFile = (path: string, options: { signal: AbortSignal }) => Promise<Uint8Array>;
type NodeProcess = { env?: Record<string, string | undefined>; getBuiltinModule?: (id: string) => unknown };

const nodeProcess = (): NodeProcess | undefined => (globalThis as { process?: NodeProcess }).process;

/** `process.env`, or nothing where there is no `process` (pass `env` there). */
function processEnv(): Readonly<Record<string, string | undefined>> {
  return nodeProcess()?.env ?? {};
}

/** `fs.promises.readFile` through `process.getBuiltinModule` (Node ≥ 22.3, Deno, Bun): no import, so the store bundles for Workers. */
const nodeReadFile: ReadFile = (path, options) => {
  const fs = nodeProcess()?.getBuiltinModule?.('node:fs/promises') as { readFile?: ReadFile } | undefined;
  if (typeof fs?.readFile !== 'function') {
    return Promise.reject(Object.assign(new Error('no file system on this runtime: pass envKeyStore({ readFile })'), { code: 'ENOSYS' }));
  }
  return fs.readFile(path, options);
};
