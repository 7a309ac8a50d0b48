/**
 * Atomic writes and the lock of the env-file store: {@link writeFileAtomic} (temp file, `fsync`,
 * `rename`) and the lock file that serialises writers of one env file (`<file>.lock`).
 *
 * - Taken with an exclusive create (`open(…, 'wx')`); its content names the holder:
 *   `{ pid, host, nonce, at }`.
 * - A lock whose holder is gone is taken over at once: on the same host a dead PID means gone;
 *   otherwise (another host, an unreadable lock, a live PID) it is gone after `staleLockMs`.
 * - A takeover never removes the lock file (an unlink followed by a create lets a third writer in
 *   between, and lets two writers who both saw the stale lock remove each other's fresh one). Instead
 *   one writer wins the right to replace *that* stale lock by creating `<file>.lock.takeover-<nonce>`
 *   exclusively, checks the lock still carries that nonce, and atomically renames its own lock file
 *   over it. Every other writer either fails to create the marker or finds a new nonce, and waits.
 * - Release removes the lock only while it is still ours.
 *
 * @internal
 * @module
 */
import { randomBytes } from 'node:crypto';
import { chmod, open, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { hostname } from 'node:os';

/** Who holds a lock, as written in the lock file. */
export interface LockOwner {
  /** Process id of the holder. */
  readonly pid: number;
  /** Host name of the holder (a PID is only meaningful on its own host). */
  readonly host: string;
  /** Random id of this lock instance. */
  readonly nonce: string;
  /** Epoch ms the lock was taken. */
  readonly at: number;
}

/** Options of {@link acquireFileLock}. */
export interface FileLockOptions {
  /** Give up after this long, in ms (then `LockBusyError`). */
  readonly timeoutMs: number;
  /** A lock older than this is stale even if its holder looks alive, in ms. */
  readonly staleLockMs: number;
  /** Aborts the wait. */
  readonly signal?: AbortSignal | undefined;
  /** @internal Test hook: runs after a lock was judged stale, before the takeover starts. */
  readonly beforeTakeover?: (() => Promise<void>) | undefined;
  /** @internal Process liveness check. @default process.kill(pid, 0) */
  readonly isAlive?: ((pid: number) => boolean) | undefined;
}

/** A lock held by this process. */
export interface HeldLock {
  /** The lock file. */
  readonly path: string;
  /** What it says about us. */
  readonly owner: LockOwner;
  /** Removes the lock if it is still ours. */
  release(): Promise<void>;
}

/** The lock stayed busy until the timeout. */
export class LockBusyError extends Error {
  constructor(readonly holder: LockOwner | undefined) {
    super('the lock is held by another writer');
    this.name = 'LockBusyError';
  }
}

/** The wait was aborted. */
export class LockAbortedError extends Error {
  constructor(readonly reason: unknown) {
    super('the wait for the lock was aborted');
    this.name = 'LockAbortedError';
  }
}

// Read on first use, not at import: importing @keyturn/store-env must not need Deno's --allow-sys.
let host: string | undefined;
const HOST = (): string => (host ??= hostname());

function defaultIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as { code?: string }).code === 'EPERM';
  }
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (
      typeof o.pid === 'number' &&
      Number.isInteger(o.pid) &&
      o.pid > 0 &&
      typeof o.host === 'string' &&
      typeof o.nonce === 'string' &&
      typeof o.at === 'number'
    ) {
      return { pid: o.pid, host: o.host, nonce: o.nonce, at: o.at };
    }
  } catch {
    // not ours, or being written right now
  }
  return undefined;
}

async function readOwner(path: string): Promise<{ owner: LockOwner | undefined; mtimeMs: number } | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    return { owner: parseOwner(text), mtimeMs: info.mtimeMs };
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Writes `owner` to a new file next to `lockPath` (fsynced), for an exclusive create or a rename. */
async function writeOwnerFile(path: string, owner: LockOwner, flag: 'wx'): Promise<void> {
  const handle = await open(path, flag, 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(owner)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Takes the lock at `lockPath`. Rejects with `LockBusyError` after `timeoutMs`, `LockAbortedError`
 * on abort, or the file-system error when the lock cannot be created at all (EACCES, ENOENT, ...).
 */
export async function acquireFileLock(lockPath: string, options: FileLockOptions): Promise<HeldLock> {
  const isAlive = options.isAlive ?? defaultIsAlive;
  const deadline = Date.now() + options.timeoutMs;
  const owner: LockOwner = { pid: process.pid, host: HOST(), nonce: randomBytes(12).toString('hex'), at: Date.now() };
  const held: HeldLock = {
    path: lockPath,
    owner,
    async release() {
      const current = await readOwner(lockPath).catch(() => undefined);
      if (current?.owner?.nonce === owner.nonce) await unlink(lockPath).catch(() => undefined);
    },
  };
  let lastHolder: LockOwner | undefined;
  for (;;) {
    if (options.signal?.aborted) throw new LockAbortedError(options.signal.reason);
    try {
      await writeOwnerFile(lockPath, owner, 'wx');
      return held;
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
    }
    const seen = await readOwner(lockPath);
    if (seen === undefined) continue; // released in between: try again at once
    lastHolder = seen.owner;
    if (isStale(seen, options.staleLockMs, isAlive) && seen.owner !== undefined) {
      await options.beforeTakeover?.();
      if (await takeOver(lockPath, seen.owner, owner, options.staleLockMs, isAlive)) return held;
      continue; // someone else took it over first: look again
    }
    if (seen.owner === undefined && Date.now() - seen.mtimeMs > options.staleLockMs) {
      // Not a lock we can read (a crash mid-write long ago, or a foreign file): old enough to replace.
      await options.beforeTakeover?.();
      if (await takeOverUnreadable(lockPath, seen.mtimeMs, owner)) return held;
      continue;
    }
    if (Date.now() >= deadline) throw new LockBusyError(lastHolder);
    await new Promise((r) => setTimeout(r, 25 + Math.random() * 50));
  }
}

function isStale(seen: { owner: LockOwner | undefined; mtimeMs: number }, staleLockMs: number, isAlive: (pid: number) => boolean): boolean {
  if (seen.owner === undefined) return false;
  if (seen.owner.host === HOST() && seen.owner.pid !== process.pid && !isAlive(seen.owner.pid)) return true; // its writer is dead
  return Date.now() - Math.max(seen.owner.at, seen.mtimeMs) > staleLockMs;
}

/**
 * Replaces the stale lock `stale` by ours, unless another writer replaced it first. The marker file
 * `<lock>.takeover-<stale nonce>` decides who may replace that lock instance; the lock file itself is
 * swapped by a rename, so it never disappears in between.
 */
async function takeOver(
  lockPath: string,
  stale: LockOwner,
  owner: LockOwner,
  staleLockMs: number,
  isAlive: (pid: number) => boolean,
): Promise<boolean> {
  const marker = `${lockPath}.takeover-${stale.nonce}`;
  try {
    await writeOwnerFile(marker, owner, 'wx');
  } catch (err) {
    if ((err as { code?: string }).code !== 'EEXIST') throw err;
    // Another writer is taking this lock over right now — or died doing so: then clear its marker.
    const other = await readOwner(marker);
    if (other !== undefined && isStale(other, staleLockMs, isAlive)) await rm(marker, { force: true });
    return false;
  }
  const tmp = `${lockPath}.${owner.nonce}.tmp`;
  try {
    const now = await readOwner(lockPath);
    if (now?.owner?.nonce !== stale.nonce) return false; // replaced (or released) since we looked
    await writeOwnerFile(tmp, owner, 'wx');
    await rename(tmp, lockPath);
    return true;
  } finally {
    await rm(tmp, { force: true }).catch(() => undefined);
    await unlink(marker).catch(() => undefined);
  }
}

/** Replaces an unreadable lock file that has not changed since `mtimeMs` (same marker protocol, keyed by its mtime). */
async function takeOverUnreadable(lockPath: string, mtimeMs: number, owner: LockOwner): Promise<boolean> {
  const marker = `${lockPath}.takeover-m${Math.round(mtimeMs)}`;
  try {
    await writeOwnerFile(marker, owner, 'wx');
  } catch (err) {
    if ((err as { code?: string }).code !== 'EEXIST') throw err;
    const info = await stat(marker).catch(() => undefined);
    if (info !== undefined && Date.now() - info.mtimeMs > 60_000) await rm(marker, { force: true });
    return false;
  }
  const tmp = `${lockPath}.${owner.nonce}.tmp`;
  try {
    const now = await readOwner(lockPath);
    if (now === undefined || now.owner !== undefined || now.mtimeMs !== mtimeMs) return false;
    await writeOwnerFile(tmp, owner, 'wx');
    await rename(tmp, lockPath);
    return true;
  } finally {
    await rm(tmp, { force: true }).catch(() => undefined);
    await unlink(marker).catch(() => undefined);
  }
}

/**
 * Replaces `file` atomically: a temporary file in the same directory (the file's mode, 0600 for a new
 * file), `fsync`, `rename` over it, then an `fsync` of the directory (best effort). A failure leaves the
 * old file as it was and no temporary file behind; it is thrown as Node's own error.
 */
export async function writeFileAtomic(file: string, bytes: Uint8Array): Promise<void> {
  const mode = await stat(file).then(
    (s) => s.mode & 0o777,
    () => 0o600,
  );
  const dir = dirname(file);
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(tmp, 'wx', mode);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await chmod(tmp, mode);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  // Make the rename durable (best effort: not every platform can open a directory).
  const dirHandle = await open(dir, 'r').catch(() => undefined);
  if (dirHandle !== undefined) {
    await dirHandle.sync().catch(() => undefined);
    await dirHandle.close();
  }
}
