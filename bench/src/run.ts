/**
 * One body size: prepare every case (correctness first), time them in alternating chunk pairs with
 * their floors over rotated rounds, then measure allocation.
 *
 * @module
 */
import { loadavg } from 'node:os';
import { allocation, type AllocResult } from './alloc.ts';
import { makeBody } from './bodies.ts';
import { calibrate, chunk, quartiles } from './harness.ts';
import type { CaseResult } from './report.ts';
import type { CaseDef, Prepared } from './types.ts';

/** Run settings. */
export interface RunOptions {
  readonly quick: boolean;
  readonly rounds: number;
  readonly chunks: number;
  readonly chunkMs: number;
  readonly mem: boolean;
  readonly time: boolean;
}

const log = (line: string): void => void process.stderr.write(`${line}\n`);

/** Runs `cases` at one body size. */
export async function runSize(
  cases: readonly CaseDef[],
  size: number,
  options: RunOptions,
  label = '',
): Promise<Record<string, CaseResult>> {
  const body = makeBody(size);
  log(`\n== ${size} B body${label}: preparing ${cases.length} cases (correctness first) ==`);
  const prepared = new Map<string, { def: CaseDef; p: Prepared; batch: number; nsPerOp: number }>();
  try {
    for (const def of cases) {
      if (def.sizes !== undefined && !def.sizes.includes(size)) continue;
      const p = await def.prepare(body);
      prepared.set(def.id, { def, p, batch: 1, nsPerOp: NaN });
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
      const ops = (options.quick ? 2e4 : 1e5) / (size > 8192 ? 10 : 1);
      for (const [id, c] of prepared) {
        c.p.refresh();
        // At most ≈0.2 s per case (slow cases get fewer operations).
        alloc.set(id, await allocation(c.p.fn, Math.max(100, Math.min(ops, Math.round(2e8 / c.nsPerOp)))));
      }
      log('allocation measured');
    }

    const out: Record<string, CaseResult> = {};
    for (const [id, c] of prepared) {
      const r = ratios.get(id) ?? [];
      const t = times.get(id) ?? [];
      out[id] = {
        id,
        group: c.def.group,
        what: c.def.what,
        floor: c.def.floor,
        nsPerOp: t.length > 0 ? quartiles(t).p50 : c.nsPerOp,
        ratio: r.length > 0 ? quartiles(r) : undefined,
        pairs: r.length,
        alloc: alloc.get(id),
      };
    }
    return out;
  } finally {
    for (const c of prepared.values()) await c.p.dispose?.();
  }
}
