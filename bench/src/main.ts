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
import { allocation, type AllocResult } from './alloc.ts';
import { makeBody } from './bodies.ts';
import { allCases, type CaseDef, type Prepared } from './cases.ts';
import { extraCases } from './extra.ts';
import { calibrate, chunk, quartiles, type Quartiles } from './harness.ts';
import { machineInfo } from './machine.ts';
import { evaluateTargets, renderMarkdown, type CaseResult, type Results } from './report.ts';

// Re-run with --expose-gc so mitata can collect garbage between measurements.
if (typeof (globalThis as { gc?: unknown }).gc !== 'function') {
  const r = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exit(r.status ?? 1);
}

const args = new Map<string, string>();
for (const a of process.argv.slice(2)) {
  const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
  if (!m) throw new Error(`unknown argument ${a}`);
  args.set(m[1]!, m[2] ?? 'true');
}
const quick = args.has('quick');
const num = (name: string, dflt: number): number => (args.has(name) ? Number(args.get(name)) : dflt);
const options = {
  quick,
  rounds: num('rounds', quick ? 3 : 8),
  chunks: num('chunks', quick ? 2 : 4),
  chunkMs: num('chunk-ms', quick ? 20 : 50),
  sizes: (args.get('sizes') ?? '1024,65536').split(',').map(Number),
  mem: !args.has('no-mem'),
  time: !args.has('no-time'),
};
const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(args.get('out') ?? resolve(here, '..', quick ? 'results-quick.json' : 'results/latest.json'));

const only = args.get('only')?.split(',');
const selected = (c: CaseDef): boolean =>
  only === undefined || only.some((p) => (p.endsWith('*') ? c.id.startsWith(p.slice(0, -1)) : c.id === p)) || c.group === 'floor';

const log = (line: string): void => void process.stderr.write(`${line}\n`);

async function main(): Promise<void> {
  const machine = machineInfo();
  const started = Date.now();
  const cases = [...allCases(), ...(await extraCases())].filter(selected);
  const results: Results = { machine, options, startedAt: new Date(started).toISOString(), sizes: {}, targets: [], notes: [] };

  for (const size of options.sizes) {
    const body = makeBody(size);
    log(`\n== ${size} B body: preparing ${cases.length} cases (correctness first) ==`);
    const prepared = new Map<string, { def: CaseDef; p: Prepared; batch: number; nsPerOp: number }>();
    for (const def of cases) {
      if (def.sizes !== undefined && !def.sizes.includes(size)) continue;
      const p = await def.prepare(body);
      p.refresh();
      await p.check();
      const { batch, nsPerOp } = await calibrate(p.fn);
      prepared.set(def.id, { def, p, batch, nsPerOp });
    }
    log(`all ${prepared.size} cases verify a valid request and reject a tampered one`);

    const ratios = new Map<string, number[]>();
    const times = new Map<string, number[]>();
    const push = (m: Map<string, number[]>, k: string, v: number) => (m.get(k) ?? m.set(k, []).get(k)!).push(v);
    const order = [...prepared.keys()];
    if (options.time) {
      for (let round = 0; round < options.rounds; round++) {
        const t0 = Date.now();
        const rotated = [...order.slice(round % order.length), ...order.slice(0, round % order.length)];
        for (const id of rotated) {
          const c = prepared.get(id)!;
          const f = prepared.get(c.def.floor);
          if (f === undefined) throw new Error(`${id}: floor ${c.def.floor} is not prepared`);
          for (let k = 0; k < options.chunks; k++) {
            c.p.refresh();
            f.p.refresh();
            let fc: number;
            let cc: number;
            if ((k + round) % 2 === 0) {
              fc = await chunk(f.p.fn, f.batch, options.chunkMs);
              cc = await chunk(c.p.fn, c.batch, options.chunkMs);
            } else {
              cc = await chunk(c.p.fn, c.batch, options.chunkMs);
              fc = await chunk(f.p.fn, f.batch, options.chunkMs);
            }
            push(ratios, id, cc / fc);
            push(times, id, cc);
          }
        }
        log(`round ${round + 1}/${options.rounds} done in ${((Date.now() - t0) / 1000).toFixed(1)} s (load ${loadavg()[0]!.toFixed(2)})`);
      }
    }

    const alloc = new Map<string, AllocResult>();
    if (options.mem) {
      const ops = (quick ? 2e4 : 1e5) / (size > 8192 ? 10 : 1);
      for (const [id, c] of prepared) {
        c.p.refresh();
        alloc.set(id, await allocation(c.p.fn, Math.max(200, Math.min(ops, Math.round(2e9 / c.nsPerOp / 10)))));
      }
      log('allocation measured');
    }

    const sizeResults: Record<string, CaseResult> = {};
    for (const [id, c] of prepared) {
      const r = ratios.get(id) ?? [];
      const t = times.get(id) ?? [];
      const q: Quartiles | undefined = r.length > 0 ? quartiles(r) : undefined;
      sizeResults[id] = {
        id,
        group: c.def.group,
        what: c.def.what,
        floor: c.def.floor,
        nsPerOp: t.length > 0 ? quartiles(t).p50 : c.nsPerOp,
        ratio: q,
        pairs: r.length,
        alloc: alloc.get(id),
      };
    }
    results.sizes[size] = sizeResults;
    for (const c of prepared.values()) await c.p.dispose?.();
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
