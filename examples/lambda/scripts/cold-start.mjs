#!/usr/bin/env node
// Cold start of the example, measured from process start to the first verified invocation: a fresh
// Node process per run imports src/handler.mjs (the init phase: SDK client, fleet, verifier, warm())
// and invokes the handler once with a signed HTTP API (payload 2.0) event, as the Lambda runtime would.
// DynamoDB is dynalite on 127.0.0.1 (so its round trips cost ~1 ms, not the ~5-10 ms of a real table).
// Uses the built @keyturn/* packages (`pnpm build` first).
//
//   node scripts/cold-start.mjs [runs]      (default 10; prints the median and the spread)
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { providers, sign } from '@keyturn/core';
import { tableDefinition } from '@keyturn/dynamodb';
import dynalite from 'dynalite';

const runs = Number(process.argv[2] ?? 10);
const SECRET = `whsec_${'5e'.repeat(32)}`;
const server = dynalite({ createTableMs: 0 });
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const endpoint = `http://127.0.0.1:${server.address().port}`;
const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
const table = 'keyturn-cold-start';
await client.send(new CreateTableCommand(tableDefinition(table)));
client.destroy();

const handlerUrl = new URL('../src/handler.mjs', import.meta.url).href;
const child = `
const { handler } = await import(${JSON.stringify(handlerUrl)});
const init = performance.now();
const r = await handler(JSON.parse(process.env.EVENT), { awsRequestId: 'cold' });
const first = performance.now();
console.log(JSON.stringify({ init, first, status: r.statusCode }));
process.exit(0);
`;
const results = [];
for (let i = 0; i < runs; i++) {
  const body = JSON.stringify({ id: `evt_cold_${Date.now()}_${i}`, type: 'check.completed' });
  const event = {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/webhooks',
    requestContext: { http: { method: 'POST', path: '/webhooks' }, domainName: 'x.execute-api.us-east-1.amazonaws.com' },
    headers: { 'content-type': 'application/json', ...sign(providers.dataspike(), { body, secret: SECRET }) },
    body,
    isBase64Encoded: false,
  };
  // Not spawnSync: dynalite runs in this process and must keep answering.
  const proc = spawn(process.execPath, ['--input-type=module', '-e', child], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: {
      ...process.env,
      EVENT: JSON.stringify(event),
      DATASPIKE_WEBHOOK_SECRET: SECRET,
      KEYTURN_TABLE: table,
      DYNAMODB_ENDPOINT: endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'x',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
  const r = { stdout: '', stderr: '' };
  proc.stdout.on('data', (b) => (r.stdout += b));
  proc.stderr.on('data', (b) => (r.stderr += b));
  await new Promise((resolve) => proc.once('close', resolve));
  const line = r.stdout.trim().split('\n').at(-1);
  const m = JSON.parse(line ?? '{}');
  if (m.status !== 200) throw new Error(`run ${i}: ${r.stdout}${r.stderr}`);
  results.push(m);
}
server.close();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (xs) => `median ${median(xs).toFixed(0)} ms (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)})`;
console.log(`node ${process.version}, ${runs} fresh processes`);
console.log(`init (process start → handler module loaded, keys warm): ${fmt(results.map((r) => r.init))}`);
console.log(`process start → first verified invocation answered:     ${fmt(results.map((r) => r.first))}`);
console.log(`first invocation alone (claim + processing + ledger flush): ${fmt(results.map((r) => r.first - r.init))}`);
