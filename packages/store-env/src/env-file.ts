/**
 * `envFileKeyStore`: webhook secrets in a `.env`-style file, readable **and writable** — for local
 * development and single-host deployments where a file is the secret store.
 *
 * The file uses the same variables as {@link envKeyStore} (`X`, `X_PREVIOUS`,
 * `X_PREVIOUS_NOT_AFTER`, `X_PENDING`, ...). `rotate()` rewrites it atomically (temp file in the
 * same directory, `fsync`, `rename`), keeps its mode (0600 for a new file), keeps every unrelated
 * line and comment, and holds a lock file so two rotations never interleave.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { chmod, open, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { KeyStoreError, type KeyStore, type RotateOptions, type RotateResult, type SecretVersion } from '@keyturn/core';
import { readEnvSecret } from './index.ts';
import { readSecretFile } from './secret-file.ts';

const STORE = 'env-file';
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LINE = /^(\s*)(export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/;

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
  /** A lock file older than this is considered abandoned by a crashed writer and removed, in ms. @default 60_000 */
  staleLockMs?: number;
}

/** Options of {@link EnvFileKeyStore.retirePrevious}. */
export interface RetirePreviousOptions {
  /** Retire only if the previous key still has this id (the id `keys list` / `status` showed). */
  readonly keyId?: string;
  /** Aborts the write. */
  readonly signal?: AbortSignal;
}

/** What {@link EnvFileKeyStore.retirePrevious} did. */
export interface RetirePreviousResult {
  /** Id of the key that was removed, or `undefined` when there was no previous key. */
  readonly retiredId: string | undefined;
}

/** The env-file store: a {@link KeyStore} with a write side. */
export interface EnvFileKeyStore extends KeyStore {
  /** Absolute path of the file. */
  readonly path: string;
  /**
   * Makes `newSecret` the active secret: `X` ← new, `X_PREVIOUS` ← old `X`, and
   * `X_PREVIOUS_NOT_AFTER` ← now + `previousGraceMs` (or no window when omitted). A `X_PENDING`
   * equal to the new secret is removed (it was promoted). Idempotent: when `X` already holds
   * `newSecret` nothing is written and the current ids are returned, so a retried or repeated
   * write never demotes the previous key. `idempotencyToken` is accepted and not needed (the
   * value comparison is the idempotency).
   */
  rotate(secretId: string, newSecret: string | Uint8Array, options?: RotateOptions): Promise<RotateResult>;
  /** Removes `X_PREVIOUS` (and its window variables): the old key stops verifying at the next load. */
  retirePrevious(secretId: string, options?: RetirePreviousOptions): Promise<RetirePreviousResult>;
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
    readEnvSecret(Object.fromEntries(map), secretId, (variable, filePath) =>
      readSecretFile({
        store: STORE,
        secretId,
        variable,
        signal,
        stripNewline,
        read: () => readFile(isAbsolute(filePath) ? filePath : join(dir, filePath), signal === undefined ? undefined : { signal }),
      }),
    ).catch((err: unknown) => {
      // Re-label the shared parser's errors with this store's name.
      if (err instanceof KeyStoreError && err.store !== STORE) {
        throw new KeyStoreError(err.message.replace(/^env:/, 'env-file:'), {
          retryable: err.retryable,
          store: STORE,
          secretId,
          reason: err.reason,
        });
      }
      throw err;
    });

  async function load(secretId: string, signal: AbortSignal | undefined, missingOk: boolean): Promise<EnvDocument> {
    let text: string;
    try {
      text = await readFile(path, { encoding: 'utf8', ...(signal === undefined ? {} : { signal }) });
    } catch (err) {
      if (signal?.aborted) throw aborted(secretId, signal.reason);
      const code = (err as { code?: string }).code;
      if (code === 'ENOENT' && missingOk) return parseEnvFile('', secretId);
      throw new KeyStoreError(`env-file: cannot read ${path}${code ? ` (${code})` : ''}`, {
        retryable: code !== 'ENOENT' && code !== 'EACCES' && code !== 'EISDIR',
        store: STORE,
        secretId,
        reason: code === 'ENOENT' ? 'NOT_FOUND' : (code ?? 'READ_FAILED'),
        cause: err,
      });
    }
    return parseEnvFile(text, secretId);
  }

  async function withLock<T>(secretId: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    const lockPath = `${path}.lock`;
    const deadline = Date.now() + lockTimeoutMs;
    for (;;) {
      if (signal?.aborted) throw aborted(secretId, signal.reason);
      try {
        const handle = await open(lockPath, 'wx', 0o600);
        await handle.writeFile(`${process.pid}\n`);
        await handle.close();
        break;
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code !== 'EEXIST') {
          throw new KeyStoreError(`env-file: cannot create the lock file ${lockPath}${code ? ` (${code})` : ''}`, {
            retryable: code !== 'EACCES' && code !== 'ENOENT',
            store: STORE,
            secretId,
            reason: code ?? 'LOCK_FAILED',
            cause: err,
          });
        }
        const info = await stat(lockPath).catch(() => undefined);
        if (info !== undefined && Date.now() - info.mtimeMs > staleLockMs) {
          await rm(lockPath, { force: true });
          continue;
        }
        if (Date.now() >= deadline) {
          throw new KeyStoreError(`env-file: ${lockPath} is held by another writer; retry, or delete it if no keyturn process is running`, {
            retryable: true,
            store: STORE,
            secretId,
            reason: 'LOCKED',
          });
        }
        await new Promise((r) => setTimeout(r, 25 + Math.random() * 50));
      }
    }
    try {
      return await fn();
    } finally {
      await unlink(lockPath).catch(() => undefined);
    }
  }

  async function write(doc: EnvDocument, secretId: string, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) throw aborted(secretId, signal.reason);
    const mode = await stat(path).then(
      (s) => s.mode & 0o777,
      () => 0o600,
    );
    const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      const handle = await open(tmp, 'wx', mode);
      try {
        await handle.writeFile(serializeEnvFile(doc), 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await chmod(tmp, mode);
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      const code = (err as { code?: string }).code;
      throw new KeyStoreError(`env-file: cannot write ${path}${code ? ` (${code})` : ''}`, {
        retryable: code !== 'EACCES' && code !== 'EROFS' && code !== 'ENOENT',
        store: STORE,
        secretId,
        reason: code ?? 'WRITE_FAILED',
        cause: err,
      });
    }
    // Make the rename durable (best effort: not every platform can open a directory).
    const dirHandle = await open(dir, 'r').catch(() => undefined);
    if (dirHandle !== undefined) {
      await dirHandle.sync().catch(() => undefined);
      await dirHandle.close();
    }
  }

  function resultOf(versions: readonly SecretVersion[]): RotateResult {
    const active = versions.find((v) => v.role === 'active');
    const previous = versions.find((v) => v.role === 'previous');
    return { activeId: active?.id ?? '', previousId: previous?.id, previousNotAfter: previous?.notAfter };
  }

  return {
    name: STORE,
    path,
    async getVersions(secretId, { signal }) {
      if (signal.aborted) throw aborted(secretId, signal.reason);
      const doc = await load(secretId, signal, false);
      return versionsOf(doc.values, secretId, signal);
    },

    async rotate(secretId, newSecret, rotateOptions = {}) {
      const { signal, previousGraceMs } = rotateOptions;
      if (!NAME.test(secretId)) {
        throw terminal(secretId, 'INVALID_NAME', `env-file: "${secretId}" is not a valid variable name`);
      }
      if (previousGraceMs !== undefined && (!Number.isFinite(previousGraceMs) || previousGraceMs < 0)) {
        throw new TypeError('rotate(): `previousGraceMs` must be a non-negative number of ms');
      }
      const value = toText(secretId, newSecret);
      return withLock(secretId, signal, async () => {
        const doc = await load(secretId, signal, true);
        for (const suffix of ['', '_PREVIOUS']) {
          if (doc.values.has(`${secretId}${suffix}_FILE`)) {
            throw terminal(
              secretId,
              'FILE_REFERENCE',
              `env-file: ${secretId}${suffix} is read from ${secretId}${suffix}_FILE; write that secret where it lives, or replace the _FILE variable with ${secretId}${suffix}`,
            );
          }
        }
        const current = doc.values.get(secretId);
        if (current === value) {
          // Already active (a retried or repeated write): change nothing, demote nothing.
          return resultOf(await versionsOf(doc.values, secretId, signal));
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
        await write(next, secretId, signal);
        return resultOf(versions);
      });
    },

    async retirePrevious(secretId, retireOptions = {}) {
      const { signal, keyId } = retireOptions;
      if (!NAME.test(secretId)) {
        throw terminal(secretId, 'INVALID_NAME', `env-file: "${secretId}" is not a valid variable name`);
      }
      return withLock(secretId, signal, async () => {
        const doc = await load(secretId, signal, false);
        const versions = await versionsOf(doc.values, secretId, signal);
        const previous = versions.find((v) => v.role === 'previous');
        if (previous === undefined) return { retiredId: undefined };
        if (keyId !== undefined && previous.id !== keyId) {
          throw terminal(secretId, 'KEY_CHANGED', `env-file: the previous key of ${secretId} is ${previous.id}, not ${keyId}; nothing was retired`);
        }
        const next = doc.clone();
        for (const suffix of ['', '_FILE', '_NOT_BEFORE', '_NOT_AFTER']) next.delete(`${secretId}_PREVIOUS${suffix}`);
        await write(next, secretId, signal);
        return { retiredId: previous.id };
      });
    },
  };
}

function toText(secretId: string, secret: string | Uint8Array): string {
  let text: string;
  if (typeof secret === 'string') text = secret;
  else if (secret instanceof Uint8Array) {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(secret);
    } catch {
      throw terminal(secretId, 'BINARY_UNSUPPORTED', 'env-file: binary secrets cannot be written to an env file; use a *_FILE secret');
    }
  } else throw new TypeError('rotate(): the new secret must be a string or bytes');
  if (text.length === 0) throw terminal(secretId, 'EMPTY_VALUE', 'env-file: the new secret is empty');
  if (/^\s|\s$/.test(text)) {
    throw terminal(secretId, 'WHITESPACE', 'env-file: the new secret has leading or trailing whitespace; keyturn never trims secrets');
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(text)) {
    throw terminal(secretId, 'CONTROL_CHARACTER', 'env-file: the new secret contains a control character (newline, tab, ...)');
  }
  return text;
}

function parseEdge(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (/^\d{1,16}$/.test(raw)) return Number(raw);
  const t = Date.parse(raw);
  return Number.isNaN(t) ? undefined : t;
}

// ---------------------------------------------------------------------------------------------
// A line-preserving `.env` document.

interface EnvLine {
  /** The line exactly as read (or as written for a set variable). */
  raw: string;
  /** Variable name, for assignment lines. */
  key?: string | undefined;
  /** Leading `export `, kept when the value is rewritten. */
  exportPrefix?: string | undefined;
}

/** A parsed `.env` file that remembers every line, so a rewrite changes only what it must. */
class EnvDocument {
  constructor(
    readonly lines: EnvLine[],
    readonly values: Map<string, string>,
    readonly finalNewline: boolean,
  ) {}

  clone(): EnvDocument {
    return new EnvDocument(
      this.lines.map((l) => ({ ...l })),
      new Map(this.values),
      this.finalNewline,
    );
  }

  set(key: string, value: string): void {
    const line = this.lines.find((l) => l.key === key);
    const raw = `${line?.exportPrefix ?? ''}${key}=${quote(value)}`;
    if (line !== undefined) line.raw = raw;
    else {
      // Keep a secret's variables together: insert after the last line of the same family.
      const family = key.replace(/_(PREVIOUS|PENDING)(_NOT_BEFORE|_NOT_AFTER|_FILE)?$|_(NOT_BEFORE|NOT_AFTER|FILE)$/, '');
      let at = -1;
      this.lines.forEach((l, i) => {
        if (l.key !== undefined && (l.key === family || l.key.startsWith(`${family}_`))) at = i;
      });
      const entry = { raw, key };
      if (at === -1) this.lines.push(entry);
      else this.lines.splice(at + 1, 0, entry);
    }
    this.values.set(key, value);
  }

  delete(key: string): void {
    const i = this.lines.findIndex((l) => l.key === key);
    if (i !== -1) this.lines.splice(i, 1);
    this.values.delete(key);
  }
}

function parseEnvFile(text: string, secretId: string): EnvDocument {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const finalNewline = text.length === 0 || text.endsWith('\n');
  const rawLines = text.length === 0 ? [] : text.replace(/\r?\n$/, '').split(/\r?\n/);
  const lines: EnvLine[] = [];
  const values = new Map<string, string>();
  rawLines.forEach((raw, index) => {
    const n = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) {
      lines.push({ raw });
      return;
    }
    const m = LINE.exec(raw);
    if (m === null) throw parseError(secretId, n, 'is not NAME=value, a comment or a blank line');
    const [, , exportPrefix, key, rest] = m as unknown as [string, string, string | undefined, string, string];
    if (values.has(key)) throw parseError(secretId, n, `sets ${key} a second time`);
    values.set(key, parseValue(rest, secretId, n));
    lines.push({ raw, key, exportPrefix });
  });
  return new EnvDocument(lines, values, finalNewline);
}

function parseValue(rest: string, secretId: string, n: number): string {
  const afterQuote = (tail: string): void => {
    if (!/^\s*(#.*)?$/.test(tail)) throw parseError(secretId, n, 'has text after the closing quote');
  };
  if (rest.startsWith("'")) {
    const end = rest.indexOf("'", 1);
    if (end === -1) throw parseError(secretId, n, 'has an unterminated single quote (multi-line values are not supported)');
    afterQuote(rest.slice(end + 1));
    return rest.slice(1, end);
  }
  if (rest.startsWith('"')) {
    let out = '';
    for (let i = 1; i < rest.length; i++) {
      const c = rest[i] as string;
      if (c === '"') {
        afterQuote(rest.slice(i + 1));
        return out;
      }
      if (c === '\\') {
        const e = rest[++i];
        if (e === 'n') out += '\n';
        else if (e === 'r') out += '\r';
        else if (e === 't') out += '\t';
        else if (e === '"' || e === '\\' || e === '$' || e === "'") out += e;
        else throw parseError(secretId, n, 'has an unknown escape sequence in a double-quoted value');
      } else out += c;
    }
    throw parseError(secretId, n, 'has an unterminated double quote (multi-line values are not supported)');
  }
  const value = rest.replace(/\s+#.*$/, '');
  if (value.includes('#')) throw parseError(secretId, n, 'has an unquoted value containing # (quote it)');
  return value;
}

function quote(value: string): string {
  if (/^[A-Za-z0-9_\-.:/+=@~%,]+$/.test(value)) return value;
  if (!value.includes("'")) return `'${value}'`;
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function serializeEnvFile(doc: EnvDocument): string {
  const body = doc.lines.map((l) => l.raw).join('\n');
  return body.length === 0 ? '' : doc.finalNewline ? `${body}\n` : body;
}

function parseError(secretId: string, line: number, what: string): KeyStoreError {
  // Never quote the line: it may hold a secret.
  return terminal(secretId, 'PARSE_ERROR', `env-file: line ${line} ${what}`);
}

function terminal(secretId: string, reason: string, message: string): KeyStoreError {
  return new KeyStoreError(message, { retryable: false, store: STORE, secretId, reason });
}

function aborted(secretId: string, cause: unknown): KeyStoreError {
  return new KeyStoreError('env-file: the operation was aborted', { retryable: true, store: STORE, secretId, reason: 'ABORTED', cause });
}
