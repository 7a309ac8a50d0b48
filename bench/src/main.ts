/**
 * `pnpm bench`: keyturn against its floors and its peers, in one process, on the same inputs.
 *
 * Options: `--quick` (≈1 min), `--sizes=1024,65536`, `--only=id,prefix*`, `--rounds=N`,
 * `--chunks=N`, `--chunk-ms=N`, `--no-mem`, `--no-time`, `--out=path.json`.
 *
 * @module
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { allCases } from './cases.ts';
import { machineInfo } from './machine.ts';
import { evaluateTargets, renderMarkdown, type CaseResult, type Results } from './report.ts';
import { runSize } from './run.ts';
import type { CaseDef } from './types.ts';

// Re-run with --expose-gc so mitata can collect garbage between measurements.
if (typeof (globalThis as { gc?: unknown }).gc !== 'function') {
  const r = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exit(r.status ?? 1);
}

const args = new Map<string, string>();
for (const a of process.argv.slice(2)) {
  if (a === '--') continue; // `pnpm bench -- --quick` may pass the separator through
  const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
  if (!m) throw new Error(`unknown argument ${a}`);
  args.set(m[1]!, m[2] ?? 'true');
}
const quick = args.has('quick');
const num = (name: string, dflt: number): number => (args.has(name) ? Number(args.get(name)) : dflt);
const options = {
  quick,
  rounds: num('rounds', quick ? 2 : 8),
  chunks: num('chunks', quick ? 2 : 4),
  chunkMs: num('chunk-ms', quick ? 20 : 50),
  sizes: (args.get('sizes') ?? '1024,65536').split(',').map(Number),
  mem: !args.has('no-mem'),
  time: !args.has('no-time'),
};
const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(args.get('out') ?? resolve(here, '..', quick ? 'results-quick.json' : 'results/latest.json'));

const only = args.get('only')?.split(',');
const picked = (c: CaseDef): boolean =>
  only === undefined || only.some((p) => (p.endsWith('*') ? c.id.startsWith(p.slice(0, -1)) : c.id === p));
// A case's floor runs with it (a fleet case is paired with the same verifier without a fleet).
const pairedWith = new Set(
  allCases()
    .filter(picked)
    .map((c) => c.floor),
);
const selected = (c: CaseDef): boolean => picked(c) || c.group === 'floor' || pairedWith.has(c.id);

const log = (line: string): void => void process.stderr.write(`${line}\n`);
const wants = (prefixes: string[]): boolean => only === undefined || only.some((p) => prefixes.some((x) => p.startsWith(x)));
const suites = [
  ...(args.has('no-web') || !wants(['kt-web', 'floor-web']) ? [] : ['web' as const]),
  ...(args.has('no-cold') || !wants(['kt-cold', 'floor-cold']) ? [] : ['cold' as const]),
];

/**
 * Runs a suite in a child process: `web` with `--conditions=workerd` (so `@keyturn/core` loads its
 * WebCrypto backend exactly as a Workers bundle would), `cold` with the cloud SDKs and servers.
 */
function runChild(suite: 'web' | 'cold', size: number, notes: string[]): Record<string, CaseResult> {
  const argv = [
    '--expose-gc',
    ...(suite === 'web' ? ['--conditions=workerd'] : []),
    resolve(here, 'child.js'),
    `--suite=${suite}`,
    `--size=${size}`,
    `--rounds=${options.rounds}`,
    `--chunks=${options.chunks}`,
    `--chunk-ms=${options.chunkMs}`,
    ...(options.mem ? [] : ['--no-mem']),
    ...(quick ? ['--quick'] : []),
  ];
  // Other engineers rebuild packages in this checkout; a child that starts while a `dist` is being
  // rewritten fails to import. Try again a little later rather than losing the whole run.
  for (let attempt = 1; attempt <= 3; attempt++) {
    const r = spawnSync(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
    if (r.status === 0) return JSON.parse(r.stdout) as Record<string, CaseResult>;
    log(`${suite} child failed with status ${r.status} (attempt ${attempt}/3)`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10_000);
  }
  notes.push(`The ${suite} cases failed at ${size} B (see the log); they are missing from this run.`);
  return {};
}

async function main(): Promise<void> {
  const machine = machineInfo();
  const started = Date.now();
  const cases = allCases().filter(selected);
  const results: Results = { machine, options, startedAt: new Date(started).toISOString(), sizes: {}, targets: [], notes: [] };

  for (const size of options.sizes) {
    results.sizes[size] = await runSize(cases, size, options);
    for (const suite of suites)
      if (suite === 'web' || size === 1024) Object.assign(results.sizes[size]!, runChild(suite, size, results.notes));
  }

  results.targets = evaluateTargets(results);
  const finished = Date.now();
  results.durationS = Math.round((finished - started) / 1000);
  results.loadavgEnd = loadavg().map((l) => Math.round(l * 100) / 100);
  const markdown = renderMarkdown(results);
  process.stdout.write(`${markdown}\n`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  if (!quick) writeFileSync(out.replace(/\.json$/, '.md'), `${markdown}\n`);
  log(`\nwrote ${out} in ${results.durationS} s`);
}

await main();
