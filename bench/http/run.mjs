#!/usr/bin/env node
/**
 * `pnpm bench:http` (issue 18, item 2): requests per second through keyturn's node:http, Express,
 * Fastify and Hono (`@hono/node-server`) adapters against the same framework with a hand-written
 * floor check on the raw body, measured with autocannon on 127.0.0.1. Per framework, one child
 * process hosts both servers; autocannon (in this process) alternates between them, `--rounds` pairs
 * of `--seconds` each, the first of each pair flipping every round; `× floor` is the median of the
 * per-pair ratios. Valid deliveries (1 KiB Smartcar body, one key over a warm store cache), p50/p99
 * latency, then a forged flood against keyturn (a right-shaped wrong signature): rejections per
 * second and the store calls it caused. Then the Lambda adapter's overhead above the HMAC, in process.
 *
 * Options: `--rounds=N` (4), `--seconds=N` (3), `--connections=N` (16), `--only=express,...`,
 * `--out=file.json`.
 */
import { spawn } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const rounds = Number(args.rounds ?? 4);
const seconds = Number(args.seconds ?? 3);
const connections = Number(args.connections ?? 16);
const frameworks = (args.only ?? 'node:http,express,fastify,hono').split(',');
const SECRET = 'amt-bench-secret-0123456789abcdef';
const body = JSON.stringify({ eventId: 'e1', eventType: 'VEHICLE_STATE', data: 'ü'.padEnd(2000, 'x') })
  .slice(0, 1000)
  .padEnd(1024, ' ');
const good = createHmac('sha256', SECRET).update(body).digest('hex');
const forged = '0'.repeat(64);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const load = [loadavg()[0]];

const fire = (port, signature, duration = seconds) =>
  autocannon({
    url: `http://127.0.0.1:${port}/hook`,
    method: 'POST',
    body,
    connections,
    duration,
    headers: { 'content-type': 'application/json', 'sc-signature': signature },
  });

async function bench(framework) {
  const child = spawn(process.execPath, [new URL('./servers.mjs', import.meta.url).pathname, framework], {
    env: { ...process.env, SECRET },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => (await lines.next()).value;
  try {
    const ports = JSON.parse(await next());
    const calls = async () => {
      child.stdin.write('calls\n');
      return Number(await next());
    };
    for (const name of ['keyturn', 'floor']) {
      const w = await fire(ports[name], good, 1);
      if (w.non2xx > 0 || w.errors > 0)
        throw new Error(`${framework} ${name}: ${w.non2xx} non-2xx, ${w.errors} errors on valid deliveries`);
    }
    const pairs = [];
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? ['keyturn', 'floor'] : ['floor', 'keyturn'];
      const got = {};
      for (const name of order) {
        const res = await fire(ports[name], good);
        if (res.non2xx > 0) throw new Error(`${framework} ${name}: ${res.non2xx} non-2xx responses on valid deliveries`);
        got[name] = { rps: res.requests.average, p50: res.latency.p50, p99: res.latency.p99 };
      }
      pairs.push(got);
      load.push(loadavg()[0]);
    }
    const before = await calls();
    const flood = await fire(ports.keyturn, forged);
    const floodCalls = (await calls()) - before;
    const pick = (name, k) => median(pairs.map((p) => p[name][k]));
    return {
      framework,
      keyturn: { rps: pick('keyturn', 'rps'), p50: pick('keyturn', 'p50'), p99: pick('keyturn', 'p99') },
      floor: { rps: pick('floor', 'rps'), p50: pick('floor', 'p50'), p99: pick('floor', 'p99') },
      xFloor: median(pairs.map((p) => p.keyturn.rps / p.floor.rps)),
      pairs: pairs.map((p) => +(p.keyturn.rps / p.floor.rps).toFixed(3)),
      flood: {
        rejectionsPerS: flood.requests.average,
        non4xx: flood.requests.total - flood['4xx'],
        storeCalls: floodCalls,
        p99: flood.latency.p99,
      },
    };
  } finally {
    child.stdin.write('exit\n');
    child.kill();
  }
}

/** Lambda: the adapter's invocation (API Gateway v2 event) against decoding the body + the floor check. */
async function lambda() {
  const { createVerifier, providers } = await import('@keyturn/core');
  const { createLambdaHandler } = await import('@keyturn/core/adapters/lambda');
  const verifier = createVerifier({ provider: providers.smartcar(), keys: [{ id: 'k1', secret: SECRET, role: 'active' }] });
  const handler = createLambdaHandler(verifier, async () => ({ statusCode: 204 }));
  const event = {
    version: '2.0',
    routeKey: 'POST /hook',
    rawPath: '/hook',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', 'sc-signature': good },
    requestContext: { http: { method: 'POST', path: '/hook', sourceIp: '127.0.0.1' }, requestId: 'r', timeEpoch: Date.now() },
    body: Buffer.from(body).toString('base64'),
    isBase64Encoded: true,
  };
  const context = { awsRequestId: 'r', getRemainingTimeInMillis: () => 30_000 };
  const floor = async (e) => {
    const raw = e.isBase64Encoded ? Buffer.from(e.body, 'base64') : Buffer.from(e.body);
    const mac = createHmac('sha256', SECRET).update(raw).digest();
    const sig = Buffer.from(e.headers['sc-signature'], 'hex');
    return { statusCode: sig.length === mac.length && timingSafeEqual(mac, sig) ? 204 : 401 };
  };
  const r = await handler(event, context);
  if (r.statusCode !== 204) throw new Error(`lambda adapter answered ${r.statusCode}: ${r.body}`);
  const chunk = async (fn, ms = 50) => {
    let n = 0;
    const t0 = performance.now();
    const end = t0 + ms;
    do {
      for (let i = 0; i < 16; i++) await fn(event, context);
      n += 16;
    } while (performance.now() < end);
    return ((performance.now() - t0) / n) * 1e3;
  };
  const ratios = [];
  const us = [];
  for (let i = 0; i < 8 * rounds; i++) {
    const first = i % 2 === 0;
    const a = first ? await chunk(handler) : await chunk(floor);
    const b = first ? await chunk(floor) : await chunk(handler);
    const [k, f] = first ? [a, b] : [b, a];
    ratios.push(k / f);
    us.push([k, f]);
  }
  return {
    adapterUs: median(us.map((u) => u[0])),
    floorUs: median(us.map((u) => u[1])),
    overheadUs: median(us.map((u) => u[0] - u[1])),
    xFloor: median(ratios),
  };
}

const results = { node: process.version, rounds, seconds, connections, loadavgStart: loadavg().map((l) => +l.toFixed(2)), frameworks: [] };
for (const f of frameworks) {
  process.stderr.write(`${f}…\n`);
  results.frameworks.push(await bench(f));
}
results.lambda = await lambda();
results.loadavg1mDuring = { min: Math.min(...load), max: Math.max(...load) };
const lines = [
  `Node ${process.version}, autocannon ${connections} connections, ${rounds} alternating pairs × ${seconds} s per framework; load average (1 min) ${results.loadavg1mDuring.min.toFixed(1)}–${results.loadavg1mDuring.max.toFixed(1)}`,
  '',
  '| framework | keyturn req/s | floor req/s | × floor (per pair) | keyturn p50 / p99 | floor p50 / p99 | forged flood: rejections/s, p99, store calls |',
  '|---|--:|--:|--:|--:|--:|--:|',
];
for (const r of results.frameworks)
  lines.push(
    `| ${r.framework} | ${r.keyturn.rps.toFixed(0)} | ${r.floor.rps.toFixed(0)} | **${r.xFloor.toFixed(3)}** (${r.pairs.join(', ')}) | ${r.keyturn.p50} / ${r.keyturn.p99} ms | ${r.floor.p50} / ${r.floor.p99} ms | ${r.flood.rejectionsPerS.toFixed(0)}/s, ${r.flood.p99} ms, ${r.flood.storeCalls} |`,
  );
const l = results.lambda;
lines.push(
  '',
  `Lambda (\`createLambdaHandler\`, API Gateway v2 event, base64 body, in process): ${l.adapterUs.toFixed(2)} µs per invocation against ${l.floorUs.toFixed(2)} µs for decoding the body + the floor check: **+${l.overheadUs.toFixed(2)} µs** (${l.xFloor.toFixed(2)}× floor).`,
);
const md = lines.join('\n');
console.log(md);
if (args.out) writeFileSync(args.out, `${JSON.stringify({ ...results, markdown: md }, null, 2)}\n`);
process.exit(0);
