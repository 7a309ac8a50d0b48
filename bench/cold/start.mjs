#!/usr/bin/env node
/**
 * `pnpm bench:cold` (issue 18, item 3): cold start, one fresh `node` process per sample.
 *
 * 1. **Process start → first verified request**: the parent spawns a script that imports what it
 *    needs, builds a verifier, verifies one signed 1 KiB delivery and prints the result; timed from
 *    `spawn()` to that line on stdout. keyturn (env store: `envKeyStore` over `process.env`, Smartcar)
 *    against the same job by hand with `node:crypto` (the floor), and stripe, svix, standardwebhooks,
 *    @octokit/webhooks on their own schemes. Scripts alternate, the order rotating every round;
 *    `× floor` is the median of the per-round ratios.
 * 2. **Import time** of each entry point (`await import()` in a fresh process, `performance.now()`
 *    around it).
 * 3. **store-aws / store-gcp until the first store call**: import the store, build it, call
 *    `getVersions` once against the local test servers (`@keyturn/store-aws/testing`,
 *    `@keyturn/store-gcp/testing`); the SDKs load lazily inside that first call.
 *
 * Options: `--rounds=N` (default 15), `--out=file.json`. Node: the one running this script.
 */
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';

const here = import.meta.dirname;
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const rounds = Number(args.rounds ?? 15);
const dir = mkdtempSync(join(here, '.run-'));
const body = JSON.stringify({ id: 'evt_1', type: 'VEHICLE_STATE', data: 'ü'.padEnd(1000 - 60, 'x') })
  .slice(0, 1024)
  .padEnd(1024, ' ');
const secretBytes = randomBytes(32);
const whsec = `whsec_${secretBytes.toString('base64')}`;
const t = Math.floor(Date.now() / 1000);
const b64 = (data) => createHmac('sha256', secretBytes).update(data).digest('base64');
const env = {
  BODY: body,
  WHSEC: whsec,
  SVIX_ID: 'msg_1',
  SVIX_T: String(t),
  SVIX_SIG: `v1,${b64(`msg_1.${t}.${body}`)}`,
};

const jobs = {
  floor: `import { createHmac, timingSafeEqual } from 'node:crypto';
const key = process.env.SC;
const mac = createHmac('sha256', key).update(process.env.BODY).digest();
const sig = Buffer.from(process.env.SC_SIG, 'hex');
if (sig.length !== mac.length || !timingSafeEqual(mac, sig)) throw new Error('bad');
process.stdout.write('ok\\n');`,
  keyturn: `import { createVerifier } from '@keyturn/core';
import { smartcar } from '@keyturn/core/providers';
import { envKeyStore } from '@keyturn/store-env';
const verifier = createVerifier({ provider: smartcar(), keys: envKeyStore({ env: process.env }), secretId: 'SC' });
const r = await verifier.verify({ body: process.env.BODY, headers: { 'sc-signature': process.env.SC_SIG } });
process.stdout.write(r.keyId ? 'ok\\n' : 'bad\\n');`,
  stripe: `import Stripe from 'stripe';
const stripe = new Stripe('sk_test_x');
stripe.webhooks.constructEvent(process.env.BODY, process.env.STRIPE_SIG, process.env.SECRET_HEX_AS_STRING ?? '', 300);
process.stdout.write('ok\\n');`,
  svix: `import { Webhook } from 'svix';
new Webhook(process.env.WHSEC).verify(process.env.BODY, { 'svix-id': process.env.SVIX_ID, 'svix-timestamp': process.env.SVIX_T, 'svix-signature': process.env.SVIX_SIG });
process.stdout.write('ok\\n');`,
  standardwebhooks: `import { Webhook } from 'standardwebhooks';
new Webhook(process.env.WHSEC).verify(process.env.BODY, { 'webhook-id': process.env.SVIX_ID, 'webhook-timestamp': process.env.SVIX_T, 'webhook-signature': process.env.SVIX_SIG });
process.stdout.write('ok\\n');`,
  '@octokit/webhooks': `import { Webhooks } from '@octokit/webhooks';
const ok = await new Webhooks({ secret: process.env.GH_SECRET }).verify(process.env.BODY, process.env.GH_SIG);
process.stdout.write(ok ? 'ok\\n' : 'bad\\n');`,
};
// keyturn's env store (its secretId, SC), the floor, stripe and octokit take the secret as a string.
const asciiSecret = `kt_${secretBytes.toString('hex')}`;
const hexA = (data) => createHmac('sha256', asciiSecret).update(data).digest('hex');
Object.assign(env, {
  SC: asciiSecret,
  SC_SIG: hexA(body),
  SECRET_HEX_AS_STRING: asciiSecret,
  STRIPE_SIG: `t=${t},v1=${hexA(`${t}.${body}`)}`,
  GH_SECRET: asciiSecret,
  GH_SIG: `sha256=${hexA(body)}`,
});

const imports = [
  '@keyturn/core',
  '@keyturn/core/providers',
  '@keyturn/core/adapters/node',
  '@keyturn/core/adapters/express',
  '@keyturn/core/adapters/fastify',
  '@keyturn/core/adapters/hono',
  '@keyturn/core/adapters/fetch',
  '@keyturn/core/adapters/lambda',
  '@keyturn/store-env',
  '@keyturn/store-aws',
  '@keyturn/store-gcp',
  'stripe',
  'svix',
  'standardwebhooks',
  '@octokit/webhooks',
  '@octokit/webhooks-methods',
];
const importJob = (spec) =>
  `const t0 = performance.now(); await import(${JSON.stringify(spec)}); process.stdout.write(String(performance.now() - t0) + '\\n');`;

const storeJobs = {
  'store-aws': `const t0 = performance.now();
const { awsSecretsManagerStore } = await import('@keyturn/store-aws');
const t1 = performance.now();
const store = awsSecretsManagerStore({ clientConfig: JSON.parse(process.env.AWS_CONFIG) });
const v = await store.getVersions('bench/webhook');
const t2 = performance.now();
if (v.length < 1) throw new Error('no versions');
process.stdout.write(JSON.stringify({ sinceStart: t2, import: t1 - t0, firstCall: t2 - t1 }) + '\\n');
await store.dispose?.();`,
  'store-gcp': `const t0 = performance.now();
const { gcpSecretManagerStore } = await import('@keyturn/store-gcp');
const t1 = performance.now();
const grpc = await import('@grpc/grpc-js');
const o = JSON.parse(process.env.GCP_OPTIONS);
const store = gcpSecretManagerStore({ clientOptions: { ...o, sslCreds: grpc.credentials.createInsecure() }, mode: 'versions' });
const v = await store.getVersions('projects/test-project/secrets/webhook');
const t2 = performance.now();
if (v.length < 1) throw new Error('no versions');
process.stdout.write(JSON.stringify({ sinceStart: t2, import: t1 - t0, firstCall: t2 - t1 }) + '\\n');
await store.dispose?.();
process.exit(0);`,
};

const files = {};
for (const [name, src] of Object.entries({ ...jobs, ...storeJobs }))
  writeFileSync((files[name] = join(dir, `${name.replace(/\W/g, '_')}.mjs`)), src);
for (const [i, spec] of imports.entries()) writeFileSync((files[`import:${spec}`] = join(dir, `import_${i}.mjs`)), importJob(spec));

/** Spawns one script; resolves with ms from spawn() to its first stdout line, and that line. */
function run(file, extraEnv = {}) {
  return new Promise((resolvePromise, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, [file], {
      cwd: dir,
      env: { ...process.env, ...env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let at;
    child.stdout.on('data', (d) => {
      out += d;
      if (at === undefined && out.includes('\n')) at = process.hrtime.bigint();
    });
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      if (code !== 0 || at === undefined) reject(new Error(`${file} exited ${code}: ${err.slice(0, 400)}`));
      else resolvePromise({ ms: Number(at - t0) / 1e6, line: out.split('\n')[0] });
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const q = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

const load = [loadavg()[0]];
const results = { node: process.version, rounds, loadavgStart: loadavg().map((l) => +l.toFixed(2)), start: {}, imports: {}, stores: {} };
try {
  // Warm the file system cache once for every script.
  for (const name of Object.keys(jobs)) await run(files[name]);
  const names = Object.keys(jobs);
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    const order = names.map((_, i) => names[(i + r) % names.length]);
    for (const n of order) {
      const { ms, line } = await run(files[n]);
      if (line !== 'ok') throw new Error(`${n}: ${line}`);
      samples[n].push(ms);
    }
    load.push(loadavg()[0]);
  }
  for (const n of names) {
    const ratios = samples[n].map((ms, i) => ms / samples.floor[i]);
    results.start[n] = {
      p50: median(samples[n]),
      p25: q(samples[n], 0.25),
      p75: q(samples[n], 0.75),
      xFloor: median(ratios),
      xFloorP25: q(ratios, 0.25),
      xFloorP75: q(ratios, 0.75),
    };
  }
  for (const spec of imports) {
    const xs = [];
    for (let r = 0; r < Math.max(5, rounds >> 1); r++) xs.push(Number((await run(files[`import:${spec}`])).line));
    results.imports[spec] = { p50: median(xs), p25: q(xs, 0.25), p75: q(xs, 0.75) };
  }
  // Stores until their first call, against the local test servers.
  const { startSecretsManagerServer } = await import('@keyturn/store-aws/testing');
  const aws = await startSecretsManagerServer();
  aws.createSecret('bench/webhook', secretBytes.toString('hex'));
  const { startFakeSecretManager } = await import('@keyturn/store-gcp/testing');
  const gcp = await startFakeSecretManager();
  gcp.model.createSecret('projects/test-project/secrets/webhook');
  gcp.model.addVersion('projects/test-project/secrets/webhook', secretBytes.toString('hex'));
  const { sslCreds: _ignored, ...gcpOptions } = gcp.grpcClientOptions();
  try {
    const storeEnv = { AWS_CONFIG: JSON.stringify(aws.clientConfig({ maxAttempts: 3 })), GCP_OPTIONS: JSON.stringify(gcpOptions) };
    for (const name of Object.keys(storeJobs)) {
      const xs = [];
      for (let r = 0; r < Math.max(5, rounds >> 1); r++) {
        const { ms, line } = await run(files[name], storeEnv);
        xs.push({ spawnToResult: ms, ...JSON.parse(line) });
      }
      results.stores[name] = Object.fromEntries(
        ['spawnToResult', 'sinceStart', 'import', 'firstCall'].map((k) => [k, median(xs.map((x) => x[k]))]),
      );
    }
  } finally {
    await aws.close();
    await gcp.close?.();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
results.loadavgEnd = loadavg().map((l) => +l.toFixed(2));
results.loadavg1mDuring = { min: Math.min(...load), max: Math.max(...load) };

const f = (n) => `${n.toFixed(1)} ms`;
const lines = [
  `Node ${process.version}, ${rounds} rounds; load average (1 min) ${results.loadavg1mDuring.min.toFixed(2)}–${results.loadavg1mDuring.max.toFixed(2)} during the run`,
  '',
  '| process start → first verified request | p50 (p25–p75) | × floor (p25–p75) |',
  '|---|--:|--:|',
];
for (const [n, r] of Object.entries(results.start))
  lines.push(
    `| ${n} | ${f(r.p50)} (${f(r.p25)}–${f(r.p75)}) | **${r.xFloor.toFixed(2)}** (${r.xFloorP25.toFixed(2)}–${r.xFloorP75.toFixed(2)}) |`,
  );
lines.push('', '| import | p50 (p25–p75) |', '|---|--:|');
for (const [n, r] of Object.entries(results.imports)) lines.push(`| \`${n}\` | ${f(r.p50)} (${f(r.p25)}–${f(r.p75)}) |`);
lines.push(
  '',
  '| store until its first call (p50) | spawn → result | process start → result | import | build + first getVersions (SDK loads here) |',
  '|---|--:|--:|--:|--:|',
);
for (const [n, r] of Object.entries(results.stores))
  lines.push(`| ${n} | ${f(r.spawnToResult)} | ${f(r.sinceStart)} | ${f(r.import)} | ${f(r.firstCall)} |`);
const md = lines.join('\n');
console.log(md);
if (args.out) writeFileSync(args.out, `${JSON.stringify({ ...results, markdown: md }, null, 2)}\n`);
