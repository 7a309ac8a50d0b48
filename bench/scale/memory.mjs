#!/usr/bin/env node --expose-gc
/**
 * `pnpm bench:scale` (issue 18, item 5): memory at 100 000 tenants, and heap over millions of
 * verifications with rotation and replay on. Built packages (`pnpm build` first); run with
 * `--expose-gc` (the script re-executes itself with it).
 *
 * - **Per cached secret**: one verifier over a store of `--tenants` secretIds (default 100 000, the
 *   cache's `maxSecrets` bound), each with two versions (active + previous, 32-byte secrets). The store
 *   derives every secret from its tenant number on demand, so it holds nothing itself: the heap that
 *   grows while the tenants warm up is the cache's. Reported: (heapUsed + external after a full GC,
 *   warm) − (same, before the first request) / tenants.
 * - **Flat heap**: `--verifications` (default 5 000 000) Dataspike deliveries (`t=…,v1=…`) spread
 *   over the tenants, every body unique (so every one is claimed in the replay store, a
 *   `memoryReplayStore` of 100 000 entries), on a fake clock moving 1 ms per request: the cache
 *   refreshes every tenant each `ttlMs` (60 s of fake time), and every 500 000 requests a tenth of the
 *   tenants rotate (a new active key, the old one previous) and the senders move to the new key.
 *   Heap after a full GC is sampled every 250 000 requests; the spread is taken over the samples
 *   after the first (the replay store is full by then), relative to their median.
 */
import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';

if (typeof globalThis.gc !== 'function') {
  const r = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, import.meta.filename, ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exit(r.status ?? 1);
}
const { createVerifier, providers, memoryReplayStore, sign } = await import('@keyturn/core');
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const TENANTS = Number(args.tenants ?? 100_000);
const N = Number(args.verifications ?? 5_000_000);
const SAMPLE = Number(args.sample ?? 250_000);
const ROTATE_EVERY = 500_000;

/** Rotation generation per tenant (bumped when it rotates). */
const generation = new Uint16Array(TENANTS);
const secretOf = (tenant, gen) => `whsec_${createHmac('sha256', 'derive').update(`${tenant}/${gen}`).digest('hex')}`;
let storeCalls = 0;
const store = {
  name: 'derived',
  async getVersions(secretId) {
    storeCalls++;
    const tenant = Number(secretId.slice(1));
    const g = generation[tenant];
    return [
      { id: `v${g + 1}`, secret: secretOf(tenant, g + 1), role: 'active' },
      { id: `v${g}`, secret: secretOf(tenant, g), role: 'previous' },
    ];
  },
};
let clock = Date.UTC(2026, 11, 1);
const dataspike = providers.dataspike();
const now = () => clock;
const verifier = createVerifier({
  provider: dataspike,
  keys: store,
  secretId: (req) => req.headers['x-tenant'],
  now,
  cache: { maxSecrets: Math.min(TENANTS, 100_000), ttlMs: 60_000, coldLoadBurst: 1_000_000, coldLoadsPerSecond: 1_000_000 },
  replay: memoryReplayStore({ max: 100_000, now }),
});

const heap = () => {
  globalThis.gc();
  globalThis.gc();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
};
let seq = 0;
function delivery(tenant) {
  const body = `{"id":"evt_${seq++}","tenant":${tenant}}`;
  const t = Math.floor(clock / 1000);
  const headers = sign(dataspike, { body, secret: secretOf(tenant, generation[tenant] + 1), timestamp: t });
  return { body, headers: { ...headers, 'x-tenant': `t${tenant}` } };
}

const load = [loadavg()[0]];
const before = heap();
const started = Date.now();
for (let i = 0; i < TENANTS; i++) {
  const r = await verifier.verify(delivery(i));
  if (r.keyId === undefined) throw new Error('not verified');
}
const warm = heap();
const perSecret = (warm.heapUsed + warm.external - before.heapUsed - before.external) / TENANTS;
console.error(`warm: ${TENANTS} tenants, ${storeCalls} store calls, ${perSecret.toFixed(0)} B per cached secret`);

const samples = [];
let rejected = 0;
for (let i = 1; i <= N; i++) {
  clock += 1;
  const tenant = (i * 7919) % TENANTS;
  try {
    await verifier.verify(delivery(tenant));
  } catch (e) {
    rejected++;
    if (rejected <= 3) console.error(`rejected: ${e.code}`);
  }
  if (i % ROTATE_EVERY === 0) for (let t = (i / ROTATE_EVERY) % 10; t < TENANTS; t += 10) generation[t]++;
  if (i % SAMPLE === 0) {
    samples.push({ at: i, ...heap(), storeCalls });
    load.push(loadavg()[0]);
    console.error(`${i}: heap ${(samples.at(-1).heapUsed / 2 ** 20).toFixed(1)} MiB, ${storeCalls} store calls, ${rejected} rejected`);
  }
}
const steady = samples.slice(1).map((s) => s.heapUsed + s.external);
const sorted = [...steady].sort((a, b) => a - b);
const median = sorted[sorted.length >> 1];
const result = {
  node: process.version,
  tenants: TENANTS,
  verifications: N,
  durationS: Math.round((Date.now() - started) / 1000),
  bytesPerCachedSecret: Math.round(perSecret),
  heapBefore: before,
  heapWarm: warm,
  samples,
  steadyMinVsMedian: sorted[0] / median - 1,
  steadyMaxVsMedian: sorted.at(-1) / median - 1,
  rejected,
  storeCalls,
  loadavg1m: { min: Math.min(...load), max: Math.max(...load) },
};
const mib = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;
console.log(
  `Node ${process.version}: ${TENANTS} tenants × 2 versions: **${result.bytesPerCachedSecret} B per cached secret** (heap+external ${mib(before.heapUsed + before.external)} → ${mib(warm.heapUsed + warm.external)})`,
);
console.log(
  `${N} verifications (rotation every ${ROTATE_EVERY}, replay on, ${storeCalls} store calls, ${rejected} rejected) in ${result.durationS} s: heap after GC ${mib(sorted[0])}–${mib(sorted.at(-1))}, **${(100 * result.steadyMinVsMedian).toFixed(1)} % / +${(100 * result.steadyMaxVsMedian).toFixed(1)} %** around the median; load ${result.loadavg1m.min.toFixed(1)}–${result.loadavg1m.max.toFixed(1)}`,
);
if (args.out) writeFileSync(args.out, `${JSON.stringify(result, null, 2)}\n`);
