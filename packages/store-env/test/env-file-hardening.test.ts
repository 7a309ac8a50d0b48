/**
 * env-file store under hostile conditions: symbolic links, bytes that are not UTF-8, locks left by
 * killed writers, racing lock takeovers, loose file modes, and previous keys without a window end.
 */
import { spawn } from 'node:child_process';
import { chmod, lstat, mkdtemp, readFile, readdir, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireFileLock, LockBusyError } from '../src/file/atomic.ts';
import { envFileKeyStore, type EnvFileWarning } from '../src/file/index.ts';

const signal = new AbortController().signal;
const T0 = Date.parse('2026-11-24T12:00:00Z');

async function dir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'keyturn-envfile-hard-'));
}

/** A real process that takes the lock the way a writer does and then hangs until killed. */
async function lockHolder(lockPath: string): Promise<{ pid: number; kill: () => Promise<void> }> {
  const script = `
    const fs = require('node:fs'); const os = require('node:os');
    fs.writeFileSync(${JSON.stringify(lockPath)}, JSON.stringify({ pid: process.pid, host: os.hostname(), nonce: 'held-' + process.pid, at: Date.now() }) + '\\n', { flag: 'wx', mode: 0o600 });
    process.stdout.write('locked');
    setInterval(() => {}, 1 << 30);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
  return {
    pid: child.pid as number,
    kill: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

describe('envFileKeyStore: symbolic links', () => {
  it('rotating through a symlink rewrites the target and leaves the link a link', async () => {
    const d = await dir();
    const target = join(d, 'real.env');
    const link = join(d, 'app.env');
    await writeFile(target, 'HOOK=old-secret\n', { mode: 0o600 });
    await symlink('real.env', link);
    const store = envFileKeyStore({ path: link, now: () => T0 });
    const result = await store.rotate('HOOK', 'new-secret', { previousGraceMs: 60_000 });
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toBe('real.env');
    expect(await readFile(target, 'utf8')).toBe(
      'HOOK=new-secret\nHOOK_PREVIOUS=old-secret\nHOOK_PREVIOUS_NOT_AFTER=2026-11-24T12:01:00.000Z\n',
    );
    expect((await stat(target)).mode & 0o777).toBe(0o600);
    expect((await readdir(d)).sort()).toEqual(['app.env', 'real.env']); // no temp or lock files left
    expect((await store.getVersions('HOOK', { signal })).map((v) => v.id)).toEqual([result.activeId, result.previousId]);
    await store.retirePrevious('HOOK');
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readFile(target, 'utf8')).toBe('HOOK=new-secret\n');
  });

  it('a symlink to a missing file is refused (terminal), nothing is created', async () => {
    const d = await dir();
    await symlink('nowhere.env', join(d, 'app.env'));
    const err = await envFileKeyStore({ path: join(d, 'app.env') })
      .rotate('HOOK', 'x')
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'NOT_FOUND', retryable: false });
    expect((err as Error).message).toContain('symbolic link');
    expect((await readdir(d)).sort()).toEqual(['app.env']);
  });
});

describe('envFileKeyStore: bytes that are not UTF-8', () => {
  it('every other line is kept byte for byte: Latin-1, a BOM, CRLF endings, no final newline', async () => {
    const d = await dir();
    const path = join(d, 'app.env');
    const latin1 = Buffer.from('# caf\xe9 cr\xe8me\r\nGREETING=gr\xfc\xdf\r\n', 'latin1');
    const original = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), latin1, Buffer.from('HOOK=old\r\nLAST=\xff', 'latin1')]);
    await writeFile(path, original, { mode: 0o600 });
    const store = envFileKeyStore({ path, now: () => T0 });
    await store.rotate('HOOK', 'new', { previousGraceMs: 1_000 });
    const written = await readFile(path);
    const expected = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      latin1,
      Buffer.from('HOOK=new\r\nHOOK_PREVIOUS=old\r\nHOOK_PREVIOUS_NOT_AFTER=2026-11-24T12:00:01.000Z\r\nLAST=\xff', 'latin1'),
    ]);
    expect(written.toString('hex')).toBe(expected.toString('hex'));
    expect(written.includes(Buffer.from('\ufffd'))).toBe(false);
  });

  it('added lines follow the file: CRLF endings, and a file without a final newline keeps none', async () => {
    const d = await dir();
    const path = join(d, 'app.env');
    await writeFile(path, 'A=1\r\nB=2', { mode: 0o600 });
    await envFileKeyStore({ path }).rotate('HOOK', 'v1');
    expect(await readFile(path, 'utf8')).toBe('A=1\r\nB=2\r\nHOOK=v1');
    await writeFile(path, 'A=1\r\nB=2\n', { mode: 0o600 }); // mixed: the last line ending wins
    await envFileKeyStore({ path }).rotate('HOOK', 'v1');
    expect(await readFile(path, 'utf8')).toBe('A=1\r\nB=2\nHOOK=v1\n');
  });

  it('a current value holding a newline (from "a\\nb") is demoted with escapes, so the file still reads back', async () => {
    const d = await dir();
    const path = join(d, 'app.env');
    await writeFile(path, 'HOOK="line-one\\nline\ttwo \'q\'"\n', { mode: 0o600 });
    const store = envFileKeyStore({ path });
    const [before] = await store.getVersions('HOOK', { signal });
    expect(before?.secret).toBe("line-one\nline\ttwo 'q'");
    await store.rotate('HOOK', 'next-secret');
    expect(await readFile(path, 'utf8')).toBe('HOOK=next-secret\nHOOK_PREVIOUS="line-one\\nline\\ttwo \'q\'"\n');
    expect((await store.getVersions('HOOK', { signal })).map((v) => v.secret)).toEqual(['next-secret', "line-one\nline\ttwo 'q'"]);
  });

  it('a value that cannot be written on one line (U+2028) is refused before the file is touched', async () => {
    const d = await dir();
    const path = join(d, 'app.env');
    await writeFile(path, 'HOOK=old\n', { mode: 0o600 });
    const err = await envFileKeyStore({ path })
      .rotate('HOOK', 'a\u2028b')
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'INVALID_FORMAT', retryable: false });
    expect((err as Error).message).not.toContain('a\u2028b');
    expect(await readFile(path, 'utf8')).toBe('HOOK=old\n');
  });

  it('a line of the secret itself that is not UTF-8 is refused, never read with U+FFFD', async () => {
    const d = await dir();
    const path = join(d, 'app.env');
    await writeFile(path, Buffer.from('OTHER=1\nHOOK=s\xe9cret\n', 'latin1'), { mode: 0o600 });
    const store = envFileKeyStore({ path });
    const read = await store.getVersions('HOOK', { signal }).catch((e: unknown) => e);
    expect(read).toMatchObject({ reason: 'INVALID_FORMAT', retryable: false });
    expect((read as Error).message).toContain('line 2 (HOOK) is not valid UTF-8');
    await expect(store.rotate('HOOK', 'new')).rejects.toMatchObject({ reason: 'INVALID_FORMAT' });
    expect(await readFile(path, 'latin1')).toBe('OTHER=1\nHOOK=s\xe9cret\n');
    // Another secret in the same file is unaffected.
    await writeFile(path, Buffer.from('OTHER=ok\nHOOK=s\xe9cret\n', 'latin1'));
    expect((await store.getVersions('OTHER', { signal })).map((v) => v.secret)).toEqual(['ok']);
  });
});

describe('envFileKeyStore: the lock', () => {
  it('a lock left by a killed writer is taken over at once (its PID is dead), not after 60 s', async () => {
    const d = await dir();
    const path = join(d, 'app.env');
    await writeFile(path, 'HOOK=old\n', { mode: 0o600 });
    const holder = await lockHolder(`${path}.lock`);
    const store = envFileKeyStore({ path, lockTimeoutMs: 0 });
    // While the writer lives, its lock holds.
    const busy = await store.rotate('HOOK', 'new').catch((e: unknown) => e);
    expect(busy).toMatchObject({ code: 'LOCKED', retryable: true });
    expect((busy as Error).message).toContain(`process ${holder.pid} on ${hostname()}`);
    await holder.kill();
    const result = await store.rotate('HOOK', 'new');
    expect(result.activeId).toMatch(/^HOOK@/);
    expect(await readFile(path, 'utf8')).toBe('HOOK=new\nHOOK_PREVIOUS=old\n');
    expect((await readdir(d)).sort()).toEqual(['app.env']);
  });

  it('two writers that both saw the stale lock: only one takes it over (atomic rename, never unlink + create)', async () => {
    const d = await dir();
    const lockPath = join(d, 'app.env.lock');
    // A lock of a dead process on this host.
    await writeFile(lockPath, `${JSON.stringify({ pid: 999_999, host: hostname(), nonce: 'stale', at: Date.now() })}\n`);
    const isAlive = (pid: number): boolean => pid !== 999_999;
    let resume!: () => void;
    const paused = new Promise<void>((r) => (resume = r));
    let judged!: () => void;
    const judgedStale = new Promise<void>((r) => (judged = r));
    // Writer A judges the lock stale, then stalls right before acting on it.
    const a = acquireFileLock(lockPath, {
      timeoutMs: 0,
      staleLockMs: 60_000,
      isAlive,
      beforeTakeover: async () => {
        judged();
        await paused;
      },
    });
    await judgedStale;
    // Writer B takes the stale lock over and holds it.
    const b = await acquireFileLock(lockPath, { timeoutMs: 0, staleLockMs: 60_000, isAlive });
    resume();
    // A must not remove B's fresh lock: it finds the lock replaced and gives up (timeout 0).
    await expect(a).rejects.toBeInstanceOf(LockBusyError);
    expect(JSON.parse(await readFile(lockPath, 'utf8'))).toMatchObject({ nonce: b.owner.nonce, pid: process.pid });
    await b.release();
    expect(await readdir(d)).toEqual([]);
  });

  it('many concurrent writers on a stale lock: every rotation is serialised (each demotes a different key)', async () => {
    const d = await dir();
    const path = join(d, 'app.env');
    await writeFile(path, 'HOOK=s0\n', { mode: 0o600 });
    const holder = await lockHolder(`${path}.lock`);
    await holder.kill();
    const secrets = ['s1', 's2', 's3', 's4', 's5', 's6'];
    const results = await Promise.all(secrets.map((s) => envFileKeyStore({ path, lockTimeoutMs: 10_000 }).rotate('HOOK', s)));
    // Serialised rotations form one chain: s0 and five of the new secrets are each demoted exactly once.
    const demoted = results.map((r) => r.previousId);
    expect(new Set(demoted).size).toBe(secrets.length);
    expect((await readdir(d)).sort()).toEqual(['app.env']);
  });
});

describe('envFileKeyStore: file permissions', () => {
  it('warns (once per file and mode) when group or others can read the file; the rotate result says it too', async () => {
    const d = await dir();
    const path = join(d, 'app.env');
    await writeFile(path, 'HOOK=old\n', { mode: 0o644 });
    await chmod(path, 0o644);
    const warnings: EnvFileWarning[] = [];
    const store = envFileKeyStore({ path, onWarning: (w) => warnings.push(w) });
    await store.getVersions('HOOK', { signal });
    await store.getVersions('HOOK', { signal });
    expect(warnings).toEqual([{ code: 'ENV_FILE_PERMISSIONS', path, mode: 0o644, message: expect.stringContaining(`chmod 600 ${path}`) }]);
    expect(warnings[0]!.message).toContain('mode 0644 lets group and others access it');
    const result = await store.rotate('HOOK', 'new', { previousGraceMs: 1_000 });
    expect(result.warnings).toEqual([expect.stringContaining('mode 0644')]);
    await chmod(path, 0o600);
    const quiet = envFileKeyStore({ path, onWarning: (w) => warnings.push(w) });
    await quiet.getVersions('HOOK', { signal });
    expect(warnings).toHaveLength(1);
    expect((await quiet.rotate('HOOK', 'newer', { previousGraceMs: 1_000 })).warnings).toEqual([]);
  });

  it('by default the warning is a process warning (KeyturnWarning), and never carries the secret', async () => {
    const d = await dir();
    const path = join(d, 'app.env');
    await writeFile(path, 'HOOK=topsecret-value\n', { mode: 0o640 });
    await chmod(path, 0o640);
    const seen = new Promise<Error & { code?: string }>((resolve) => process.once('warning', resolve));
    await envFileKeyStore({ path }).getVersions('HOOK', { signal });
    const warning = await seen;
    expect(warning).toMatchObject({ name: 'KeyturnWarning', code: 'KEYTURN_ENV_FILE_PERMISSIONS' });
    expect(warning.message).toContain('lets group access it');
    expect(warning.message).not.toContain('topsecret');
  });
});

describe('envFileKeyStore: a previous key without a window end is never silent', () => {
  it('rotate() without previousGraceMs: previousUnbounded and a warning; with one: neither', async () => {
    const d = await dir();
    const path = join(d, 'app.env');
    await writeFile(path, 'HOOK=one\n', { mode: 0o600 });
    const store = envFileKeyStore({ path, now: () => T0 });
    const open = await store.rotate('HOOK', 'two');
    expect(open).toMatchObject({ previousNotAfter: undefined, previousUnbounded: true });
    expect(open.warnings).toEqual([expect.stringContaining('HOOK_PREVIOUS) has no window end (no HOOK_PREVIOUS_NOT_AFTER)')]);
    const bounded = await store.rotate('HOOK', 'three', { previousGraceMs: 60_000 });
    expect(bounded).toMatchObject({ previousNotAfter: T0 + 60_000, previousUnbounded: false, warnings: [] });
  });
});
