/**
 * `@keyturn/store-env`: webhook secrets from environment variables — the embedded default store.
 *
 * For secretId `X`:
 *
 * | variable | meaning |
 * | --- | --- |
 * | `X` (or `X_FILE`) | the active secret |
 * | `X_PREVIOUS` (or `X_PREVIOUS_FILE`) | the previous secret, still accepted during a rotation |
 * | `X_PREVIOUS_NOT_AFTER` | end of the previous secret's window: ISO-8601 or epoch ms |
 * | `X_PENDING` (or `X_PENDING_FILE`) | opt-in: a not-yet-promoted secret the sender may already use |
 * | `X_NOT_BEFORE`, `X_NOT_AFTER`, `X_PREVIOUS_NOT_BEFORE`, `X_PENDING_NOT_BEFORE`, `X_PENDING_NOT_AFTER` | other window ends, same formats |
 *
 * `*_FILE` variables name a file holding the secret (Docker and Kubernetes secrets). Empty values,
 * surrounding whitespace and unparseable dates are clear errors: nothing is trimmed silently (a
 * trailing newline changes an HMAC key).
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { KeyStoreError, type KeyRole, type KeyStore, type SecretVersion } from '@keyturn/core';
import { abortedLoad, readSecretFile } from './secret-file.ts';

/** Options of {@link envKeyStore}. */
export interface EnvKeyStoreOptions {
  /** Where variables are read from. Pass `c.env` on Workers, `Deno.env.toObject()` on Deno. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * What to do with a single trailing newline in a `*_FILE` secret (`echo secret > file` writes one).
   * `'error'` rejects it like any other whitespace; `'strip'` removes exactly one `\n` (or `\r\n`).
   * @default 'error'
   */
  fileTrailingNewline?: 'error' | 'strip';
  /** Reads a `*_FILE` path (tests, or runtimes without `node:fs`). @default fs.promises.readFile */
  readFile?: (path: string, options: { signal: AbortSignal }) => Promise<Uint8Array>;
}

const STORE = 'env';
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const ROLES: readonly { role: KeyRole; suffix: string }[] = [
  { role: 'active', suffix: '' },
  { role: 'pending', suffix: '_PENDING' },
  { role: 'previous', suffix: '_PREVIOUS' },
];

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
  const read = options.readFile ?? ((path, { signal }) => readFile(path, { signal }));
  const stripNewline = options.fileTrailingNewline === 'strip';
  return {
    name: STORE,
    async getVersions(secretId, { signal }) {
      if (signal.aborted) throw abortedLoad(STORE, secretId, signal.reason);
      const env = options.env ?? process.env;
      return readEnvSecret(env, secretId, (variable, path) =>
        readSecretFile({ store: STORE, secretId, variable, signal, stripNewline, read: () => read(path, { signal }) }),
      );
    },
  };
}

/**
 * Reads the versions of `secretId` from a variable map (shared by `envKeyStore` and the env-file store).
 * `readSecretFile` loads a `*_FILE` path.
 */
export async function readEnvSecret(
  env: Readonly<Record<string, string | undefined>>,
  secretId: string,
  readSecretFile: (variable: string, path: string) => Promise<Uint8Array>,
): Promise<SecretVersion[]> {
  if (!NAME.test(secretId)) {
    throw terminal(secretId, 'INVALID_NAME', `env: "${secretId}" is not a valid environment variable name`);
  }
  const versions: SecretVersion[] = [];
  for (const { role, suffix } of ROLES) {
    const variable = secretId + suffix;
    const direct = env[variable];
    const filePath = env[`${variable}_FILE`];
    if (direct !== undefined && filePath !== undefined) {
      throw terminal(secretId, 'AMBIGUOUS', `env: both ${variable} and ${variable}_FILE are set; keep one`);
    }
    let secret: string | Uint8Array;
    let source: string;
    if (direct !== undefined) {
      secret = direct;
      source = variable;
    } else if (filePath !== undefined) {
      if (filePath.length === 0) throw terminal(secretId, 'EMPTY_VALUE', `env: ${variable}_FILE is empty`);
      const bytes = await readSecretFile(`${variable}_FILE`, filePath);
      secret = textOrBytes(bytes);
      source = `${variable}_FILE`;
    } else {
      if (role === 'active') {
        throw terminal(secretId, 'NOT_FOUND', `env: ${secretId} (or ${secretId}_FILE) is not set`);
      }
      for (const edge of ['_NOT_BEFORE', '_NOT_AFTER']) {
        if (env[variable + edge] !== undefined) {
          throw terminal(secretId, 'ORPHAN_WINDOW', `env: ${variable}${edge} is set but ${variable} is not`);
        }
      }
      continue;
    }
    checkValue(secretId, source, secret);
    const notBefore = parseDate(env, `${variable}_NOT_BEFORE`, secretId);
    const notAfter = parseDate(env, `${variable}_NOT_AFTER`, secretId);
    if (notBefore !== undefined && notAfter !== undefined && notAfter < notBefore) {
      throw terminal(secretId, 'INVALID_WINDOW', `env: ${variable}_NOT_AFTER is before ${variable}_NOT_BEFORE`);
    }
    const same = versions.find((v) => sameSecret(v.secret, secret));
    if (same !== undefined) continue; // identical values collapse into the more privileged role
    // The id follows the secret, not the variable: a key keeps its id (and its usage counts) when a
    // rotation moves it from X to X_PREVIOUS.
    versions.push({ id: `${secretId}@${await fingerprint(secret)}`, secret, role, notBefore, notAfter });
  }
  return versions;
}

function checkValue(secretId: string, source: string, secret: string | Uint8Array): void {
  const text = typeof secret === 'string' ? secret : undefined;
  if ((text ?? secret).length === 0) throw terminal(secretId, 'EMPTY_VALUE', `env: ${source} is empty`);
  if (text !== undefined && (/^\s/.test(text) || /\s$/.test(text))) {
    throw terminal(
      secretId,
      'WHITESPACE',
      `env: ${source} has leading or trailing whitespace; keyturn never trims secrets${source.endsWith('_FILE') ? ' (use fileTrailingNewline: "strip" for files written with a final newline)' : ''}`,
    );
  }
}

function parseDate(env: Readonly<Record<string, string | undefined>>, variable: string, secretId: string): number | undefined {
  const raw = env[variable];
  if (raw === undefined) return undefined;
  if (/^\d{1,16}$/.test(raw)) return Number(raw);
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(raw)) {
    const t = Date.parse(raw);
    if (!Number.isNaN(t)) return t;
  }
  throw terminal(
    secretId,
    'INVALID_DATE',
    `env: ${variable} is not an ISO-8601 date-time with a zone (2026-12-01T00:00:00Z) or epoch milliseconds`,
  );
}

function textOrBytes(bytes: Uint8Array): string | Uint8Array {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return bytes;
  }
}

function sameSecret(a: string | Uint8Array, b: string | Uint8Array): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** A short, non-reversible fingerprint so a key id changes when the secret behind a variable changes. */
async function fingerprint(secret: string | Uint8Array): Promise<string> {
  const bytes = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  const salted = new Uint8Array(bytes.length + 16);
  salted.set(new TextEncoder().encode('keyturn-key-id\0\0'));
  salted.set(bytes, 16);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', salted));
  let hex = '';
  for (let i = 0; i < 4; i++) hex += (digest[i] as number).toString(16).padStart(2, '0');
  return hex;
}

function terminal(secretId: string, reason: string, message: string): KeyStoreError {
  return new KeyStoreError(message, { retryable: false, store: STORE, secretId, reason });
}

export {
  envFileKeyStore,
  type EnvFileKeyStore,
  type EnvFileKeyStoreOptions,
  type RetirePreviousOptions,
  type RetirePreviousResult,
} from './env-file.ts';
