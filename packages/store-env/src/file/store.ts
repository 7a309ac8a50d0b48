/**
 * `envFileKeyStore`: webhook secrets in a `.env`-style file, readable **and writable** — for local
 * development and single-host deployments where a file is the secret store.
 *
 * The file uses the same variables as {@link envKeyStore} (`X`, `X_PREVIOUS`,
 * `X_PREVIOUS_NOT_AFTER`, `X_PENDING`, ...). `rotate()` rewrites it atomically (temp file in the
 * same directory, `fsync`, `rename`), keeps its mode (0600 for a new file), keeps every unrelated
 * line and comment byte for byte, writes through a symbolic link to its target, and holds a lock
 * file so two rotations never interleave.
 *
 * @module
 */
import { open, readFile, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import {
  KeyStoreError,
  type KeyStore,
  type RetirePreviousOptions,
  type RetirePreviousResult,
  type RotateOptions,
  type RotateResult,
  type SecretVersion,
} from '@keyturn/core';
import { abortedError, envError, fsError } from '../errors.ts';
import { NAME, readEnvVersions } from '../roles.ts';
import { readSecretFile } from '../secret-file.ts';
import { acquireFileLock, LockAbortedError, LockBusyError, writeFileAtomic, type HeldLock } from './atomic.ts';
import { fileSignature, MAX_SIGNATURES, parseEdge, toText, writeTarget } from './checks.ts';
import { parseEnvFile, serializeEnvFile, type EnvDocument } from './document.ts';

const STORE = 'env-file';

/** Options of {@link envFileKeyStore}. */
export interface EnvFileKeyStoreOptions {
  /** Path of the `.env`-style file. */
  path: string;
  /** As in `envKeyStore`: what to do with one final newline in a `*_FILE` secret. @default 'strip' */
  fileTrailingNewline?: 'error' | 'strip';
  /** Clock for rotation windows, epoch ms. @default Date.now */
  now?: () => number;
  /** How long a write waits for another writer's lock before failing (retryable), in ms. @default 10_000 */
  lockTimeoutMs?: number;
  /**
   * A lock whose writer is gone is taken over: at once when the lock names a process of this host
   * that no longer runs (a killed writer), otherwise once it is older than this, in ms.
   * @default 60_000
   */
  staleLockMs?: number;
  /**
   * Called with secret-free warnings, once per file and mode: the file (or the target of its symbolic
   * link) is readable or writable by group or others. @default process.emitWarning (type `KeyturnWarning`)
   */
  onWarning?: (warning: EnvFileWarning) => void;
}

/** A warning of {@link envFileKeyStore} (never contains a secret). */
export interface EnvFileWarning {
  /** `ENV_FILE_PERMISSIONS`: group or others may read (or write) the file. */
  readonly code: 'ENV_FILE_PERMISSIONS';
  /** What is wrong and what to do (`chmod 600 …`). */
  readonly message: string;
  /** The file checked (the target of a symbolic link). */
  readonly path: string;
  /** Its permission bits, e.g. `0o644`. */
  readonly mode: number;
}

export type { RetirePreviousOptions, RetirePreviousResult };

/** Options of {@link EnvFileKeyStore.rotate}: no `idempotencyToken` (the value comparison is the idempotency). */
export type EnvFileRotateOptions = Omit<RotateOptions, 'idempotencyToken'>;

/** The env-file store: a {@link KeyStore} with a write side. */
export interface EnvFileKeyStore extends KeyStore {
  /** Absolute path of the file. */
  readonly path: string;
  /**
   * Makes `newSecret` the active secret: `X` ← new, `X_PREVIOUS` ← old `X`, and
   * `X_PREVIOUS_NOT_AFTER` ← now + `previousGraceMs`. Without `previousGraceMs` the previous key
   * gets **no window end** and stays accepted until retired: the result then has
   * `previousUnbounded: true` and says so in `warnings`. A `X_PENDING` equal to the new secret is
   * removed (it was promoted). Idempotent: when `X` already holds `newSecret` nothing is written and
   * the current ids are returned, so a retried or repeated write never demotes the previous key.
   * There is no `idempotencyToken`: the value comparison is the idempotency (a token passed through the
   * generic `KeyStore.rotate` is not looked at).
   *
   * Through a symbolic link, the target is rewritten (the link stays a link). Every other line is
   * kept byte for byte, including bytes that are not UTF-8; lines of this secret must be UTF-8.
   */
  rotate(secretId: string, newSecret: string | Uint8Array, options?: EnvFileRotateOptions): Promise<RotateResult>;
  /** Removes `X_PREVIOUS` (and its window variables): the old key stops verifying at the next load. */
  retirePrevious(secretId: string, options?: RetirePreviousOptions): Promise<RetirePreviousResult>;
  /**
   * Whether the file may have changed since `secretId` was last read: one `stat` (inode, size, mtime,
   * ctime), no read. The verifier asks it when no key matches while its refresh-on-miss cooldown runs, so
   * a rotation written by another process (`keyturn rotate dataspike`) is seen on the next delivery.
   */
  hasChanged(secretId: string): Promise<boolean>;
}

/**
 * Creates a store backed by a `.env`-style file.
 *
 * Format: `NAME=value` lines, optional `export ` prefix, `#` comments and blank lines. Values are
 * unquoted, `'single-quoted'` (literal) or `"double-quoted"` (with `\\n`, `\\"`, `\\\\` escapes).
 * Unquoted values must not contain `#` (quote them); nothing is trimmed: a value with leading or
 * trailing whitespace is an error, as in `envKeyStore`. `*_FILE` paths are relative to the file's
 * directory. Duplicate names are an error.
 *
 * @example
 * ```ts
 * const store = envFileKeyStore({ path: '/etc/myapp/webhooks.env' });
 * const verifier = createVerifier({ provider: providers.dataspike(), keys: store, secretId: 'DATASPIKE_WEBHOOK_SECRET' });
 * await store.rotate('DATASPIKE_WEBHOOK_SECRET', newSecret, { previousGraceMs: 24 * 3600_000 });
 * ```
 */
export function envFileKeyStore(options: EnvFileKeyStoreOptions): EnvFileKeyStore {
  if (options === null || typeof options !== 'object' || typeof options.path !== 'string' || options.path.length === 0) {
    throw new TypeError('envFileKeyStore(): `path` is required');
  }
  const path = resolve(options.path);
  const dir = dirname(path);
  const now = options.now ?? Date.now;
  const stripNewline = options.fileTrailingNewline !== 'error';
  const lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
  const staleLockMs = options.staleLockMs ?? 60_000;

  const versionsOf = (map: ReadonlyMap<string, string>, secretId: string, signal?: AbortSignal): Promise<SecretVersion[]> =>
    readEnvVersions(
      Object.fromEntries(map),
      secretId,
      (variable, filePath) =>
        readSecretFile({
          store: STORE,
          secretId,
          variable,
          signal,
          stripNewline,
          read: () => readFile(isAbsolute(filePath) ? filePath : join(dir, filePath), signal === undefined ? undefined : { signal }),
        }),
      { store: STORE },
    );

  const onWarning = options.onWarning ?? defaultWarning;
  const warned = new Set<string>();

  /** A secret-free warning when group or others may read or write `file`; reported once per file and mode. */
  function modeWarning(file: string, mode: number): string | undefined {
    if (process.platform === 'win32' || (mode & 0o077) === 0) return undefined;
    const who = [(mode & 0o070) !== 0 ? 'group' : undefined, (mode & 0o007) !== 0 ? 'others' : undefined].filter(Boolean).join(' and ');
    const octal = `0${(mode & 0o777).toString(8)}`;
    const message = `env-file: ${file} holds webhook secrets but its mode ${octal} lets ${who} access it; run \`chmod 600 ${file}\``;
    const key = `${file}\u0000${mode & 0o777}`;
    if (!warned.has(key)) {
      warned.add(key);
      try {
        onWarning({ code: 'ENV_FILE_PERMISSIONS', message, path: file, mode: mode & 0o777 });
      } catch {
        // a throwing warning handler must not break loading
      }
    }
    return message;
  }

  async function load(
    secretId: string,
    signal: AbortSignal | undefined,
    missingOk: boolean,
    file = path,
  ): Promise<{ doc: EnvDocument; warning: string | undefined }> {
    let bytes: Uint8Array;
    let mode: number;
    try {
      if (signal?.aborted) throw aborted(secretId, signal.reason);
      const handle = await open(file, 'r');
      try {
        mode = (await handle.stat()).mode;
        bytes = await handle.readFile(signal === undefined ? undefined : { signal });
      } finally {
        await handle.close();
      }
    } catch (err) {
      if (err instanceof KeyStoreError) throw err;
      if (signal?.aborted) throw aborted(secretId, signal.reason);
      if ((err as { code?: unknown }).code === 'ENOENT' && missingOk)
        return { doc: parseEnvFile(new Uint8Array(), secretId), warning: undefined };
      throw fsError(STORE, secretId, `env-file: cannot read ${path}`, err);
    }
    const warning = (mode & 0o077) === 0 ? undefined : modeWarning(file === path ? await realpath(path).catch(() => path) : file, mode);
    return { doc: parseEnvFile(bytes, secretId), warning };
  }

  async function withLock<T>(file: string, secretId: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    const lockPath = `${file}.lock`;
    let lock: HeldLock;
    try {
      lock = await acquireFileLock(lockPath, { timeoutMs: lockTimeoutMs, staleLockMs, signal });
    } catch (err) {
      if (err instanceof LockAbortedError) throw aborted(secretId, err.reason);
      if (err instanceof LockBusyError) {
        const holder =
          err.holder === undefined
            ? ''
            : ` (process ${err.holder.pid} on ${err.holder.host}, since ${new Date(err.holder.at).toISOString()})`;
        throw envError(
          STORE,
          secretId,
          'LOCKED',
          `env-file: ${lockPath} is held by another writer${holder}; retry, or delete it if no keyturn process is running`,
          true,
        );
      }
      throw fsError(STORE, secretId, `env-file: cannot create the lock file ${lockPath}`, err, ['EACCES', 'ENOENT']);
    }
    try {
      return await fn();
    } finally {
      await lock.release();
    }
  }

  async function write(doc: EnvDocument, secretId: string, signal: AbortSignal | undefined, file: string): Promise<void> {
    if (signal?.aborted) throw aborted(secretId, signal.reason);
    // What is written must read back as exactly these values (a value that cannot be put on one
    // line — a U+2028, say — is refused here, before anything touches the disk).
    const text = serializeEnvFile(doc);
    let reread: EnvDocument | undefined;
    try {
      reread = parseEnvFile(text, secretId);
    } catch {
      reread = undefined;
    }
    if (reread === undefined || reread.values.size !== doc.values.size || [...doc.values].some(([k, v]) => reread.values.get(k) !== v)) {
      throw envError(
        STORE,
        secretId,
        'INVALID_FORMAT',
        `env-file: a value of ${secretId} cannot be written on one line of ${path} so that it reads back the same; nothing was written`,
      );
    }
    try {
      await writeFileAtomic(file, text);
    } catch (err) {
      throw fsError(STORE, secretId, `env-file: cannot write ${file}`, err, ['EACCES', 'EROFS', 'ENOENT']);
    }
  }

  /** Secret id -> the file's `stat` signature when that secret was last read (for `hasChanged`). */
  const signatures = new Map<string, string>();

  function resultOf(secretId: string, versions: readonly SecretVersion[], warnings: readonly (string | undefined)[]): RotateResult {
    const active = versions.find((v) => v.role === 'active');
    const previous = versions.find((v) => v.role === 'previous');
    const unbounded = previous !== undefined && previous.notAfter === undefined;
    const out = warnings.filter((w): w is string => w !== undefined);
    if (unbounded) {
      out.push(
        `the previous key ${previous.id} (${secretId}_PREVIOUS) has no window end (no ${secretId}_PREVIOUS_NOT_AFTER): it stays accepted until it is retired ` +
          '(retirePrevious(), `keyturn keys retire`); rotate with previousGraceMs to give it one',
      );
    }
    return {
      activeId: active?.id ?? '',
      previousId: previous?.id,
      previousNotAfter: previous?.notAfter,
      previousUnbounded: unbounded,
      warnings: out,
    };
  }

  return {
    name: STORE,
    path,
    async getVersions(secretId, { signal }) {
      if (signal.aborted) throw aborted(secretId, signal.reason);
      // The file's identity before the read: a write racing the read shows up as a change next time.
      const before = await fileSignature(path);
      const { doc } = await load(secretId, signal, false);
      const versions = await versionsOf(doc.values, secretId, signal);
      if (signatures.size >= MAX_SIGNATURES && !signatures.has(secretId)) signatures.clear();
      signatures.set(secretId, before);
      return versions;
    },

    async hasChanged(secretId) {
      const last = signatures.get(secretId);
      return last === undefined || (await fileSignature(path)) !== last;
    },

    async rotate(secretId, newSecret, rotateOptions = {}) {
      const { signal, previousGraceMs } = rotateOptions;
      if (!NAME.test(secretId)) {
        throw envError(STORE, secretId, 'INVALID_NAME', `env-file: "${secretId}" is not a valid variable name`);
      }
      if (previousGraceMs !== undefined && (!Number.isFinite(previousGraceMs) || previousGraceMs < 0)) {
        throw new TypeError('rotate(): `previousGraceMs` must be a non-negative number of ms');
      }
      const value = toText(secretId, newSecret);
      const file = await writeTarget(path, secretId);
      return withLock(file, secretId, signal, async () => {
        const { doc, warning } = await load(secretId, signal, true, file);
        for (const suffix of ['', '_PREVIOUS']) {
          if (doc.values.has(`${secretId}${suffix}_FILE`)) {
            throw envError(
              STORE,
              secretId,
              'FILE_REFERENCE',
              `env-file: ${secretId}${suffix} is read from ${secretId}${suffix}_FILE; write that secret where it lives, or replace the _FILE variable with ${secretId}${suffix}`,
            );
          }
        }
        const current = doc.values.get(secretId);
        if (current === value) {
          // Already active (a retried or repeated write): change nothing, demote nothing.
          return resultOf(secretId, await versionsOf(doc.values, secretId, signal), [warning]);
        }
        const next = doc.clone();
        next.set(secretId, value);
        next.delete(`${secretId}_NOT_BEFORE`);
        next.delete(`${secretId}_NOT_AFTER`);
        if (next.values.get(`${secretId}_PENDING`) === value) {
          next.delete(`${secretId}_PENDING`);
          next.delete(`${secretId}_PENDING_NOT_BEFORE`);
          next.delete(`${secretId}_PENDING_NOT_AFTER`);
        }
        if (current !== undefined) {
          const oldEnd = parseEdge(doc.values.get(`${secretId}_NOT_AFTER`));
          let notAfter = previousGraceMs === undefined ? undefined : now() + previousGraceMs;
          if (oldEnd !== undefined) notAfter = notAfter === undefined ? oldEnd : Math.min(notAfter, oldEnd);
          next.set(`${secretId}_PREVIOUS`, current);
          next.delete(`${secretId}_PREVIOUS_NOT_BEFORE`);
          if (notAfter === undefined) next.delete(`${secretId}_PREVIOUS_NOT_AFTER`);
          else next.set(`${secretId}_PREVIOUS_NOT_AFTER`, new Date(notAfter).toISOString());
        }
        // Validate the result with the reader before anything touches the disk.
        const versions = await versionsOf(next.values, secretId, signal);
        await write(next, secretId, signal, file);
        return resultOf(secretId, versions, [warning]);
      });
    },

    async retirePrevious(secretId, retireOptions = {}) {
      const { signal, keyId } = retireOptions;
      if (!NAME.test(secretId)) {
        throw envError(STORE, secretId, 'INVALID_NAME', `env-file: "${secretId}" is not a valid variable name`);
      }
      const file = await writeTarget(path, secretId);
      return withLock(file, secretId, signal, async () => {
        const { doc } = await load(secretId, signal, false, file);
        const versions = await versionsOf(doc.values, secretId, signal);
        const previous = versions.find((v) => v.role === 'previous');
        if (previous === undefined) return { retiredId: undefined };
        if (keyId !== undefined && previous.id !== keyId) {
          throw envError(
            STORE,
            secretId,
            'KEY_CHANGED',
            `env-file: the previous key of ${secretId} is ${previous.id}, not ${keyId}; nothing was retired`,
          );
        }
        const next = doc.clone();
        for (const suffix of ['', '_FILE', '_NOT_BEFORE', '_NOT_AFTER']) next.delete(`${secretId}_PREVIOUS${suffix}`);
        await write(next, secretId, signal, file);
        return { retiredId: previous.id };
      });
    },
  };
}

function defaultWarning(warning: EnvFileWarning): void {
  process.emitWarning(warning.message, { type: 'KeyturnWarning', code: `KEYTURN_${warning.code}` });
}

function aborted(secretId: string, cause: unknown): KeyStoreError {
  return abortedError(STORE, secretId, 'env-file: the operation was aborted', cause);
}
