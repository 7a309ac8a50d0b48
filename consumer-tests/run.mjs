#!/usr/bin/env node
// The consumer suite: the packed tarballs (`pnpm release --dry-run` → .release/) installed with npm
// into fresh projects outside the workspace, as a new user would, then used from every kind of
// consumer. Each check verifies a real signed request or type-checks the published declarations.
//
//   node consumer-tests/run.mjs [--tarballs .release] [--only esm,cjs,all,runtimes] [--keep]
//
// Projects (fixtures/ copied into a temporary directory, npm install --prefer-offline):
//   esm  "type": "module": @keyturn/core + @keyturn/store-env; TypeScript strict +
//        exactOptionalPropertyTypes + skipLibCheck false under node16, nodenext, bundler and a
//        `customConditions: ["source"]` config, with the newest TypeScript and the oldest the README
//        claims; the node16 build is run on Node (this one, the floor, 26), an esbuild bundle of the
//        bundler build too; the same packages from Bun, Deno, and a workerd bundle.
//   cjs  "type": "commonjs": plain require() on Node (this one, the floor, 26); TypeScript compiling
//        to CommonJS under nodenext (newest, and the oldest that allows require of ESM: 5.8), run;
//        module node16 must fail with the documented TS1479.
//   all  every tarball and its peers; a file importing every export of every package, type-checked
//        under node16 and bundler with the newest and the oldest TypeScript (errors inside other
//        packages' declarations, e.g. fastify's for TypeScript < 5.4, are those packages' floors and
//        are reported, not failed).
//
// Env: KEYTURN_REPORT_DIR  writes consumers.json there (counts in vitest's JSON shape, for .ci/summary.mjs)
import { spawn, spawnSync } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNode } from '../scripts/node-bin.mjs';
import { runtimeBinary, missingReason } from '../scripts/runtime-bins.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const tarballDir = resolve(root, opt('--tarballs', '.release'));
const only = opt('--only', 'esm,cjs,all,runtimes').split(',');
const keep = args.includes('--keep');

// Tool versions. TypeScript: the newest release, the oldest the README claims for the
// declarations, and the oldest that type-checks require() of ESM under nodenext.
const TS_NEWEST = '7.0.2';
const TS_OLDEST = '5.1.6';
const TS_CJS_OLDEST = '5.8.3';
const ESBUILD = '0.28.2';
const TYPES_NODE = '^22.13.0';
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const FLOOR = /^>=\s*([\d.]+)$/.exec(rootPkg.engines.node)[1].split('.').concat('0', '0').slice(0, 3).join('.');

// ---- tarballs ----
if (!existsSync(tarballDir) || !readdirSync(tarballDir).some((f) => f.endsWith('.tgz'))) {
  console.log(`consumers: no tarballs in ${tarballDir}; packing them (scripts/release.mjs --dry-run)…`);
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'release.mjs'), '--dry-run', '--out', tarballDir], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) process.exit(1);
}
const tarballs = Object.fromEntries(
  readdirSync(tarballDir)
    .filter((f) => f.endsWith('.tgz'))
    .map((f) => {
      const r = spawnSync('tar', ['-xzOf', join(tarballDir, f), 'package/package.json'], { encoding: 'utf8' });
      return [JSON.parse(r.stdout).name, join(tarballDir, f)];
    }),
);
for (const need of ['@keyturn/core', '@keyturn/store-env'])
  if (!tarballs[need]) throw new Error(`consumers: no tarball for ${need} in ${tarballDir}`);

// ---- helpers ----
const work = mkdtempSync(join(tmpdir(), 'keyturn-consumers-'));
const results = [];
const started = Date.now();

/** Runs a command; resolves to { code, out }. */
function exec(cmd, argv, { cwd, env = {}, timeoutMs = 300_000 } = {}) {
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, argv, {
      cwd,
      env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1', npm_config_update_notifier: 'false', ...env },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => {
      out += `\n[timed out after ${timeoutMs} ms]`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolvePromise({ code: 127, out: `${out}${e.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? 1, out });
    });
  });
}

/** Records one check. `fn` returns { ok, detail?, out? }. */
async function check(name, fn) {
  const t = Date.now();
  let r;
  try {
    r = await fn();
  } catch (e) {
    r = { ok: false, out: String(e?.stack ?? e) };
  }
  const secs = ((Date.now() - t) / 1000).toFixed(1);
  results.push({ name, ok: r.ok, secs, detail: r.detail ?? '' });
  console.log(`consumers: ${r.ok ? 'ok    ' : 'FAILED'} ${name} (${secs}s)${r.detail ? `  ${r.detail}` : ''}`);
  if (!r.ok && r.out)
    console.log(
      r.out
        .trim()
        .split('\n')
        .slice(-40)
        .map((l) => `    | ${l}`)
        .join('\n'),
    );
}

/** A command that must exit 0 and (optionally) print a line starting with OK. */
const succeeds =
  (cmd, argv, opts = {}) =>
  async () => {
    const r = await exec(cmd, argv, opts);
    const okLine = r.out.split('\n').find((l) => l.startsWith('OK '));
    const ok = r.code === 0 && (!opts.expectOk || okLine !== undefined);
    return { ok, detail: okLine?.slice(3) ?? '', out: r.out };
  };

/** Copies a fixture and writes its package.json with these dependencies. */
function project(name, type, dependencies) {
  const dir = join(work, name);
  cpSync(join(here, 'fixtures', name), dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: `keyturn-consumer-${name}`, private: true, type, dependencies }, null, 2)}\n`,
  );
  return dir;
}
const file = (p) => `file:${p}`;
const npmInstall = (dir) =>
  exec('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd: dir, timeoutMs: 600_000 });
const tsc = (dir, alias, config, extra = []) =>
  exec(process.execPath, [join(dir, 'node_modules', alias, 'bin', 'tsc'), '-p', config, ...extra], { cwd: dir });
/** TypeScript errors, split into keyturn's (or the consumer's own) and other packages'. */
function tsErrors(out) {
  const errors = out.split('\n').filter((l) => /error TS\d+/.test(l));
  const foreign = errors.filter((l) => /node_modules\//.test(l) && !/node_modules\/@keyturn\//.test(l));
  return { ours: errors.filter((l) => !foreign.includes(l)), foreign };
}

const nodes = {};
const nodeFor = (spec) => (nodes[spec] ??= ensureNode(spec, { log: (l) => console.log(l) }));

// ---- install ----
const esmDir =
  only.includes('esm') || only.includes('runtimes')
    ? project('esm', 'module', {
        '@keyturn/core': file(tarballs['@keyturn/core']),
        '@keyturn/store-env': file(tarballs['@keyturn/store-env']),
        '@types/node': TYPES_NODE,
        esbuild: ESBUILD,
        typescript: TS_NEWEST,
        'typescript-oldest': `npm:typescript@${TS_OLDEST}`,
      })
    : undefined;
const cjsDir = only.includes('cjs')
  ? project('cjs', 'commonjs', {
      '@keyturn/core': file(tarballs['@keyturn/core']),
      '@keyturn/store-env': file(tarballs['@keyturn/store-env']),
      '@types/node': TYPES_NODE,
      typescript: TS_NEWEST,
      'typescript-cjs-oldest': `npm:typescript@${TS_CJS_OLDEST}`,
    })
  : undefined;
let allDir;
if (only.includes('all')) {
  // Every tarball, every peer they declare (optional ones too: their declaration files import them)
  // at the declared range, and the type packages of the frameworks whose types the adapters use.
  const peers = {};
  for (const tgz of Object.values(tarballs)) {
    const r = spawnSync('tar', ['-xzOf', tgz, 'package/package.json'], { encoding: 'utf8' });
    for (const [name, range] of Object.entries(JSON.parse(r.stdout).peerDependencies ?? {}))
      if (!name.startsWith('@keyturn/')) peers[name] ??= range;
  }
  allDir = project('all', 'module', {
    ...Object.fromEntries(Object.entries(tarballs).map(([n, p]) => [n, file(p)])),
    ...peers,
    '@types/node': TYPES_NODE,
    '@types/express': '^5.0.0',
    express: '^5.0.0',
    typescript: TS_NEWEST,
    'typescript-oldest': `npm:typescript@${TS_OLDEST}`,
  });
}
const installs = await Promise.all(
  [esmDir, cjsDir, allDir].filter(Boolean).map(async (dir) => {
    const t = Date.now();
    return { dir, ...(await npmInstall(dir)), secs: ((Date.now() - t) / 1000).toFixed(1) };
  }),
);
for (const i of installs)
  await check(`npm install (${i.dir.slice(work.length + 1)}, the tarballs as a user installs them)`, async () => ({
    ok: i.code === 0,
    out: i.out,
    detail: `${i.secs}s, in parallel`,
  }));
const installed = (dir) => installs.find((i) => i.dir === dir)?.code === 0;

// ---- esm ----
if (esmDir && installed(esmDir) && only.includes('esm')) {
  for (const [alias, version] of [
    ['typescript', TS_NEWEST],
    ['typescript-oldest', TS_OLDEST],
  ]) {
    for (const config of ['node16', 'nodenext', 'bundler', 'source-condition']) {
      await check(`esm: tsc ${version} ${config} (strict, exactOptionalPropertyTypes, skipLibCheck false)`, async () => {
        const emit = alias === 'typescript' && config === 'node16';
        const r = await tsc(esmDir, alias, `tsconfig.${config}.json`, emit ? [] : ['--noEmit']);
        return { ok: r.code === 0, out: r.out };
      });
    }
  }
  const built = join(esmDir, 'out-node16', 'verify.js');
  for (const spec of [null, FLOOR, '26']) {
    const node = spec === null ? { bin: process.execPath, version: process.version } : nodeFor(spec);
    await check(
      `esm: node ${node.version} runs the node16 build: signed requests through the node adapter`,
      succeeds(node.bin, [built], { cwd: esmDir, expectOk: true }),
    );
  }
  await check('esm: esbuild bundle (bundler resolution, platform node) verifies signed requests', async () => {
    const b = await exec(
      join(esmDir, 'node_modules', '.bin', 'esbuild'),
      ['src/verify.ts', '--bundle', '--platform=node', '--format=esm', '--outfile=out-bundle/verify.mjs', '--log-level=warning'],
      { cwd: esmDir },
    );
    if (b.code !== 0) return { ok: false, out: b.out };
    return succeeds(process.execPath, ['out-bundle/verify.mjs'], { cwd: esmDir, expectOk: true })();
  });
}

// ---- cjs ----
if (cjsDir && installed(cjsDir)) {
  for (const spec of [null, FLOOR, '26']) {
    const node = spec === null ? { bin: process.execPath, version: process.version } : nodeFor(spec);
    await check(`cjs: require() on node ${node.version} (no warning) verifies signed requests`, async () => {
      const r = await succeeds(node.bin, ['verify.cjs'], { cwd: cjsDir, expectOk: true })();
      const warned = /ExperimentalWarning|Warning:/.test(r.out ?? '');
      return { ...r, ok: r.ok && !warned, detail: warned ? `printed a warning: ${r.detail}` : r.detail };
    });
  }
  await check(`cjs: TypeScript ${TS_NEWEST} nodenext → CommonJS, compiled and run`, async () => {
    const r = await tsc(cjsDir, 'typescript', 'tsconfig.json');
    if (r.code !== 0) return { ok: false, out: r.out };
    return succeeds(process.execPath, ['out/verify.js'], { cwd: cjsDir, expectOk: true })();
  });
  await check(`cjs: TypeScript ${TS_CJS_OLDEST} nodenext → CommonJS type-checks`, async () => {
    const r = await tsc(cjsDir, 'typescript-cjs-oldest', 'tsconfig.json', ['--noEmit']);
    return { ok: r.code === 0, out: r.out };
  });
  await check('cjs: module node16 fails with TS1479 (unsupported, as the README says)', async () => {
    const r = await tsc(cjsDir, 'typescript', 'tsconfig.node16.json');
    return { ok: r.code !== 0 && /TS1479/.test(r.out), out: r.out, detail: r.code === 0 ? 'unexpectedly compiled' : 'TS1479' };
  });
  await check(
    `cjs: module commonjs + moduleResolution node10 (TypeScript ${TS_CJS_OLDEST}) fails with TS2307 pointing at nodenext/bundler`,
    async () => {
      const r = await tsc(cjsDir, 'typescript-cjs-oldest', 'tsconfig.node10.json');
      return {
        ok: r.code !== 0 && /TS2307/.test(r.out) && /Consider updating to 'node16', 'nodenext', or 'bundler'/.test(r.out),
        out: r.out,
        detail: r.code === 0 ? 'unexpectedly compiled' : 'TS2307 + the fix',
      };
    },
  );
}

// ---- all entry points ----
if (allDir && installed(allDir)) {
  const lines = ['// Generated by consumer-tests/run.mjs: every export of every @keyturn package.'];
  let n = 0;
  for (const dir of readdirSync(join(allDir, 'node_modules', '@keyturn'))) {
    const pkg = JSON.parse(readFileSync(join(allDir, 'node_modules', '@keyturn', dir, 'package.json'), 'utf8'));
    for (const sub of Object.keys(pkg.exports ?? {})) {
      if (sub === './package.json') continue;
      lines.push(`import * as m${n} from ${JSON.stringify(pkg.name + (sub === '.' ? '' : sub.slice(1)))};`, `export { m${n} };`);
      n++;
    }
  }
  mkdirSync(join(allDir, 'src'), { recursive: true });
  writeFileSync(join(allDir, 'src', 'all.ts'), `${lines.join('\n')}\n`);
  for (const [alias, version] of [
    ['typescript', TS_NEWEST],
    ['typescript-oldest', TS_OLDEST],
  ]) {
    for (const config of ['node16', 'bundler']) {
      await check(
        `all: tsc ${version} ${config}, every export of ${Object.keys(tarballs).length} packages (${n} entry points)`,
        async () => {
          const r = await tsc(allDir, alias, `tsconfig.${config}.json`, ['--noEmit']);
          const { ours, foreign } = tsErrors(r.out);
          const pkgs = [...new Set(foreign.map((l) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(l)?.[1]))];
          return {
            ok: ours.length === 0 && (r.code === 0 || foreign.length > 0),
            out: r.out,
            detail: foreign.length
              ? `${ours.length === 0 ? 'keyturn clean' : `${ours.length} errors in keyturn's declarations`}; ${foreign.length} errors inside ${pkgs.join(', ')} (their own TypeScript floor)`
              : '',
          };
        },
      );
    }
  }
}

// ---- Bun, Deno, workerd ----
if (esmDir && installed(esmDir) && only.includes('runtimes')) {
  for (const runtime of ['bun', 'deno']) {
    const bin = runtimeBinary(runtime);
    await check(`${runtime}: the tarballs from node_modules verify signed requests (Fetch adapter)`, async () => {
      if (!bin) return { ok: false, out: `no ${runtime} binary: ${missingReason(runtime)}` };
      const argv =
        runtime === 'bun' ? ['bun.mjs'] : ['run', '--quiet', '--allow-net=127.0.0.1', `--allow-read=${esmDir}`, '--allow-env', 'deno.mjs'];
      return succeeds(bin, argv, { cwd: esmDir, expectOk: true })();
    });
  }
  await check('workerd: a wrangler-style bundle (workerd, worker, browser conditions) verifies signed requests', () => workerd(esmDir));
}

async function workerd(dir) {
  const bin = runtimeBinary('workerd');
  if (!bin) return { ok: false, out: `no workerd binary: ${missingReason('workerd')}` };
  const b = await exec(
    join(dir, 'node_modules', '.bin', 'esbuild'),
    [
      'worker.mjs',
      '--bundle',
      '--format=esm',
      '--platform=browser',
      '--conditions=workerd,worker,browser',
      '--target=es2022',
      '--outfile=out-worker/worker.js',
      '--log-level=warning',
    ],
    { cwd: dir },
  );
  if (b.code !== 0) return { ok: false, out: b.out };
  // (platform browser: a static import of node:crypto would have failed the bundle; the worker also
  // reports which backend it got.)
  writeFileSync(
    join(dir, 'out-worker', 'config.capnp'),
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
  const child = spawn(bin, ['serve', join(dir, 'out-worker', 'config.capnp'), '--control-fd=3'], {
    cwd: join(dir, 'out-worker'),
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  try {
    const port = await new Promise((resolvePort, reject) => {
      let buf = '';
      const timer = setTimeout(() => reject(new Error('workerd did not report its port within 20 s')), 20_000);
      child.once('exit', (code) => reject(new Error(`workerd exited with ${code}`)));
      child.stdio[3].on('data', (d) => {
        buf += d;
        for (const line of buf.split('\n')) {
          try {
            const msg = JSON.parse(line);
            if (msg.event === 'listen' && msg.socket === 'http') {
              clearTimeout(timer);
              resolvePort(msg.port);
            }
          } catch {
            // partial line
          }
        }
      });
    });
    const body = JSON.stringify({ eventId: randomUUID(), eventType: 'VEHICLE_STATE' });
    const post = async (secret) => {
      const res = await fetch(`http://127.0.0.1:${port}/`, {
        method: 'POST',
        body,
        headers: { 'sc-signature': createHmac('sha256', secret).update(body).digest('hex') },
      });
      return { status: res.status, json: await res.json().catch(() => ({})) };
    };
    const r = {
      new: await post('consumer-suite-new-token'),
      old: await post('consumer-suite-old-token'),
      forged: await post(randomUUID()),
    };
    const ok =
      r.new.status === 200 &&
      r.new.json.keyRole === 'active' &&
      r.old.status === 200 &&
      r.old.json.keyRole === 'previous' &&
      r.forged.status === 401 &&
      r.new.json.backend === 'webcrypto';
    return {
      ok,
      detail: `(${r.new.json.backend}) new key ${r.new.status} ${r.new.json.keyRole}, old key ${r.old.status} ${r.old.json.keyRole}, forged ${r.forged.status}`,
      out: err,
    };
  } catch (e) {
    return { ok: false, out: `${e.message}\n${err}` };
  } finally {
    child.kill('SIGTERM');
  }
}

// ---- report ----
const failed = results.filter((r) => !r.ok);
const secs = Math.round((Date.now() - started) / 1000);
console.log(
  `consumers: ${results.length - failed.length} passed, ${failed.length} failed (${secs}s; projects in ${work}${keep ? '' : ', removed'})`,
);
if (process.env.KEYTURN_REPORT_DIR) {
  mkdirSync(process.env.KEYTURN_REPORT_DIR, { recursive: true });
  writeFileSync(
    join(process.env.KEYTURN_REPORT_DIR, 'consumers.json'),
    `${JSON.stringify({ numPassedTests: results.length - failed.length, numFailedTests: failed.length, numFailedTestSuites: 0, numPendingTests: 0, results }, null, 2)}\n`,
  );
}
if (!keep) rmSync(work, { recursive: true, force: true });
process.exit(failed.length === 0 && results.length > 0 ? 0 : 1);
