// What one delivery costs on DynamoDB: the operations a warm Lambda container makes per accepted
// delivery (replay claim, ledger, markers), counted at the wire through the proxy, and the size of
// every item (each write of an item up to 1 KB is one write request unit). docs/lambda.md computes the
// cost per million deliveries from these numbers.
import { ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { createVerifier, providers, sign } from '@keyturn/core';
import { createLambdaHandler } from '@keyturn/core/adapters/lambda';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dynamodbFleet } from '../src/index.ts';
import { clientOf, faultProxy, freshTable, startDynalite, type Backend, type FaultProxy } from './backends.ts';

let backend: Backend;
let proxy: FaultProxy;
beforeAll(async () => {
  backend = await startDynalite();
  proxy = await faultProxy(backend.endpoint);
});
afterAll(async () => {
  await proxy.close();
  await backend.close();
});

/** DynamoDB's item size: attribute names plus values (strings as UTF-8, numbers ~1 byte per 2 digits + 1). */
function itemBytes(item: Record<string, AttributeValue>): number {
  let n = 0;
  for (const [name, v] of Object.entries(item)) {
    n += Buffer.byteLength(name);
    if ('S' in v && v.S !== undefined) n += Buffer.byteLength(v.S);
    else if ('N' in v && v.N !== undefined) n += Math.ceil(v.N.replace(/^-/, '').length / 2) + 1;
  }
  return n;
}

it('a warm container, one delivery per invocation: operations per accepted delivery, and every item under 1 KB', async () => {
  const direct = clientOf(backend.endpoint);
  const table = await freshTable(direct);
  const secret = `whsec_${'ab'.repeat(32)}`;
  let clock = Date.now();
  const client = clientOf(proxy.endpoint);
  const fleet = dynamodbFleet({ client, table, now: () => clock });
  const verifier = createVerifier({
    provider: providers.dataspike(),
    keys: [{ id: 'k1', secret, role: 'active' }],
    secretId: 'prod/dataspike',
    fleet,
    replay: fleet.replayStore(),
  });
  await verifier.warm();
  const handler = createLambdaHandler(verifier, () => ({ ok: true }), { fleet });
  const invoke = async () => {
    const body = JSON.stringify({ id: `evt_${clock}`, type: 'check.completed' });
    const r = await handler({
      version: '2.0',
      requestContext: { http: { method: 'POST' } },
      headers: sign(providers.dataspike(), { body, secret }),
      body,
      isBase64Encoded: false,
    });
    expect(r.statusCode).toBe(200);
  };
  await invoke(); // the cold invocation: registry, counting start, role, first marker read
  const cold = { ...proxy.calls };
  const deliveries = 120;
  for (let i = 0; i < deliveries; i++) {
    clock += 1_000; // one delivery per second on this container
    await invoke();
  }
  const per = (op: string) => ((proxy.calls[op] ?? 0) - (cold[op] ?? 0)) / deliveries;
  const table_ = {
    PutItem: per('PutItem'),
    UpdateItem: per('UpdateItem'),
    BatchGetItem: per('BatchGetItem'),
    DeleteItem: per('DeleteItem'),
    GetItem: per('GetItem'),
    Query: per('Query'),
  };
  console.log(
    `[cost] per accepted delivery (warm container, 1 delivery/s): ${JSON.stringify(table_)}; the cold invocation made ${JSON.stringify(cold)}`,
  );
  expect(table_.PutItem).toBe(1); // the replay claim
  expect(table_.UpdateItem).toBe(1); // the ledger: ADD matches + conditional max of the last match, one call
  expect(table_.BatchGetItem).toBeCloseTo(1 / 10, 1); // the markers: at most once per 10 s per container
  expect(table_.DeleteItem + table_.GetItem + table_.Query).toBe(0);
  const items = (await direct.send(new ScanCommand({ TableName: table }))).Items ?? [];
  const biggest = Math.max(...items.map(itemBytes));
  console.log(`[cost] ${items.length} items, largest ${biggest} bytes`);
  expect(biggest).toBeLessThan(1024);
  await verifier.dispose();
  await fleet.close();
  client.destroy();
  direct.destroy();
});
