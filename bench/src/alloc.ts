/**
 * Allocation per verification.
 *
 * - JS heap bytes/op = (Δ used heap + Σ bytes freed by every GC during the loop) / ops, with
 *   `v8.GCProfiler` reporting each GC.
 * - ArrayBuffer bytes/op = Δ `process.memoryUsage().arrayBuffers` over a short loop in which no GC
 *   ran (Buffers and other ArrayBuffers allocated through Node; not OpenSSL's own mallocs).
 *
 * @module
 */
import { GCProfiler, getHeapStatistics } from 'node:v8';

/** Allocation of one case at one size. */
export interface AllocResult {
  /** JS heap bytes allocated per operation. */
  readonly heapBytesPerOp: number;
  /** ArrayBuffer backing-store bytes per operation (`undefined` if every short window saw a GC). */
  readonly arrayBufferBytesPerOp: number | undefined;
  /** Young-generation GCs per 1e5 operations. */
  readonly scavengesPer1e5: number;
  /** Operations measured. */
  readonly ops: number;
}

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

async function loop(fn: () => unknown, n: number, isAsync: boolean): Promise<void> {
  if (isAsync) {
    for (let i = 0; i < n; i++) await fn();
  } else {
    for (let i = 0; i < n; i++) fn();
  }
}

/** Measures bytes/op of `fn` over `ops` calls (after a warm-up). */
export async function allocation(fn: () => unknown, ops: number): Promise<AllocResult> {
  const isAsync = fn() instanceof Promise;
  await loop(fn, Math.min(ops, 2_000), isAsync); // warm up (JIT, inline caches)

  gc();
  const profiler = new GCProfiler();
  profiler.start();
  const before = getHeapStatistics().used_heap_size;
  await loop(fn, ops, isAsync);
  const after = getHeapStatistics().used_heap_size;
  const { statistics } = profiler.stop();
  let freed = 0;
  let scavenges = 0;
  for (const s of statistics) {
    freed += s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize;
    if (s.gcType === 'Scavenge') scavenges++;
  }

  let arrayBufferBytesPerOp: number | undefined;
  for (let attempt = 0; attempt < 5 && arrayBufferBytesPerOp === undefined; attempt++) {
    const n = 200;
    gc();
    const p = new GCProfiler();
    p.start();
    const ab0 = process.memoryUsage().arrayBuffers;
    await loop(fn, n, isAsync);
    const ab1 = process.memoryUsage().arrayBuffers;
    if (p.stop().statistics.length === 0) arrayBufferBytesPerOp = Math.max(0, ab1 - ab0) / n;
  }

  return {
    heapBytesPerOp: (after - before + freed) / ops,
    arrayBufferBytesPerOp,
    scavengesPer1e5: (scavenges * 1e5) / ops,
    ops,
  };
}
