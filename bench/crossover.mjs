#!/usr/bin/env node
/**
 * `pnpm bench:crossover` (issue 18, item 1): the pads route of core's node:crypto backend (HMAC from
 * precomputed RFC 2104 pads, two one-shot `crypto.hash` calls over a reused scratch buffer) against
 * streaming `createHmac` (what the stream route and the hand-written floor do), per body size, in
 * alternating 20 ms chunks; `× createHmac` is the median of the per-pair ratios. The crossover is the
 * largest size where the pads route is still faster: `CROSSOVER_BY_MAJOR` in
 * packages/core/src/lib/crypto-node.ts comes from this. Built package (`pnpm build` first).
 * Run it with each Node: `$(node scripts/node-bin.mjs 22) bench/crossover.mjs`.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { writeFileSync } from 'node:fs';

const { padsFor, hmacStream, padsCrossover } = await import(new URL('../packages/core/dist/lib/crypto-node.js', import.meta.url).href);
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const sizes = (args.sizes ?? '256,1024,2048,4096,6144,8192,16384').split(',').map(Number);
const rounds = Number(args.rounds ?? 6);
const pairs = 4;
const chunkMs = Number(args['chunk-ms'] ?? 20);
const key = randomBytes(32);
const pads = padsFor('sha256', key);

function chunk(fn) {
  let n = 0;
  const end = performance.now() + chunkMs;
  const t0 = performance.now();
  do {
    for (let i = 0; i < 32; i++) fn();
    n += 32;
  } while (performance.now() < end);
  return (performance.now() - t0) / n;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const q = (xs, p) => [...xs].sort((a, b) => a - b)[Math.floor(p * (xs.length - 1))];

const load = [loadavg()[0]];
const rows = [];
for (const size of sizes) {
  const body = randomBytes(size);
  const a = () => pads.mac(undefined, body);
  const b = () => hmacStream('sha256', key, undefined, body);
  if (Buffer.compare(Buffer.from(a()), createHmac('sha256', key).update(body).digest()) !== 0)
    throw new Error('pads route disagrees with createHmac');
  for (let i = 0; i < 2000; i++) a(), b();
  const ratios = [];
  const ns = [];
  for (let r = 0; r < rounds; r++) {
    for (let p = 0; p < pairs; p++) {
      const first = (r + p) % 2 === 0;
      const x = first ? chunk(a) : chunk(b);
      const y = first ? chunk(b) : chunk(a);
      const [tp, ts] = first ? [x, y] : [y, x];
      ratios.push(tp / ts);
      ns.push([tp, ts]);
    }
    load.push(loadavg()[0]);
  }
  rows.push({
    size,
    pads: median(ns.map((v) => v[0])) * 1e6,
    stream: median(ns.map((v) => v[1])) * 1e6,
    ratio: median(ratios),
    p25: q(ratios, 0.25),
    p75: q(ratios, 0.75),
  });
}
const crossover =
  rows
    .filter((r) => r.ratio < 1)
    .map((r) => r.size)
    .pop() ?? 0;
const lines = [
  `Node ${process.version} (OpenSSL ${process.versions.openssl}); core's crossover on this Node: ${padsCrossover} B; measured: pads faster up to ${crossover} B; load ${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)}`,
  '',
  '| body | pads route ns | createHmac ns | pads × createHmac (p25–p75) |',
  '|--:|--:|--:|--:|',
];
for (const r of rows)
  lines.push(
    `| ${r.size} B | ${r.pads.toFixed(0)} | ${r.stream.toFixed(0)} | **${r.ratio.toFixed(2)}** (${r.p25.toFixed(2)}–${r.p75.toFixed(2)}) |`,
  );
console.log(lines.join('\n'));
if (args.out)
  writeFileSync(
    args.out,
    `${JSON.stringify({ node: process.version, padsCrossover, measuredCrossover: crossover, rows, markdown: lines.join('\n') }, null, 2)}\n`,
  );
