// Node-side driver of the runtime smoke suite: finds the runtime binaries (installed on demand from npm),
// bundles the workerd worker with esbuild, and starts each runtime on 127.0.0.1 (port 0).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { missingReason, runtimeBinary } from '../../../scripts/runtime-bins.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const coreDir = dirname(here);
const require = createRequire(join(coreDir, 'package.json'));

/**
 * Path of a runtime binary, or undefined when it cannot be had on this machine. Node is the one
 * running this process. The others are not devDependencies: scripts/runtime-bins.mjs installs the
 * set pinned by scripts/runtimes/ on first use into a cache outside the repository.
 * @param {'node' | 'bun' | 'deno' | 'workerd'} runtime
 */
export function findBinary(runtime) {
  if (runtime === 'node') return process.execPath;
  return runtimeBinary(runtime);
}

/** Why `findBinary(runtime)` returned undefined. */
export function missingBinaryReason(runtime) {
  return missingReason(runtime);
}

/** Builds dist/ when it is missing or older than src/ (the root `pnpm test` builds first anyway). */
export function ensureBuilt() {
  const marker = join(coreDir, 'dist', 'adapters', 'fetch.js');
  const newest = (dir) => {
    let t = 0;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
    }
    return t;
  };
  const fresh = () => existsSync(marker) && statSync(marker).mtimeMs >= newest(join(coreDir, 'src'));
  if (fresh()) return 'up to date';
  // Test files run in parallel workers: one builds, the others wait for it.
  const lock = join(coreDir, 'node_modules', '.keyturn-build-lock');
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) rmSync(lock, { recursive: true, force: true });
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    if (fresh()) return 'up to date';
    const tsc = require.resolve('typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: coreDir, encoding: 'utf8' });
    if (r.status !== 0) {
      throw new Error(`Building @keyturn/core (tsc -p tsconfig.build.json) failed; the runtime suites need dist/:\n${r.stdout}${r.stderr}`);
    }
    return 'built';
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Bundles the worker (built core + vectors) for workerd, resolving with the conditions wrangler uses. */
export async function buildWorker(outFile) {
  const esbuild = await import(require.resolve('esbuild'));
  const vectorDir = join(coreDir, 'test', 'vectors');
  const files = readdirSync(vectorDir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  const contents = [
    "import * as core from '@keyturn/core';",
    "import * as fetchAdapter from '@keyturn/core/adapters/fetch';",
    "import * as honoAdapter from '@keyturn/core/adapters/hono';",
    "import { Hono } from 'hono';",
    "import * as crypto from '../dist/lib/crypto.js';",
    "import { createApp } from './app.mjs';",
    ...files.map((f, i) => `import v${i} from '../test/vectors/${f}';`),
    `const vectors = { ${files.map((f, i) => `${JSON.stringify(f.slice(0, -5))}: v${i}`).join(', ')} };`,
    'const app = createApp({ core, fetchAdapter, honoAdapter, Hono, crypto, vectors });',
    'export default { fetch: (request) => app(request) };',
  ].join('\n');
  const result = await esbuild.build({
    stdin: { contents, resolveDir: here, sourcefile: 'worker-entry.mjs', loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    target: 'es2022',
    outfile: outFile,
    logLevel: 'silent',
    metafile: true,
  });
  const inputs = Object.keys(result.metafile.inputs);
  return { inputs };
}

function waitForLine(child, pattern, label, timeoutMs) {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${label} did not start within ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const onData = (d) => {
      out += d;
      const m = pattern.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (d) => (out += d));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${label} exited with ${code} before listening:\n${out}`));
    });
  });
}

function stopper(child, cleanup) {
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    cleanup?.();
  };
}

/**
 * Starts one runtime serving the smoke app. Resolves to its base URL and a stop function.
 * @param {'node' | 'bun' | 'deno' | 'workerd'} runtime
 */
export async function startRuntime(runtime, { timeoutMs = 20_000 } = {}) {
  const bin = findBinary(runtime);
  if (bin === undefined) throw new Error(`No ${runtime} binary: ${missingReason(runtime)}`);
  const env = { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1', DENO_NO_PROMPT: '1' };
  if (runtime === 'node' || runtime === 'bun' || runtime === 'deno') {
    const args =
      runtime === 'node'
        ? [join(here, 'node.mjs')]
        : runtime === 'bun'
          ? ['run', join(here, 'bun.mjs')]
          : ['run', '--quiet', '--no-lock', '--allow-net=127.0.0.1', `--allow-read=${coreDir}`, '--allow-env', join(here, 'deno.mjs')];
    const child = spawn(bin, args, { cwd: here, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const stop = stopper(child);
    try {
      const m = await waitForLine(child, /LISTENING (\d+)/, runtime, timeoutMs);
      return { url: `http://127.0.0.1:${m[1]}`, stop, bin };
    } catch (e) {
      await stop();
      throw e;
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'keyturn-workerd-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  let build;
  try {
    build = await buildWorker(join(dir, 'worker.js'));
    writeFileSync(
      join(dir, 'config.capnp'),
      [
        'using Workerd = import "/workerd/workerd.capnp";',
        'const config :Workerd.Config = (',
        '  services = [ (name = "main", worker = .worker) ],',
        '  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],',
        ');',
        'const worker :Workerd.Worker = (',
        '  modules = [ (name = "worker.js", esModule = embed "worker.js") ],',
        '  compatibilityDate = "2025-09-01",',
        ');',
        '',
      ].join('\n'),
    );
  } catch (e) {
    cleanup();
    throw e;
  }
  const child = spawn(bin, ['serve', join(dir, 'config.capnp'), '--control-fd=3'], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  const stop = stopper(child, cleanup);
  try {
    const control = child.stdio[3];
    const port = await new Promise((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(() => reject(new Error(`workerd did not report its port within ${timeoutMs} ms`)), timeoutMs);
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`workerd exited with ${code}:\n${err}`));
      });
      control.on('data', (d) => {
        buf += d;
        for (const line of buf.split('\n')) {
          try {
            const msg = JSON.parse(line);
            if (msg.event === 'listen' && msg.socket === 'http') {
              clearTimeout(timer);
              resolve(msg.port);
            }
          } catch {
            // partial line
          }
        }
      });
    });
    return { url: `http://127.0.0.1:${port}`, stop, bin, bundled: build.inputs };
  } catch (e) {
    await stop();
    throw e;
  }
}
