/**
 * `pnpm drill`: the rotation drill on every store (env-file, AWS and GCP through their test servers),
 * at 2 000 deliveries/s for 60 s each. Prints the table and writes the JSON reports.
 *
 *   pnpm drill                              # all three stores, full length
 *   pnpm drill -- --store=env-file --quick  # one store, the test command's short version
 *   pnpm drill -- --out=path.json
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fullOptions, quickOptions, type StoreConfig } from './config.ts';
import { runDrill, type DrillReport } from './drill.ts';
import { drillTable, problems } from './table.ts';

const args = new Map(
  process.argv
    .slice(2)
    .map((a) => (a.includes('=') ? (a.replace(/^--/, '').split('=', 2) as [string, string]) : [a.replace(/^--/, ''), 'true'])),
);
const quick = args.get('quick') === 'true';
const stores = (args.get('store') ?? 'env-file,aws,gcp').split(',') as StoreConfig['kind'][];
const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(args.get('out') ?? resolve(here, '..', 'results', quick ? 'quick.json' : 'latest.json'));
const log = (line: string): void => void process.stderr.write(`… ${line}\n`);

const reports: DrillReport[] = [];
for (const store of stores) {
  const options = quick ? quickOptions(store, log) : fullOptions(store, log);
  const rate = args.get('rate');
  reports.push(await runDrill(rate === undefined ? options : { ...options, rate: Number(rate) }));
}
const table = drillTable(reports);
process.stdout.write(`\n${table}\n`);
for (const r of reports) process.stdout.write(`\n${r.store}: keyturn status --redis-url …\n${r.status.output}\n`);
await mkdir(dirname(out), { recursive: true });
await writeFile(out, JSON.stringify({ when: new Date().toISOString(), node: process.version, quick, reports }, null, 2) + '\n');
await writeFile(out.replace(/\.json$/, '.md'), table);
process.stderr.write(`wrote ${out}\n`);
const bad = reports.flatMap(problems);
for (const p of bad) process.stderr.write(`FAILED: ${p}\n`);
process.exit(bad.length === 0 ? 0 : 1);
