/**
 * `@keyturn/store-env`: webhook secrets from environment variables — the embedded default store.
 *
 * For secretId `X`:
 *
 * | variable | meaning |
 * | --- | --- |
 * | `X` (or `X_FILE`) | the active secret |
 * | `X_PREVIOUS` (or `X_PREVIOUS_FILE`) | the previous secret, still accepted during a rotation |
 * | `X_PREVIOUS_NOT_AFTER` | end of the previous secret's window: ISO-8601 or epoch ms. **Without it the previous secret is accepted until you remove it** (the verifier emits a `previous-key-unbounded` event once per key) |
 * | `X_PENDING` (or `X_PENDING_FILE`) | opt-in: a not-yet-promoted secret the sender may already use |
 * | `X_NOT_BEFORE`, `X_NOT_AFTER`, `X_PREVIOUS_NOT_BEFORE`, `X_PENDING_NOT_BEFORE`, `X_PENDING_NOT_AFTER` | other window ends, same formats |
 * | `X_KEY_ID`, `X_PREVIOUS_KEY_ID`, `X_PENDING_KEY_ID` | opt-in: name the key ids yourself (all of a secret's keys, or none) |
 *
 * `*_FILE` variables name a file holding the secret (Docker and Kubernetes secrets). Exactly one final
 * newline (`\n` or `\r\n`, what `echo secret > file` and most Kubernetes secrets write) is dropped
 * from a text file; any other surrounding whitespace is an error, as it is for variables: nothing else
 * is trimmed (a stray character changes an HMAC key). Empty values and unparseable dates are clear
 * errors too.
 *
 * Key ids: `X@<fingerprint>`, derived from the secret with PBKDF2-HMAC-SHA256 (10 000 iterations, salted
 * with the secret id), so a key keeps its id — and its usage counts — when a rotation moves it from `X` to
 * `X_PREVIOUS`, while an id costs a guesser 10 000 HMACs per guess: more than checking a guess against one
 * captured signed webhook (one HMAC). Or name them: `X_KEY_ID=2026-05` gives the id `X@2026-05`, which says
 * nothing about the secret; the price is that a rotation must move the id with the secret (`X_KEY_ID` to
 * `X_PREVIOUS_KEY_ID`). A secret that looks guessable (short, or few distinct characters) is reported once
 * per key (`onWarning`).
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
 * A secret that looks guessable: its length and number of distinct characters give an estimated strength
 * below 72 bits (length × log2(distinct characters); random secrets of 128 bits do not trigger it). A human-chosen secret can be recovered by
 * trying guesses against one captured signed webhook; use a random one (`openssl rand -hex 32`). The
 * warning names the variable and the key id, never the secret.
 */
export interface EnvSecretWarning {
  /** Always `LOW_ENTROPY_SECRET`. */
  readonly code: 'LOW_ENTROPY_SECRET';
  /** Secret id. */
  readonly secretId: string;
  /** Variable the secret came from (`X`, `X_PREVIOUS_FILE`, ...). */
  readonly variable: string;
  /** Id of the key. */
  readonly keyId: string;
  /** The estimate, in bits (a heuristic: length × log2 of the number of distinct characters). */
  readonly estimatedBits: number;
  /** A log line (no secret in it). */
  readonly message: string;
}

/** Options of {@link readEnvSecret}. */
export interface ReadEnvSecretOptions {
  /** Where low-entropy warnings go, once per key. @default process.emitWarning */
  readonly onWarning?: ((warning: EnvSecretWarning) => void) | undefined;
}

const STORE = 'env';
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const KEY_ID_VALUE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

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
  const newline = options.fileTrailingNewline ?? 'strip';
  if (newline !== 'strip' && newline !== 'error') throw new TypeError("envKeyStore(): `fileTrailingNewline` must be 'strip' or 'error'");
  if (options.onWarning !== undefined && typeof options.onWarning !== 'function') throw new TypeError('envKeyStore(): `onWarning` must be a function');
  const stripNewline = newline === 'strip';
  return {
    name: STORE,
    async getVersions(secretId, { signal }) {
      if (signal.aborted) throw abortedLoad(STORE, secretId, signal.reason);
      const env = options.env ?? process.env;
      return readEnvSecret(
        env,
        secretId,
        (variable, path) => readSecretFile({ store: STORE, secretId, variable, signal, stripNewline, read: () => read(path, { signal }) }),
        { onWarning: options.onWarning },
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
  options: ReadEnvSecretOptions = {},
): Promise<SecretVersion[]> {
  if (!NAME.test(secretId)) {
    throw terminal(secretId, 'INVALID_NAME', `env: "${secretId}" is not a valid environment variable name`);
  }
  const found: { version: Omit<SecretVersion, 'id'>; source: string; explicitId: string | undefined; idVariable: string }[] = [];
  for (const { role, suffix } of ROLES) {
    const variable = secretId + suffix;
    const direct = env[variable];
    const filePath = env[`${variable}_FILE`];
    const idVariable = `${variable}_KEY_ID`;
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
      for (const edge of ['_NOT_BEFORE', '_NOT_AFTER', '_KEY_ID']) {
        if (env[variable + edge] !== undefined) {
          throw terminal(secretId, edge === '_KEY_ID' ? 'INVALID_CONFIG' : 'ORPHAN_WINDOW', `env: ${variable}${edge} is set but ${variable} is not`);
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
    const explicitId = env[idVariable];
    if (explicitId !== undefined && !KEY_ID_VALUE.test(explicitId)) {
      throw terminal(secretId, 'INVALID_CONFIG', `env: ${idVariable} must be 1 to 64 letters, digits, ".", "_", ":" or "-", starting with a letter or digit`);
    }
    if (found.some((f) => sameSecret(f.version.secret, secret))) continue; // identical values collapse into the more privileged role
    found.push({ version: { secret, role, notBefore, notAfter }, source, explicitId, idVariable });
  }
  // Explicit ids: all of a secret's keys or none. A rotation that moved a secret but not its id (X to
  // X_PREVIOUS, X_KEY_ID left behind) would otherwise give the new key the old key's id and usage counts.
  const named = found.filter((f) => f.explicitId !== undefined);
  if (named.length > 0 && named.length < found.length) {
    const unnamed = found.find((f) => f.explicitId === undefined) as (typeof found)[number];
    throw terminal(
      secretId,
      'INVALID_CONFIG',
      `env: ${named[0]!.idVariable} is set but ${unnamed.source} has no ${unnamed.idVariable}: name every key of ${secretId} or none (a rotation moves ${secretId}_KEY_ID to ${secretId}_PREVIOUS_KEY_ID with the secret)`,
    );
  }
  const versions: SecretVersion[] = [];
  for (const f of found) {
    // Derived ids follow the secret, not the variable: a key keeps its id (and its usage counts) when a
    // rotation moves it from X to X_PREVIOUS.
    const id = `${secretId}@${f.explicitId ?? (await derivedKeyId(secretId, f.version.secret))}`;
    if (versions.some((v) => v.id === id)) {
      throw terminal(secretId, 'INVALID_CONFIG', `env: two keys of ${secretId} are named ${id}; every key needs its own ${secretId}*_KEY_ID`);
    }
    versions.push({ id, ...f.version });
    warnIfGuessable(options.onWarning ?? defaultWarning, secretId, f.source, id, f.version.secret);
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
      `env: ${source} has leading or trailing whitespace; keyturn never trims secrets${source.endsWith('_FILE') ? ' (by default one final newline is dropped from a file; nothing else is)' : ''}`,
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

/** PBKDF2 iterations of a derived key id: each guess against an id costs this many HMAC-SHA256 computations. */
const KEY_ID_ITERATIONS = 10_000;
const KEY_ID_SALT = 'keyturn/key-id/v2\u0000';
const derivedIds = new Map<string, string>();
const MAX_DERIVED_IDS = 4_096;
const encoder = new TextEncoder();

/**
 * The fingerprint part of a derived key id: 32 bits of PBKDF2-HMAC-SHA256(secret, salt = a fixed label and
 * the secret id, 10 000 iterations). Slow on purpose — an id is public (logs, status, metrics), so it must
 * not confirm a guessed secret more cheaply than a captured signed webhook already does (one HMAC per
 * guess) — and computed once per secret per process (≈ 10 ms), then remembered.
 */
async function derivedKeyId(secretId: string, secret: string | Uint8Array): Promise<string> {
  const memo = `${secretId}\u0000${typeof secret === 'string' ? `s${secret}` : `b${hex(secret)}`}`;
  const known = derivedIds.get(memo);
  if (known !== undefined) return known;
  const bytes = typeof secret === 'string' ? encoder.encode(secret) : secret;
  const key = await crypto.subtle.importKey('raw', bytes as Uint8Array<ArrayBuffer>, 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt: encoder.encode(KEY_ID_SALT + secretId), iterations: KEY_ID_ITERATIONS },
    key,
    32,
  );
  const id = hex(new Uint8Array(bits));
  if (derivedIds.size >= MAX_DERIVED_IDS) derivedIds.delete(derivedIds.keys().next().value as string);
  derivedIds.set(memo, id);
  return id;
}

function hex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += (bytes[i] as number).toString(16).padStart(2, '0');
  return out;
}

/** Warnings already given, per receiver (a default receiver warns once per key per process). */
const warned = new WeakMap<(warning: EnvSecretWarning) => void, Set<string>>();
/** Below this estimate a secret is reported as guessable. */
const WEAK_BITS = 72;

function warnIfGuessable(
  onWarning: (warning: EnvSecretWarning) => void,
  secretId: string,
  variable: string,
  keyId: string,
  secret: string | Uint8Array,
): void {
  const bits = estimateBits(secret);
  if (bits >= WEAK_BITS) return;
  let seen = warned.get(onWarning);
  if (seen === undefined) warned.set(onWarning, (seen = new Set()));
  if (seen.has(keyId)) return;
  if (seen.size >= MAX_DERIVED_IDS) seen.clear();
  seen.add(keyId);
  const message =
    `keyturn: the secret in ${variable} (key ${keyId}) looks guessable (short, or few distinct characters): ` +
    'a captured signed webhook lets anyone test guesses offline. Use a random secret of at least 128 bits (openssl rand -hex 32).';
  try {
    onWarning({ code: 'LOW_ENTROPY_SECRET', secretId, variable, keyId, estimatedBits: Math.round(bits), message });
  } catch {
    // A warning receiver must never break loading.
  }
}

function defaultWarning(warning: EnvSecretWarning): void {
  const p = (globalThis as { process?: { emitWarning?: (message: string, options: { code: string }) => void } }).process;
  if (typeof p?.emitWarning === 'function') p.emitWarning(warning.message, { code: 'KEYTURN_LOW_ENTROPY_SECRET' });
  else console.warn(warning.message);
}

/**
 * A rough strength estimate: length × log2(number of distinct characters) — for bytes, 8 bits per
 * distinct byte value. It flags short and repetitive secrets (`password123` 37, `smartcar-prod-2024` 67,
 * `changeme` 23); it cannot recognise a passphrase of dictionary words. Random secrets of 128 bits are
 * far above the threshold: over 300 000 samples each of hex, base64, base64url and UUIDs the lowest
 * estimate was 76 bits (base64url).
 */
function estimateBits(secret: string | Uint8Array): number {
  if (typeof secret !== 'string') return new Set(secret).size * 8;
  const chars = [...secret];
  const distinct = new Set(chars).size;
  return distinct <= 1 ? 0 : chars.length * Math.log2(distinct);
}

function terminal(secretId: string, reason: string, message: string): KeyStoreError {
  return new KeyStoreError(message, { retryable: false, store: STORE, secretId, reason });
}

export {
  envFileKeyStore,
  type EnvFileKeyStore,
  type EnvFileKeyStoreOptions,
  type EnvFileWarning,
  type RetirePreviousOptions,
  type RetirePreviousResult,
} from './env-file.ts';
