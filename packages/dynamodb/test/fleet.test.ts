// The DynamoDB fleet with the real @aws-sdk/client-dynamodb against dynalite and DynamoDB Local: the
// usage ledger summed over instances (ADD, conditional max), serverless instances drained by flush(),
// the gap rules (silent instances, dropped counts), throttling, key-change markers polled at most once
// per interval, rotation fences, and nothing of a secret in the table.
import { ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createVerifier, providers, sign, type KeyStore, type KeyturnEvent, type SecretVersion, type Verifier } from '@keyturn/core';
import { createLambdaHandler } from '@keyturn/core/adapters/lambda';
import { readiness } from '@keyturn/rotation';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamodbFleet, type DynamoDbFleet, type DynamoDbFleetOptions } from '../src/index.ts';
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

const provider = providers.dataspike();
const OLD = `whsec_${'1a2b3c4d'.repeat(8)}`;
const NEW = `whsec_${'9f8e7d6c'.repeat(8)}`;
const V1: SecretVersion[] = [{ id: 'k1', role: 'active', secret: OLD }];
const V2: SecretVersion[] = [
  { id: 'k2', role: 'active', secret: NEW },
  { id: 'k1', role: 'previous', secret: OLD },
];

let seq = 0;
function delivery(secret: string, at?: number) {
  const body = JSON.stringify({ id: `evt_${process.pid}_${++seq}`, type: 'check.completed' });
  return { body, headers: sign(provider, { body, secret, ...(at === undefined ? {} : { timestamp: Math.floor(at / 1000) }) }) };
}

/** One key content shared by every instance (what Secrets Manager would be). */
function sharedStore(initial: SecretVersion[]) {
  let versions = initial;
  return {
    set: (v: SecretVersion[]) => void (versions = v),
    store: (): KeyStore & { calls: number } => {
      const s = {
        name: 'shared',
        calls: 0,
        async getVersions() {
          s.calls++;
          return versions.map((x) => ({ ...x }));
        },
      };
      return s;
    },
  };
}

const localMissing = dynamodbLocalMissing();
const BACKENDS: [string, () => Promise<Backend>, boolean][] = [
  ['dynalite', startDynalite, true],
  ['dynamodb-local', startDynamoDbLocal, localMissing === undefined],
];

describe.each(BACKENDS)('%s', (_name, start, available) => {
  let backend: Backend;
  let proxy: FaultProxy;
  let direct: DynamoDBClient;
  const cleanup: (() => Promise<void> | void)[] = [];
  beforeAll(async () => {
    if (!available) return;
    backend = await start();
    proxy = await faultProxy(backend.endpoint);
    direct = clientOf(backend.endpoint);
  });
  afterAll(async () => {
    if (!available) return;
    for (const c of cleanup.reverse()) await c();
    direct.destroy();
    await proxy.close();
    await backend.close();
  });

  interface Instance {
    fleet: DynamoDbFleet;
    verifier: Verifier;
    store: KeyStore & { calls: number };
    events: KeyturnEvent[];
  }

  async function instance(
    table: string,
    keys: KeyStore & { calls: number },
    opts: Partial<DynamoDbFleetOptions> = {},
    clock?: () => number,
  ): Promise<Instance> {
    const client = clientOf(proxy.endpoint, 1);
    const events: KeyturnEvent[] = [];
    const fleet = dynamodbFleet({ client, table, commandTimeoutMs: 5_000, ...opts });
    const verifier = createVerifier({
      provider,
      keys,
      secretId: 'DS',
      fleet,
      onEvent: (e) => void events.push(e),
      ...(clock ? { now: clock } : {}),
    });
    await verifier.warm();
    cleanup.push(async () => {
      await verifier.dispose();
      await fleet.close();
      client.destroy();
    });
    return { fleet, verifier, store: keys, events };
  }

  function reader(table: string, opts: Partial<DynamoDbFleetOptions> = {}): DynamoDbFleet {
    const client = clientOf(backend.endpoint);
    const f = dynamodbFleet({ client, table, ...opts });
    cleanup.push(async () => {
      await f.close();
      client.destroy();
    });
    return f;
  }

  it.runIf(available)(
    'three instances: matches summed (ADD), last match the latest (conditional max), roles and windows, counting start',
    async () => {
      const table = await freshTable(direct);
      const keys = sharedStore(V2);
      const a = await instance(table, keys.store());
      const b = await instance(table, keys.store());
      const c = await instance(table, keys.store());
      const t0 = Date.now();
      for (const [inst, secret, n] of [
        [a, NEW, 3],
        [b, NEW, 2],
        [c, OLD, 1],
        [b, OLD, 1],
      ] as const) {
        for (let i = 0; i < n; i++) await inst.verifier.verify(delivery(secret));
        await inst.fleet.flush();
      }
      const snap = await reader(table).usage('DS');
      expect(snap.keys.map((k) => [k.keyId, k.keyRole, k.matches])).toEqual([
        ['k2', 'active', 5],
        ['k1', 'previous', 2],
      ]);
      const lastOld = Math.max(...[b, c].map((i) => i.verifier.usage('DS').find((u) => u.keyId === 'k1')!.lastMatchedAt!));
      expect(snap.keys.find((k) => k.keyId === 'k1')!.lastMatchedAt).toBe(lastOld);
      expect(snap.since).toBeGreaterThanOrEqual(t0 - 5_000);
      expect(snap.keys[0]!.countingSince).toBeGreaterThanOrEqual(t0 - 5_000);
      expect(snap.instances).toHaveLength(3);
      expect(snap.missing).toEqual([]);
      // A later flush of an older last-match time does not move it back (the max is conditional).
      expect(readiness(snap, { quietMs: 60_000 }).verdicts[0]).toMatchObject({ secretId: 'DS', safe: false, previousKeyId: 'k1' });
    },
  );

  it.runIf(available)(
    'serverless: flush() at the end of an invocation drains the instance, so a frozen container never holds the verdict',
    async () => {
      const table = await freshTable(direct);
      let clock = Date.now();
      const keys = sharedStore(V2);
      const lambda = await instance(
        table,
        keys.store(),
        { now: () => clock, heartbeatMs: 60_000, flushIntervalMs: 60_000, staleAfterMs: 120_000, instanceTimeoutMs: 600_000 },
        () => clock,
      );
      const r = reader(table, { now: () => clock, heartbeatMs: 60_000, staleAfterMs: 120_000, instanceTimeoutMs: 600_000 });
      const handler = createLambdaHandler(lambda.verifier, () => ({ ok: true }), { fleet: lambda.fleet });
      const event = (d: ReturnType<typeof delivery>) => ({
        version: '2.0',
        requestContext: { http: { method: 'POST' } },
        headers: d.headers,
        body: d.body,
        isBase64Encoded: false,
      });
      expect((await handler(event(delivery(NEW, clock)))).statusCode).toBe(200);
      clock += 300_000; // frozen for 5 minutes: longer than staleAfterMs, shorter than instanceTimeoutMs
      const snap = await r.usage('DS');
      expect(snap.missing).toEqual([]);
      expect(snap.gapUntil).toBeUndefined();
      expect(snap.instances).toEqual([lambda.fleet.instanceId]);
      expect(snap.keys.find((k) => k.keyId === 'k2')).toMatchObject({ matches: 1 });
      expect((await handler(event(delivery(NEW, clock)))).statusCode).toBe(200);
      expect((await r.usage('DS')).keys.find((k) => k.keyId === 'k2')).toMatchObject({ matches: 2 });
      // The previous key went quiet across the whole fleet: the verdict can say yes.
      expect(readiness(await r.usage('DS'), { now: clock, quietMs: 60_000 }).verdicts[0]).toMatchObject({
        secretId: 'DS',
        safe: true,
        previousKeyId: 'k1',
      });
    },
  );

  it.runIf(available)(
    'gap rules: a live instance that goes silent is missing, then gone with a gap; dropped counts are a gap',
    async () => {
      const table = await freshTable(direct);
      let clock = Date.now();
      const keys = sharedStore(V2);
      const opts = { now: () => clock, heartbeatMs: 10_000, flushIntervalMs: 10_000, staleAfterMs: 30_000, instanceTimeoutMs: 120_000 };
      const live = await instance(table, keys.store(), opts, () => clock);
      await live.verifier.verify(delivery(OLD, clock));
      await new Promise((r) => setTimeout(r, 50));
      // A non-explicit flush (what the timer does in a long-running process): a live report.
      await (live.fleet as unknown as { usage(id: string): Promise<unknown> }).usage('DS');
      const lastReport = clock;
      const r = reader(table, opts);
      clock += 40_000;
      const missing = await r.usage('DS');
      expect(missing.missing?.map((m) => m.lastReportAt)).toEqual([lastReport]);
      clock += 200_000;
      const gone = await r.usage('DS');
      expect(gone.missing).toEqual([]);
      expect(gone.instances).toEqual([]);
      expect(gone.gapUntil).toBe(lastReport + 120_000);
      // Dropped counts: an instance holding more keys than maxPendingKeys while the table is unreachable.
      const tiny = await instance(table, keys.store(), { ...opts, maxPendingKeys: 1 }, () => clock);
      proxy.fault('UpdateItem', 'throttle', 100);
      await tiny.verifier.verify(delivery(OLD, clock));
      await tiny.verifier.verify(delivery(NEW, clock));
      await tiny.fleet.flush().catch(() => undefined);
      proxy.clear();
      await tiny.fleet.flush();
      expect((await r.usage('DS')).gapUntil).toBeGreaterThanOrEqual(clock);
    },
  );

  it.runIf(available)('throttling never fails a verification: counts are kept and written later, exactly once', async () => {
    const table = await freshTable(direct);
    const keys = sharedStore(V2);
    const a = await instance(table, keys.store());
    proxy.fault('UpdateItem', 'throttle', 1_000);
    for (let i = 0; i < 5; i++) await expect(a.verifier.verify(delivery(NEW))).resolves.toMatchObject({ keyId: 'k2' });
    await expect(a.fleet.flush()).rejects.toMatchObject({ name: 'DynamoDbError', reason: 'throttled' });
    expect(a.fleet.pendingKeys).toBeGreaterThan(0);
    expect(a.events.some((e) => e.type === 'fleet-error' && e.operation === 'flush')).toBe(true);
    proxy.clear();
    await a.fleet.flush();
    expect(a.fleet.pendingKeys).toBe(0);
    expect((await reader(table).usage('DS')).keys.find((k) => k.keyId === 'k2')?.matches).toBe(5);
  });

  it.runIf(available)(
    'key-change markers: read at most once per pollIntervalMs per container; a change reloads the secret; a fence makes misses 503',
    async () => {
      const table = await freshTable(direct);
      let clock = Date.now();
      const keys = sharedStore(V1);
      const a = await instance(table, keys.store(), { now: () => clock, pollIntervalMs: 10_000 }, () => clock);
      await a.fleet.flush(); // first flush: the first poll (the baseline)
      const polls = () => proxy.calls['BatchGetItem'] ?? 0;
      const before = polls();
      for (let i = 0; i < 5; i++) {
        await a.verifier.verify(delivery(OLD, clock));
        await a.fleet.flush();
        clock += 1_000;
      }
      expect(polls() - before).toBe(0); // 5 invocations within 10 s: no read
      clock += 5_000;
      await a.fleet.flush();
      expect(polls() - before).toBe(1);

      // The CLI (a fleet with no verifier) announces a rotation: the next poll applies the fence.
      const cli = reader(table, { now: () => clock });
      await cli.announceRotation('DS', { ttlMs: 120_000 });
      clock += 10_000;
      await a.fleet.poll();
      const early = await a.verifier.verify(delivery(NEW, clock)).catch((e: { code: string; status: number }) => e);
      expect(early).toMatchObject({ code: 'KEY_ROTATION_IN_PROGRESS', status: 503 });
      // The store write lands, the CLI publishes the change: the next poll reloads; NEW verifies.
      keys.set(V2);
      const callsBefore = a.store.calls;
      await cli.publishChange('DS', { versionId: 'k2' });
      clock += 10_000;
      await a.fleet.poll();
      await new Promise((r) => setTimeout(r, 50));
      expect(a.store.calls).toBe(callsBefore + 1);
      await expect(a.verifier.verify(delivery(NEW, clock))).resolves.toMatchObject({ keyId: 'k2' });
      expect(a.events.filter((e) => e.type === 'fleet-notice').map((e) => (e as { notice: string }).notice)).toEqual([
        'rotation-started',
        'key-changed',
      ]);
      // A fence ended without a change.
      await cli.announceRotation('DS');
      clock += 10_000;
      await a.fleet.poll();
      await cli.endRotation('DS');
      clock += 10_000;
      await a.fleet.poll();
      expect(
        a.events
          .filter((e) => e.type === 'rotation-fence')
          .map((e) => (e as { state: string }).state)
          .slice(-2),
      ).toEqual(['started', 'ended']);
    },
  );

  it.runIf(available)('a poll that fails is a fleet-error event (operation poll), and verification goes on', async () => {
    const table = await freshTable(direct);
    const a = await instance(table, sharedStore(V1).store());
    await a.fleet.poll();
    proxy.fault('BatchGetItem', 'error', 1);
    await a.fleet.poll();
    expect(a.events.some((e) => e.type === 'fleet-error' && e.operation === 'poll')).toBe(true);
    await expect(a.verifier.verify(delivery(OLD))).resolves.toMatchObject({ keyId: 'k1' });
  });

  it.runIf(available)('nothing of a secret is ever written: ids, counts and times only', async () => {
    const table = await freshTable(direct);
    const keys = sharedStore(V2);
    const a = await instance(table, keys.store());
    await a.verifier.verify(delivery(NEW));
    await a.verifier.verify(delivery(OLD));
    await a.fleet.flush();
    await a.fleet.announceRotation('DS');
    await a.fleet.publishChange('DS', { versionId: 'k3' });
    const replay = a.fleet.replayStore();
    expect(await replay.claim('dataspike:DS:evt', 60_000)).toBe(true);
    const all = JSON.stringify((await direct.send(new ScanCommand({ TableName: table }))).Items);
    expect(all.length).toBeGreaterThan(100);
    for (const secret of [OLD, NEW, OLD.slice(6), NEW.slice(6), OLD.slice(10, 30), NEW.slice(10, 30)]) expect(all).not.toContain(secret);
  });

  it('options are checked and creating a fleet makes no call', () => {
    expect(() => dynamodbFleet({ table: 'tbl', pollIntervalMs: 10 })).toThrow(/pollIntervalMs/);
    expect(() => dynamodbFleet({ table: 'tbl', instance: 'a b' })).toThrow(/instance/);
    let calls = 0;
    const f = dynamodbFleet({ table: 'tbl', client: { send: async () => void calls++ } as never });
    expect([calls, f.name, f.table]).toEqual([0, 'dynamodb', 'tbl']);
  });
});
