#!/usr/bin/env node
/**
 * `pnpm --filter @keyturn/bench bench:bundle` (issue 18, item 4): the same Workers job — verify one
 * webhook in a Fetch handler — bundled with esbuild (minified, `--platform=neutral
 * --conditions=workerd,worker,browser`, as Wrangler resolves) with keyturn and with each peer,
 * gzip level 9. keyturn is bundled from its BUILT package (run `pnpm build` first). Prints a
 * Markdown table; `--json` prints JSON. Deterministic (no timing): the size check that runs in the
 * test command is packages/core/test/bundle-size.test.ts.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync, brotliCompressSync } from 'node:zlib';
import { build } from 'esbuild';

const here = import.meta.dirname;
const entries = {
  'keyturn (core + smartcar + Fetch adapter)': `
import { createVerifier } from '@keyturn/core';
import { smartcar } from '@keyturn/core/providers';
import { withVerification } from '@keyturn/core/adapters/fetch';
export default { fetch(request, env) {
  const verifier = createVerifier({ provider: smartcar(), keys: [{ id: 'amt', secret: env.S, role: 'active' }] });
  return withVerification(verifier, async (_req, { result }) => new Response(result.keyId))(request);
} };`,
  'keyturn (all profiles via the providers object)': `
import { createVerifier, providers } from '@keyturn/core';
import { withVerification } from '@keyturn/core/adapters/fetch';
export default { fetch(request, env) {
  const verifier = createVerifier({ provider: providers.smartcar(), keys: [{ id: 'amt', secret: env.S, role: 'active' }] });
  return withVerification(verifier, async (_req, { result }) => new Response(result.keyId))(request);
} };`,
  'standardwebhooks 1.1.1 (Webhook.verify)': `
import { Webhook } from 'standardwebhooks';
export default { async fetch(request, env) {
  try { new Webhook(env.S).verify(await request.text(), Object.fromEntries(request.headers)); return new Response('ok'); }
  catch { return new Response('bad', { status: 401 }); }
} };`,
  'svix 2.5.0 (Webhook.verify)': `
import { Webhook } from 'svix';
export default { async fetch(request, env) {
  try { new Webhook(env.S).verify(await request.text(), Object.fromEntries(request.headers)); return new Response('ok'); }
  catch { return new Response('bad', { status: 401 }); }
} };`,
  '@octokit/webhooks-methods 6.0.0 (verify, web)': `
import { verify } from '@octokit/webhooks-methods';
export default { async fetch(request, env) {
  const ok = await verify(env.S, await request.text(), request.headers.get('x-hub-signature-256') ?? '');
  return new Response(ok ? 'ok' : 'bad', { status: ok ? 200 : 401 });
} };`,
  'stripe 23.1.0 (webhooks.constructEventAsync, SubtleCrypto)': `
import Stripe from 'stripe';
export default { async fetch(request, env) {
  const stripe = new Stripe('sk_test_x', { httpClient: Stripe.createFetchHttpClient() });
  try { await stripe.webhooks.constructEventAsync(await request.text(), request.headers.get('stripe-signature') ?? '', env.S, undefined, Stripe.createSubtleCryptoProvider()); return new Response('ok'); }
  catch { return new Response('bad', { status: 401 }); }
} };`,
};

const dir = mkdtempSync(join(here, '.size-'));
const rows = [];
try {
  for (const [name, source] of Object.entries(entries)) {
    const file = join(dir, `e${rows.length}.mjs`);
    writeFileSync(file, source);
    const outfile = `${file}.out.js`;
    try {
      await build({
        entryPoints: [file],
        bundle: true,
        minify: true,
        format: 'esm',
        platform: 'neutral',
        conditions: ['workerd', 'worker', 'browser'],
        mainFields: ['browser', 'module', 'main'],
        outfile,
        logLevel: 'silent',
        external: ['node:*'],
      });
      const code = readFileSync(outfile);
      const nodeImports = [...new Set(code.toString().match(/(?:from|import)\s*\(?\s*["']node:[a-z_/]+["']/g) ?? [])];
      rows.push({
        name,
        minified: code.length,
        gzip: gzipSync(code, { level: 9 }).length,
        brotli: brotliCompressSync(code).length,
        nodeImports,
      });
    } catch (e) {
      rows.push({ name, error: String(e.message ?? e).split('\n')[0] });
    }
  }
} finally {
  if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true });
}
if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
else {
  const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
  console.log(
    `esbuild ${(await import('esbuild')).version}, --minify --platform=neutral --conditions=workerd,worker,browser; gzip -9, brotli default\n`,
  );
  console.log('| bundle | minified | gzip | brotli | node: imports |\n|---|--:|--:|--:|---|');
  for (const r of rows)
    console.log(
      r.error
        ? `| ${r.name} | build failed: ${r.error} | | | |`
        : `| ${r.name} | ${kb(r.minified)} | ${r.gzip} B (${kb(r.gzip)}) | ${kb(r.brotli)} | ${r.nodeImports.join(', ') || '–'} |`,
    );
}
