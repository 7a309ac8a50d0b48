// An independent emulator of API Gateway's event mapping over real HTTP: serverless-offline 13 on
// Serverless Framework v3 (scripts/aws-emulators.mjs) serves the example (src/handler.mjs, built
// @keyturn/* from dist) as a REST API (payload 1.0, binaryMediaTypes) and an HTTP API (payload 2.0),
// on 127.0.0.1, with a DynamoDB table on dynalite. Raw sockets send what fetch cannot (headers that
// differ only in case, repeated signature headers).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { createVerifier, providers, sign } from '@keyturn/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ESM helper without type declarations
import { serverlessOffline } from '../../../scripts/aws-emulators.mjs';
import { SECRET, startTable } from './env.ts';

const profile = providers.dataspike();
const offline = serverlessOffline() as { sls?: string; why?: string };
if (offline.sls === undefined) console.warn(`[example-lambda e2e] SKIPPING serverless-offline: ${offline.why}`);

let env: Awaited<ReturnType<typeof startTable>>;
let sls: ChildProcess | undefined;
let port = 0;
let output = '';

beforeAll(async () => {
  if (offline.sls === undefined) return;
  env = await startTable();
  port = 20_000 + (process.pid % 20_000);
  sls = spawn(
    process.execPath,
    [offline.sls, 'offline', '--host', '127.0.0.1', '--httpPort', String(port), '--lambdaPort', String(port + 1)],
    {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: {
        ...process.env,
        DATASPIKE_WEBHOOK_SECRET: SECRET,
        KEYTURN_TABLE: env.table,
        DYNAMODB_ENDPOINT: env.endpoint,
        KEYTURN_DYNAMODB_TIMEOUT_MS: '5000',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        SLS_TELEMETRY_DISABLED: '1',
        SLS_NOTIFICATIONS_MODE: 'off',
        SLS_DEPRECATION_DISABLE: '*',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  sls.stdout?.on('data', (b: Buffer) => (output += b.toString()));
  sls.stderr?.on('data', (b: Buffer) => (output += b.toString()));
  const deadline = Date.now() + 120_000;
  while (!output.includes('Server ready')) {
    if (sls.exitCode !== null || Date.now() > deadline) throw new Error(`serverless-offline did not start: ${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});

afterAll(async () => {
  if (sls !== undefined && sls.exitCode === null) {
    const exited = new Promise((r) => sls!.once('exit', r));
    sls.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    if (sls.exitCode === null) sls.kill('SIGKILL');
  }
  await env?.close();
});

/** One raw HTTP/1.1 request: `headers` as [name, value] pairs, sent exactly as given. */
function raw(path: string, body: Uint8Array, headers: [string, string][]): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head, ...rest] = text.split('\r\n\r\n');
      const status = Number(head!.split(' ')[1]);
      let payload = rest.join('\r\n\r\n');
      if (/transfer-encoding: chunked/i.test(head!))
        payload = payload
          .replace(/^[0-9a-f]+\r\n/i, '')
          .replace(/\r\n0\r\n\r\n$/, '')
          .replace(/\r\n[0-9a-f]+\r\n/gi, '');
      let json: unknown;
      try {
        json = JSON.parse(payload);
      } catch {
        json = payload;
      }
      resolve({ status, json });
    });
    const lines = [
      `POST ${path} HTTP/1.1`,
      `Host: 127.0.0.1:${port}`,
      'Connection: close',
      `Content-Length: ${body.length}`,
      ...headers.map(([k, v]) => `${k}: ${v}`),
    ];
    socket.write(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), Buffer.from(body)]));
  });
}

const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const sig = (body: Uint8Array | string, secret = SECRET) => sign(profile, { body, secret })['x-webhook-signature']!;
const FORGED = `whsec_${'0f'.repeat(32)}`;
const PATHS = { 'REST API (payload 1.0)': '/dev/webhooks/rest', 'HTTP API (payload 2.0)': '/webhooks/http' } as const;

describe.runIf(offline.sls !== undefined).each(Object.entries(PATHS))('%s through serverless-offline', (_api, path) => {
  it('JSON with bytes ≥ 0x80 (UTF-8), form-encoded, and binary bodies (binary media types): verified on the exact bytes', async () => {
    const json = JSON.stringify({ id: `evt_json_${path}`, type: 'check.completed', name: 'Björk Guðmundsdóttir ✓ 日本' });
    const form = `id=evt_form${path}&name=${encodeURIComponent('Zoë')}&raw=${'%C3%A9'.repeat(3)}&b=é`;
    const binary = Uint8Array.from([...Buffer.from(path), 0x00, 0x7f, ...Array.from({ length: 128 }, (_, i) => 0x80 + i), 0xff, 0xfe]);
    for (const [type, body] of [
      ['application/json', Buffer.from(json)],
      ['application/x-www-form-urlencoded', Buffer.from(form)],
      ['application/octet-stream', Buffer.from(binary)],
    ] as const) {
      const r = await raw(path, body, [
        ['Content-Type', type],
        ['X-Webhook-Signature', sig(body)],
      ]);
      expect([type, r.status]).toEqual([type, 200]);
      expect(r.json).toMatchObject({
        bytes: body.length,
        sha256: sha(body),
        key: 'DATASPIKE_WEBHOOK_SECRET@' + (r.json as { key: string }).key.split('@')[1],
      });
    }
  });

  it('Content-Encoding: gzip: verified on the decoded bytes (what the sender signed)', async () => {
    const plain = Buffer.from(`binary-ish payload ${'\u00ff'.repeat(10)} for ${path}`);
    const r = await raw(path, gzipSync(plain), [
      ['Content-Type', 'application/octet-stream'],
      ['Content-Encoding', 'gzip'],
      ['X-Webhook-Signature', sig(plain)],
    ]);
    expect([r.status, (r.json as { sha256?: string }).sha256]).toEqual([200, sha(plain)]);
  });

  it('a forgery is 401 with the generic body', async () => {
    const body = JSON.stringify({ id: 'evt_forged', type: 'x' });
    const r = await raw(path, Buffer.from(body), [
      ['Content-Type', 'application/json'],
      ['X-Webhook-Signature', sig(body, FORGED)],
    ]);
    expect([r.status, r.json]).toEqual([401, { error: 'invalid signature' }]);
  });

  it('headers that differ only in case are one header; repeated signature headers are handled as the verifier handles the joined value', async () => {
    const body = JSON.stringify({ id: `evt_case_${path}`, type: 'check.completed' });
    const ok = await raw(path, Buffer.from(body), [
      ['content-type', 'application/json'],
      ['X-Trace', 'a'],
      ['x-trace', 'b'],
      ['x-WEBHOOK-signature', sig(body)],
    ]);
    expect(ok.status).toBe(200);
    // Repeated signature headers (a proxy duplicating one, or a forged copy next to a valid one) are
    // answered as the verifier answers the value the event carries: both values joined (what the node
    // adapter sees, and what payload 1.0's multiValueHeaders give), or one of them (an event source that
    // keeps one) — never a 5xx, never an acceptance the verifier would refuse.
    const verifier = createVerifier({ provider: profile, keys: [{ id: 'k', secret: SECRET, role: 'active' }] });
    const statusOf = (body: string, values: string[]) =>
      Promise.all(
        [values.join(', '), values.join(','), ...values].map((v) =>
          verifier.verify({ body, headers: { 'x-webhook-signature': v } }).then(
            () => 200,
            (e: { status: number }) => e.status,
          ),
        ),
      );
    for (const names of [
      ['X-Webhook-Signature', 'X-Webhook-Signature'],
      ['X-Webhook-Signature', 'x-webhook-signature'],
    ] as const) {
      const twice = JSON.stringify({ id: `evt_dup_${path}_${names[1]}`, type: 'check.completed' });
      const same = await raw(path, Buffer.from(twice), [
        ['Content-Type', 'application/json'],
        [names[0], sig(twice)],
        [names[1], sig(twice)],
      ]);
      expect(await statusOf(twice, [sig(twice), sig(twice)])).toContain(same.status);
      const mixed = JSON.stringify({ id: `evt_mix_${path}_${names[1]}`, type: 'check.completed' });
      const r = await raw(path, Buffer.from(mixed), [
        ['Content-Type', 'application/json'],
        [names[0], sig(mixed, FORGED)],
        [names[1], sig(mixed)],
      ]);
      expect(await statusOf(mixed, [sig(mixed, FORGED), sig(mixed)])).toContain(r.status);
    }
  });
});

describe.runIf(offline.sls !== undefined)('the fleet drill through serverless-offline', () => {
  it('100 parallel copies of one delivery (a 5xx retried after 1 s, as senders do): exactly one processed, the rest 409', async () => {
    const body = Buffer.from(JSON.stringify({ id: `evt_drill_offline_${Date.now()}`, type: 'check.completed' }));
    const headers: [string, string][] = [
      ['Content-Type', 'application/json'],
      ['X-Webhook-Signature', sig(body)],
    ];
    let retries = 0; // after a 5xx
    const send = async (i: number): Promise<number> => {
      for (let attempt = 0; ; attempt++) {
        const { status, json } = await raw(i % 2 === 0 ? PATHS['HTTP API (payload 2.0)'] : PATHS['REST API (payload 1.0)'], body, headers);
        // serverless-offline answers an HTTP API invocation that failed (a timeout, a crash) with 200 and
        // the error as the body; API Gateway answers 500/502/504. Either way the sender retries.
        const failed = status >= 500 || (typeof json === 'object' && json !== null && 'errorType' in json);
        if (!failed || attempt === 20) return failed ? 502 : status;
        retries++;
        await new Promise((r) => setTimeout(r, 1_000));
      }
    };
    const started = Date.now();
    const statuses = await Promise.all(Array.from({ length: 100 }, (_, i) => send(i)));
    const counts: Record<number, number> = {};
    for (const s of statuses) counts[s] = (counts[s] ?? 0) + 1;
    console.log(`[drill offline] ${JSON.stringify(counts)}; ${retries} retries after a 5xx; ${Date.now() - started} ms`);
    expect(counts).toEqual({ 200: 1, 409: 99 });
    expect(await env.processed(JSON.parse(body.toString()).id)).toBe(1);
  }, 290_000);
});
