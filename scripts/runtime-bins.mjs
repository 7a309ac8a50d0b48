#!/usr/bin/env node
// Bun, Deno and workerd binaries for the runtime smoke suite (packages/core/test/runtimes) and the
// consumer suite (consumer-tests/), installed on demand. They are ~355 MB, so they are not
// devDependencies: `pnpm install` and the demo never fetch them. The versions are pinned by
// scripts/runtimes/package-lock.json; the first use runs `npm ci --ignore-scripts` from it into a cache
// outside the repository, keyed by the lockfile's hash (a version bump installs a fresh set).
//
//   node scripts/runtime-bins.mjs            installs if needed, prints "bun <path>" etc.
//
// Env: KEYTURN_RUNTIME_CACHE   the cache root (default: $XDG_CACHE_HOME or ~/.cache, + keyturn/runtimes)
//      KEYTURN_RUNTIMES=skip   never install (the suites then skip the runtimes, saying why)
//      KEYTURN_REQUIRE_RUNTIMES=1  a missing runtime is an error, not a skip (CI sets it)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const spec = join(dirname(fileURLToPath(import.meta.url)), 'runtimes');
export const RUNTIMES = /** @type {const} */ (['bun', 'deno', 'workerd']);

function cacheRoot() {
  if (process.env.KEYTURN_RUNTIME_CACHE) return process.env.KEYTURN_RUNTIME_CACHE;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'keyturn', 'runtimes');
}

/** The install directory for the pinned set (it may not exist yet). */
export function runtimeDir() {
  const lock = readFileSync(join(spec, 'package-lock.json'));
  return join(cacheRoot(), createHash('sha256').update(lock).digest('hex').slice(0, 16));
}

/** Each runtime's binary inside a platform package (the wrappers' postinstalls are not run). */
function binaryPath(dir, runtime) {
  const nm = join(dir, 'node_modules');
  const arch = process.arch === 'x64' ? 'x64' : 'arm64';
  if (runtime === 'bun') return join(nm, '@oven', `bun-${process.platform}-${process.arch === 'x64' ? 'x64' : 'aarch64'}`, 'bin', 'bun');
  if (runtime === 'deno') return join(nm, '@deno', `${process.platform}-${arch}${process.platform === 'linux' ? '-glibc' : ''}`, 'deno');
  return join(nm, '@cloudflare', `workerd-${process.platform}-${process.arch === 'x64' ? '64' : 'arm64'}`, 'bin', 'workerd');
}

const isBinary = (p) => {
  try {
    return statSync(p).size > 1_000_000;
  } catch {
    return false;
  }
};

let installError;
/**
 * Installs the pinned set if it is not in the cache yet. Returns the directory, or undefined (with
 * the reason in `installFailure()`) when it cannot be installed here.
 */
export function ensureRuntimes({ log = (l) => console.error(l) } = {}) {
  const dir = runtimeDir();
  if (existsSync(join(dir, '.complete'))) return dir;
  if (installError !== undefined) return undefined;
  if (process.env.KEYTURN_RUNTIMES === 'skip') {
    installError = 'KEYTURN_RUNTIMES=skip';
    return undefined;
  }
  mkdirSync(dirname(dir), { recursive: true });
  const tmp = mkdtempSync(`${dir}.install-`);
  try {
    log(`runtime-bins: installing bun, deno and workerd (scripts/runtimes/package-lock.json) into ${dir} (once, ~355 MB)…`);
    copyFileSync(join(spec, 'package.json'), join(tmp, 'package.json'));
    copyFileSync(join(spec, 'package-lock.json'), join(tmp, 'package-lock.json'));
    const r = spawnSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: tmp,
      encoding: 'utf8',
      env: { ...process.env, npm_config_update_notifier: 'false' },
    });
    if (r.status !== 0) {
      installError = `npm ci in scripts/runtimes failed: ${r.error?.message ?? ''}${r.stdout}${r.stderr}`.trim();
      return undefined;
    }
    copyFileSync(join(spec, 'package.json'), join(tmp, '.complete'));
    try {
      renameSync(tmp, dir);
    } catch (e) {
      if (!existsSync(join(dir, '.complete'))) throw e; // a concurrent install finished first: use it
    }
    return dir;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Why the runtimes are not available, if they are not. */
export const installFailure = () => installError;

/**
 * Path of a runtime binary, installing the set on first use; undefined when it cannot be had here
 * (unless KEYTURN_REQUIRE_RUNTIMES=1, then it throws).
 * @param {'bun' | 'deno' | 'workerd'} runtime
 */
export function runtimeBinary(runtime) {
  const dir = ensureRuntimes();
  const bin = dir && binaryPath(dir, runtime);
  if (bin && isBinary(bin)) return bin;
  const why = dir ? `no ${runtime} binary for ${process.platform}-${process.arch} in ${dir}` : installError;
  if (process.env.KEYTURN_REQUIRE_RUNTIMES === '1')
    throw new Error(`runtime-bins: ${runtime} is required (KEYTURN_REQUIRE_RUNTIMES=1) but unavailable: ${why}`);
  return undefined;
}

/** Why `runtimeBinary(runtime)` returned undefined. */
export function missingReason(runtime) {
  const dir = runtimeDir();
  return existsSync(join(dir, '.complete'))
    ? `no ${runtime} binary for ${process.platform}-${process.arch} in ${dir}`
    : (installError ?? 'not installed');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  let ok = true;
  for (const r of RUNTIMES) {
    const bin = runtimeBinary(r);
    console.log(`${r} ${bin ?? `unavailable: ${missingReason(r)}`}`);
    ok &&= bin !== undefined;
  }
  process.exit(ok ? 0 : 1);
}
