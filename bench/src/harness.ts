/**
 * Paired timing: each case is measured in short chunks that alternate with chunks of its floor
 * (which goes first flips every chunk), the ratio is taken per adjacent pair, and rounds rotate
 * the case order. Machine drift hits both halves of a pair alike and cancels out of the ratio.
 *
 * @module
 */
import { measure } from 'mitata';

/** Timing settings. */
export interface TimingOptions {
  /** Rounds over all cases (case order rotated each round). */
  readonly rounds: number;
  /** Chunk pairs per case per round. */
  readonly chunks: number;
  /** Length of one chunk, ms of measured time. */
  readonly chunkMs: number;
}

/** One chunk: mitata's median time per call, in ns. */
export async function chunk(fn: () => unknown, batch: number, chunkMs: number): Promise<number> {
  const stats = await measure(fn, {
    min_cpu_time: chunkMs * 1e6,
    batch_samples: batch,
    batch_unroll: batch >= 4 ? 4 : 1,
    min_samples: 4,
    warmup_samples: 2,
  });
  return stats.p50;
}

/** Calls per timed batch so that one sample lasts ≈0.5 ms (a power of two, 4…256). */
export async function calibrate(fn: () => unknown): Promise<{ batch: number; nsPerOp: number }> {
  let calls = 0;
  const t0 = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < 20e6 || calls < 8) {
    const r = fn();
    if (r instanceof Promise) await r;
    calls++;
    elapsed = Number(process.hrtime.bigint() - t0);
  }
  const nsPerOp = elapsed / calls;
  let batch = 4;
  while (batch < 256 && batch * 2 * nsPerOp <= 0.5e6) batch *= 2;
  return { batch, nsPerOp };
}

/** Median and quartiles of a sample. */
export interface Quartiles {
  readonly p25: number;
  readonly p50: number;
  readonly p75: number;
}

/** Quartiles by linear interpolation. */
export function quartiles(values: readonly number[]): Quartiles {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number): number => {
    if (s.length === 0) return NaN;
    const i = (s.length - 1) * q;
    const lo = Math.floor(i);
    const hi = Math.ceil(i);
    return s[lo]! + (s[hi]! - s[lo]!) * (i - lo);
  };
  return { p25: at(0.25), p50: at(0.5), p75: at(0.75) };
}
