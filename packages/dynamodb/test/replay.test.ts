// The DynamoDB replay store with the real @aws-sdk/client-dynamodb against dynalite and DynamoDB Local
// on 127.0.0.1, through a fault proxy: concurrent claims, token-checked release, expiry checked on
// write (TTL deletes late), outcome-unknown claims cleaned up, the SDK's own retry of a landed write
// recognised, throttling, timeouts; end to end through the verifier and the Lambda adapter.
import { GetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createVerifier, memoryReplayStore, providers, sign } from '@keyturn/core';
import { createLambdaHandler } from '@keyturn/core/adapters/lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamodbReplayStore, DynamoDbError, type DynamoDbReplayStore } from '../src/index.ts';
import {
  clientOf,
  dynamodbLocalMissing,
  faultProxy,
  freshTable,
  startDynalite,
  startDynamoDbLocal,
  type Backend,
  type FaultProxy,
} from './backends.ts';

const localMissing = dynamodbLocalMissing();
if (localMissing !== undefined) console.warn(`[dynamodb] SKIPPING DynamoDB Local: ${localMissing}`);

const SECRET = `whsec_${'ab'.repeat(32)}`;

const BACKENDS: [string, () => Promise<Backend>, boolean][] = [
  ['dynalite', startDynalite, true],
  ['dynamodb-local', startDynamoDbLocal, localMissing === undefined],
];

describe.each(BACKENDS)('%s', (_name, start, available) => {
  let backend: Backend;
  let proxy: FaultProxy;
  let direct: DynamoDBClient;
  const clients: DynamoDBClient[] = [];
  const stores: DynamoDbReplayStore[] = [];
  beforeAll(async () => {
    if (!available) return;
    backend = await start();
    proxy = await faultProxy(backend.endpoint);
    direct = clientOf(backend.endpoint);
  });
  afterAll(async () => {
    if (!available) return;
    for (const c of clients) c.destroy();
    direct.destroy();
    await proxy.close();
    await backend.close();
  });

  /** A store on a fresh table, through the proxy, with its own client (one per "instance"). */
  async function setup(n = 1, extra: { now?: () => number; commandTimeoutMs?: number; maxAttempts?: number } = {}) {
    const table = await freshTable(direct);
    const made = Array.from({ length: n }, () => {
      const client = clientOf(proxy.endpoint, extra.maxAttempts ?? 3);
      clients.push(client);
      const store = dynamodbReplayStore({
        client,
        table,
        ...(extra.now ? { now: extra.now } : {}),
        commandTimeoutMs: extra.commandTimeoutMs ?? 2_000,
      });
      stores.push(store);
      return store;
    });
    const item = async (key: string) =>
      (
        await direct.send(
          new GetItemCommand({ TableName: table, Key: { pk: { S: `keyturn#replay#${key}` }, sk: { S: 'claim' } }, ConsistentRead: true }),
        )
      ).Item;
    return { table, stores: made, store: made[0]!, item };
  }

  it.runIf(available)('100 parallel claims of one key across 4 instances: exactly one wins', async () => {
    const { stores: four } = await setup(4, { commandTimeoutMs: 15_000 });
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => four[i % 4]!.claim('smartcar:s:evt-1', 60_000)));
    expect(results.filter(Boolean).length).toBe(1);
  });

  it.runIf(available)('a claim carries a token, its expiry and the TTL attribute (epoch seconds)', async () => {
    const t = 1_800_000_000_000;
    const { store, item } = await setup(1, { now: () => t });
    expect(await store.claim('k1', 90_500)).toBe(true);
    const it1 = await item('k1');
    expect(it1?.['exp']).toEqual({ N: String(t + 90_500) });
    expect(it1?.['ttl']).toEqual({ N: String(Math.ceil((t + 90_500) / 1000) + 1) });
    expect(it1?.['tok']?.S).toMatch(/^[0-9a-f-]{36}\.\d+$/);
  });

  it.runIf(available)('expiry is checked on write: an expired claim DynamoDB has not deleted yet is free again', async () => {
    let t = 1_800_000_000_000;
    const {
      stores: [a, b],
      item,
    } = await setup(2, { now: () => t });
    expect(await a!.claim('k2', 1_000)).toBe(true);
    expect(await b!.claim('k2', 1_000)).toBe(false);
    t += 1_001;
    expect(await item('k2')).toBeDefined(); // TTL has not removed it (and will not for a while)
    expect(await b!.claim('k2', 1_000)).toBe(true);
    // a's late release must not free b's claim.
    await a!.release('k2');
    expect((await item('k2'))?.['tok']).toBeDefined();
    expect(await a!.claim('k2', 1_000)).toBe(false);
    await b!.release('k2');
    expect(await item('k2')).toBeUndefined();
    expect(await a!.claim('k2', 1_000)).toBe(true);
  });

  it.runIf(available)('release deletes only our own claim, and is idempotent', async () => {
    const {
      stores: [a, b],
      item,
    } = await setup(2);
    expect(await a!.claim('k3', 60_000)).toBe(true);
    await b!.release('k3'); // not b's
    expect(await item('k3')).toBeDefined();
    await a!.release('k3');
    await a!.release('k3');
    expect(await item('k3')).toBeUndefined();
  });

  it.runIf(available)(
    'outcome unknown: a PutItem that landed but was never answered is refused (503) and then cleaned up, so the retry is accepted',
    async () => {
      const { store, item } = await setup(1, { commandTimeoutMs: 300, maxAttempts: 1 });
      proxy.fault('PutItem', 'hang-after');
      const error = await store.claim('k4', 3_600_000).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DynamoDbError);
      expect((error as DynamoDbError).reason).toBe('timeout');
      expect(store.pendingCleanups).toBe(1);
      proxy.clear();
      await store.flush();
      expect(store.pendingCleanups).toBe(0);
      expect(await item('k4')).toBeUndefined();
      // The sender's retry of the same delivery is not refused for an hour.
      expect(await store.claim('k4', 3_600_000)).toBe(true);
    },
  );

  it.runIf(available)('without the cleanup, the landed claim would refuse every retry (what the cleanup prevents)', async () => {
    const { store, stores, table } = await setup(1, { commandTimeoutMs: 300, maxAttempts: 1 });
    proxy.fault('PutItem', 'hang-after');
    proxy.fault('DeleteItem', 'hang-before', 100);
    await store.claim('k5', 3_600_000).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 400));
    proxy.clear();
    const other = dynamodbReplayStore({ client: clientOf(proxy.endpoint), table });
    expect(await other.claim('k5', 3_600_000)).toBe(false);
    // The next claim on the instance that lost the answer cleans up first: accepted.
    expect(await stores[0]!.claim('k5', 3_600_000)).toBe(true);
  });

  it.runIf(available)("the SDK's own retry of a PutItem that landed is recognised as our claim (throttled after the write)", async () => {
    const {
      store,
      stores: [, b],
    } = await setup(2, { maxAttempts: 3 });
    proxy.fault('PutItem', 'throttle-after');
    expect(await store.claim('k6', 60_000)).toBe(true);
    expect(await b!.claim('k6', 60_000)).toBe(false);
  });

  it.runIf(available)(
    'throttling after the SDK retries: a DynamoDbError (throttled) and nothing claimed; a conditional failure is a plain false',
    async () => {
      const { store, item } = await setup(1, { maxAttempts: 2 });
      proxy.fault('PutItem', 'throttle', 2);
      const error = await store.claim('k7', 60_000).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'DynamoDbError', reason: 'throttled', operation: 'PutItem' });
      await store.flush();
      expect(await item('k7')).toBeUndefined();
      expect(await store.claim('k7', 60_000)).toBe(true);
      expect(await store.claim('k7', 60_000)).toBe(false);
    },
  );

  it.runIf(available)(
    'through the verifier and the Lambda adapter: throw → 500 and released, retry → 200, replay → 409; throttled table → 503, fail-open → accepted',
    async () => {
      const { store } = await setup(1, { maxAttempts: 1 });
      const profile = providers.dataspike();
      const verifier = createVerifier({ provider: profile, keys: [{ id: 'k', secret: SECRET, role: 'active' }], replay: { store } });
      const open = createVerifier({
        provider: profile,
        keys: [{ id: 'k', secret: SECRET, role: 'active' }],
        replay: { store, failOpen: true },
      });
      let fail = true;
      const make = (v: typeof verifier) =>
        createLambdaHandler(
          v,
          () => {
            if (fail) throw new Error('downstream');
            return { ok: true };
          },
          { onError: () => {} },
        );
      const handler = make(verifier);
      const body = JSON.stringify({ id: 'evt-lambda-1', type: 'verification.completed' });
      const headers = sign(profile, { body, secret: SECRET });
      const event = {
        version: '2.0',
        requestContext: { http: { method: 'POST' }, domainName: 'x.execute-api.us-east-1.amazonaws.com' },
        headers,
        body,
        isBase64Encoded: false,
      };
      expect((await handler(event)).statusCode).toBe(500);
      fail = false;
      expect((await handler(event)).statusCode).toBe(200);
      expect((await handler(event)).statusCode).toBe(409);
      const body2 = JSON.stringify({ id: 'evt-lambda-2', type: 'verification.completed' });
      const event2 = { ...event, body: body2, headers: sign(profile, { body: body2, secret: SECRET }) };
      proxy.fault('PutItem', 'throttle', 1);
      expect((await handler(event2)).statusCode).toBe(503);
      proxy.fault('PutItem', 'throttle', 1);
      expect((await make(open)(event2)).statusCode).toBe(200);
      expect(memoryReplayStore).toBeTypeOf('function');
    },
  );

  it.runIf(available)('long keys are hashed into the partition key (DynamoDB allows 2048 bytes)', async () => {
    const { store } = await setup(1);
    const long = `smartcar:${'ü'.repeat(900)}:evt`;
    expect(await store.claim(long, 60_000)).toBe(true);
    expect(await store.claim(long, 60_000)).toBe(false);
    await store.release(long);
    expect(await store.claim(long, 60_000)).toBe(true);
  });

  it('options are checked (TypeError), and creating a store makes no call', () => {
    expect(() => dynamodbReplayStore({ table: 'x' })).toThrow(/table/);
    expect(() => dynamodbReplayStore({ table: 'tbl', commandTimeoutMs: 0 })).toThrow(/commandTimeoutMs/);
    expect(() => dynamodbReplayStore({ table: 'tbl', maxTokens: 0 })).toThrow(/maxTokens/);
    expect(() => dynamodbReplayStore({ table: 'tbl', client: {} as never })).toThrow(/client/);
    expect(() => dynamodbReplayStore({ table: 'tbl', client: { send: async () => ({}) }, clientConfig: {} })).toThrow(/not both/);
    let calls = 0;
    dynamodbReplayStore({ table: 'tbl', client: { send: async () => void calls++ } as never });
    expect(calls).toBe(0);
    expect(PutItemCommand).toBeTypeOf('function');
  });
});
