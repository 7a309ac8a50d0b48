#!/usr/bin/env node
// Builds and runs the fuzz targets under Jazzer.js (libFuzzer).
//
//   node lib/runner.mjs [--seconds N] [--coverage] [target ...]     (pnpm fuzz)
//
// Each target is bundled with esbuild from the TypeScript sources (the `source` export condition),
// so Jazzer.js instruments keyturn's own code; third-party packages stay external and are not
// instrumented. libFuzzer writes new inputs to a work corpus (fuzz/.corpus/<target>, not committed)
// and reads the committed seeds (fuzz/corpus/<target>) as a second, read-only corpus. A crash is
// written to fuzz/.artifacts/<target>/ and the runner exits non-zero.
//
// --coverage replays seeds + work corpus under V8 coverage afterwards and prints line/branch
// coverage of the fuzzed source files.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { targets } from '../targets.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require_ = createRequire(import.meta.url);
const jazzerCli = require_.resolve('@jazzer.js/core/dist/cli.js');
const addonShim = join(root, 'lib', 'jazzer-addon.cjs');

/** Bundles one target into `.build/<name>.cjs` (CommonJS, what Jazzer.js's require hook instruments). */
export async function bundle(target) {
  const outfile = join(root, '.build', `${target.name}.cjs`);
  await build({
    entryPoints: [join(root, target.file)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    conditions: ['@keyturn/source'],
    sourcemap: 'inline',
    logLevel: 'error',
    plugins: [
      {
        // keyturn's own packages are bundled (and so instrumented); everything else stays external.
        name: 'external-third-party',
        setup(b) {
          // Resolved where the importer lives (lru-cache is core's dependency, not ours), required by absolute path.
          b.onResolve({ filter: /^[^./#]/ }, (args) => {
            if (args.path.startsWith('@keyturn/')) return undefined;
            if (args.path.startsWith('node:') || builtinModules.includes(args.path)) return { path: args.path, external: true };
            return { path: createRequire(join(args.resolveDir, 'x.js')).resolve(args.path), external: true };
          });
        },
      },
    ],
  });
  return outfile;
}

/** One libFuzzer dictionary line: printable ASCII as is, the rest (and `"`, `\\`) as \\xNN. */
function dictEntry(token) {
  let out = '"';
  for (const byte of Buffer.from(token, 'utf8')) {
    out +=
      byte >= 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x5c
        ? String.fromCharCode(byte)
        : `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return `${out}"`;
}

/** libFuzzer's statistics from its output. */
export function parseStats(output) {
  const stats = {
    execs: undefined,
    cov: undefined,
    ft: undefined,
    corpus: undefined,
    execPerSec: undefined,
    seconds: undefined,
    crash: undefined,
  };
  for (const line of output.split('\n')) {
    let m = /^#(\d+)\s+(?:DONE|pulse|NEW|REDUCE|INITED)\s+cov: (\d+) ft: (\d+) corp: (\d+)\/\S+(?:.*?exec\/s: (\d+))?/.exec(line);
    if (m) {
      stats.execs = Number(m[1]);
      stats.cov = Number(m[2]);
      stats.ft = Number(m[3]);
      stats.corpus = Number(m[4]);
      if (m[5] !== undefined) stats.execPerSec = Number(m[5]);
    }
    m = /^stat::number_of_executed_units: (\d+)/.exec(line);
    if (m) stats.execs = Number(m[1]);
    m = /^stat::average_exec_per_sec:\s+(\d+)/.exec(line);
    if (m) stats.execPerSec = Number(m[1]);
    m = /^Done (\d+) runs in (\d+) second/.exec(line);
    if (m) {
      stats.execs = Number(m[1]);
      stats.seconds = Number(m[2]);
    }
    m = /Test unit written to (\S+)/.exec(line);
    if (m) stats.crash = m[1];
  }
  return stats;
}

/**
 * Runs one target for `seconds` (or `runs` inputs). Resolves to
 * `{ exitCode, output, stats: { execs, cov, ft, corpus, execPerSec, crash } }`.
 */
export async function runTarget(target, { seconds = 3, runs, workCorpus, seeds = true, extra = [], quiet = true } = {}) {
  const file = await bundle(target);
  const work = workCorpus ?? mkdtempSync(join(tmpdir(), `keyturn-fuzz-${target.name}-`));
  mkdirSync(work, { recursive: true });
  const seedDir = join(root, 'corpus', target.name);
  const artifacts = join(root, '.artifacts', target.name);
  mkdirSync(artifacts, { recursive: true });
  const dict = join(root, '.build', `${target.name}.dict`);
  writeFileSync(dict, target.dict.map(dictEntry).join('\n') + '\n');
  const corpora = [work, ...(seeds && existsSync(seedDir) ? [seedDir] : [])];
  const libFuzzerArgs = [
    `-artifact_prefix=${artifacts}/`,
    `-dict=${dict}`,
    `-max_len=${target.maxLen}`,
    '-print_final_stats=1',
    // A single input taking > 10 s is a hang (Jazzer.js reports it as a finding).
    '-timeout=10',
    ...(runs === undefined ? [`-max_total_time=${seconds}`] : [`-runs=${runs}`]),
    ...extra,
  ];
  // --no-warnings: keyturn's own process warnings (a guessable fuzzed secret) would flood the log.
  const args = ['--no-warnings', '-r', addonShim, jazzerCli, file, ...corpora, ...(target.sync ? ['--sync'] : []), '--', ...libFuzzerArgs];
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const onData = (d) => {
    output += d;
    if (!quiet) process.stderr.write(d);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exitCode = await new Promise((r) => child.on('close', (code, signal) => r(code ?? (signal ? 128 : 1))));
  if (workCorpus === undefined) rmSync(work, { recursive: true, force: true });
  const stats = parseStats(output);
  // A run that printed no statistics did not fuzz (a bad option, a target that failed to load).
  const ok = exitCode === 0 && stats.crash === undefined && stats.execs !== undefined && stats.execs > 0;
  return { exitCode, ok, output, stats };
}

function fmt(n) {
  return n === undefined ? '-' : n.toLocaleString('en-US');
}

async function main(argv) {
  let seconds = Number(process.env.FUZZ_SECONDS ?? 60);
  let coverage = false;
  const only = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') continue; // what pnpm passes through from `pnpm fuzz -- ...`
    if (a === '--seconds') seconds = Number(argv[++i]);
    else if (a === '--coverage') coverage = true;
    else if (a === '--help' || a === '-h') {
      console.log('usage: node lib/runner.mjs [--seconds N] [--coverage] [target ...]');
      console.log(`targets: ${targets.map((t) => t.name).join(', ')}`);
      return 0;
    } else only.push(a);
  }
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error('--seconds must be a positive number');
  const selected = only.length === 0 ? targets : only.map((n) => targets.find((t) => t.name === n) ?? fail(`unknown target ${n}`));
  const rows = [];
  let status = 0;
  for (const target of selected) {
    const work = join(root, '.corpus', target.name);
    process.stdout.write(`fuzz: ${target.name} for ${seconds} s ... `);
    const r = await runTarget(target, { seconds, workCorpus: work });
    const ok = r.ok;
    if (!ok) status = 1;
    console.log(ok ? 'ok' : `FAILED (exit ${r.exitCode})`);
    if (!ok) console.log(r.output.split('\n').slice(-60).join('\n'));
    rows.push({
      target: target.name,
      ...r.stats,
      crashes: ok ? 0 : 1,
      seedFiles: countFiles(join(root, 'corpus', target.name)),
      workFiles: countFiles(work),
    });
  }
  console.log('\n| target | executions | exec/s | libFuzzer cov (edges) | features | corpus (work) | seeds | crashes |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    console.log(
      `| ${r.target} | ${fmt(r.execs)} | ${fmt(r.execPerSec)} | ${fmt(r.cov)} | ${fmt(r.ft)} | ${fmt(r.workFiles)} | ${fmt(r.seedFiles)} | ${r.crashes} |`,
    );
  }
  mkdirSync(join(root, '.results'), { recursive: true });
  writeFileSync(join(root, '.results', 'latest.json'), JSON.stringify({ seconds, at: new Date().toISOString(), rows }, null, 2));
  if (coverage) {
    console.log('\nfuzz: replaying seeds + work corpus under V8 coverage ...');
    const r = spawnSync(
      process.execPath,
      [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'test/corpus.test.ts', '--coverage'],
      {
        cwd: root,
        stdio: 'inherit',
        env: { ...process.env, FUZZ_REPLAY_WORK_CORPUS: '1', FUZZ_COVERAGE: '1' },
      },
    );
    if (r.status !== 0) status = 1;
  }
  console.log(
    `\nfuzz: ${rows.length} targets, ${rows.reduce((a, r) => a + (r.execs ?? 0), 0).toLocaleString('en-US')} executions, ${rows.reduce((a, r) => a + r.crashes, 0)} crashes (${relative(process.cwd(), join(root, '.results', 'latest.json'))})`,
  );
  return status;
}

function countFiles(dir) {
  return existsSync(dir) ? readdirSync(dir).length : 0;
}

function fail(message) {
  throw new Error(message);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
