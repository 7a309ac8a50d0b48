/**
 * redisFleet against a real redis-server, with ioredis and node-redis: notices reach every instance,
 * fences turn the racing deliveries into 503s, missed notices are recovered (reconnect, sequence gap),
 * malformed notices are ignored with an event, the ledger sums every instance without a Redis call on
 * the request path, outages and dead instances make the verdict say "no", and nothing of a secret is
 * ever sent to Redis.
 */
import { readiness } from '@keyturn/rotation';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisFleet } from '../src/index.ts';
import {
  backend,
  client,
  counting,
  delivery,
  KINDS,
  loads,
  member,
  NEW,
  OLD,
  subscribed,
  until,
  V1,
  V2,
  type Member,
} from './fleet-helpers.ts';
import { inspector } from './helpers.ts';
import { startProxy, startRedis, type RedisServer } from './redis-server.ts';

let server: RedisServer;
let raw: Redis;

beforeAll(async () => {
  server = await startRedis();
  raw = await inspector(server.port);
});
afterAll(async () => {
  raw?.disconnect();
  await server?.stop();
});

const fast = { flushIntervalMs: 100, heartbeatMs: 200, staleAfterMs: 600, instanceTimeoutMs: 5_000 };

describe.each(KINDS)('redisFleet with %s', (kind) => {
  let prefix: string;
  let members: Member[] = [];
  const fleetOf = (extra = {}) => ({ prefix, ...fast, ...extra });

  async function three(b: ReturnType<typeof backend>, extra = {}, secretIds: readonly string[] = ['DS']): Promise<Member[]> {
    members = [];
    for (let i = 0; i < 3; i++)
      members.push(await member(await client(kind, server.port), b.store(), fleetOf({ instance: `r${i}`, ...extra }), secretIds));
    await subscribed(raw, prefix, 3);
    return members;
  }
  async function publisher() {
    const c = await client(kind, server.port);
    const fleet = redisFleet({ client: c.client, prefix });
    return { fleet, close: async () => (await fleet.close(), await c.close()) };
  }

  let n = 0;
  beforeAll(() => undefined);
  const fresh = () => {
    prefix = `t${++n}-${kind}:`;
  };
  const closeAll = async () => {
    await Promise.all(members.map((m) => m.close()));
    members = [];
  };

  it('a key change reaches every instance at once: reloaded from the store, verified with no refresh-on-miss', async () => {
    fresh();
    const b = backend();
    const ms = await three(b);
    const pub = await publisher();
    try {
      b.set(V2);
      await pub.fleet.publishChange('DS', { versionId: 'k2' });
      await until(() => ms.every((m) => loads(m, 'notice') === 1), 5_000, 'every instance reloaded');
      for (const m of ms) {
        expect(await m.verifier.verify(delivery(NEW))).toMatchObject({ keyId: 'k2', keyRole: 'active' });
        expect(await m.verifier.verify(delivery(OLD))).toMatchObject({ keyId: 'k1', keyRole: 'previous' });
        expect(m.events.filter((e) => e.type === 'refresh-on-miss')).toEqual([]);
        expect(m.store.calls).toBe(2); // the warm-up and the notice
        expect(m.events.find((e) => e.type === 'fleet-notice')).toMatchObject({
          fleet: 'redis',
          notice: 'key-changed',
          secretId: 'DS',
          held: true,
        });
      }
    } finally {
      await pub.close();
      await closeAll();
    }
  });

  it('a rotation fence: the deliveries that race the store write get 503 on every instance, then verify; forgeries never do', async () => {
    fresh();
    const b = backend();
    const ms = await three(b);
    const pub = await publisher();
    try {
      await pub.fleet.announceRotation('DS', { ttlMs: 60_000 });
      await until(
        () => ms.every((m) => m.events.some((e) => e.type === 'rotation-fence' && e.state === 'started')),
        5_000,
        'fence everywhere',
      );
      expect(Number(await raw.pttl(`${prefix}fence:{DS}`))).toBeGreaterThan(50_000);
      for (const m of ms) {
        const early = await m.verifier.safeVerify(delivery(NEW));
        expect(!early.ok && early.error).toMatchObject({ code: 'KEY_ROTATION_IN_PROGRESS', status: 503 });
        const forged = await m.verifier.safeVerify(delivery('whsec_' + '00'.repeat(32)));
        expect(!forged.ok && forged.error.code).toBe('KEY_ROTATION_IN_PROGRESS');
      }
      b.set(V2);
      await pub.fleet.publishChange('DS', { versionId: 'k2' });
      await until(
        () => ms.every((m) => m.events.some((e) => e.type === 'rotation-fence' && e.state === 'ended')),
        5_000,
        'fence ended everywhere',
      );
      expect(await raw.exists(`${prefix}fence:{DS}`)).toBe(0);
      for (const m of ms) {
        expect(await m.verifier.verify(delivery(NEW))).toMatchObject({ keyId: 'k2' });
        const forged = await m.verifier.safeVerify(delivery('whsec_' + '00'.repeat(32)));
        expect(!forged.ok && forged.error).toMatchObject({ code: 'NO_MATCHING_KEY', status: 401 });
      }
    } finally {
      await pub.close();
      await closeAll();
    }
  });

  it('an instance that starts while a fence stands learns it with its first flush (from the fence key)', async () => {
    fresh();
    const b = backend();
    const pub = await publisher();
    try {
      await pub.fleet.announceRotation('DS', { ttlMs: 60_000 });
      const late = await member(await client(kind, server.port), b.store(), fleetOf({ instance: 'late' }));
      members.push(late);
      await until(() => late.events.some((e) => e.type === 'rotation-fence' && e.state === 'started'), 5_000, 'fence from the key');
      const r = await late.verifier.safeVerify(delivery(NEW));
      expect(!r.ok && r.error.code).toBe('KEY_ROTATION_IN_PROGRESS');
    } finally {
      await pub.close();
      await closeAll();
    }
  });

  it('a missed notice without any reconnect shows as a sequence gap: every held secret is re-validated', async () => {
    fresh();
    const b = backend();
    const ms = await three(b);
    try {
      // Every instance has reported once (it knows the sequence number from then on).
      for (let i = 0; i < 200 && Object.keys(await raw.hgetall(`${prefix}{fleet}:instances`)).length < 3; i++)
        await new Promise((r) => setTimeout(r, 25));
      await new Promise((r) => setTimeout(r, 50));
      // A notice published while a subscriber was not listening: the sequence moved, nothing arrived.
      b.set(V2);
      await raw.incr(`${prefix}{fleet}:seq`);
      await until(() => ms.every((m) => loads(m, 'resync') === 1), 10_000, 'resync on every instance');
      for (const m of ms) expect(m.verifier.verifySync(delivery(NEW)).keyId).toBe('k2');
    } finally {
      await closeAll();
    }
  });

  it('malformed, unknown and oversized notices are ignored with an event; a notice about an unknown secret loads nothing', async () => {
    fresh();
    const b = backend();
    const ms = await three(b);
    try {
      const channel = `${prefix}notices`;
      await raw.publish(channel, 'not json at all');
      await raw.publish(channel, '{"v":2,"t":"key-changed","s":"DS","n":1}');
      await raw.publish(channel, '{"v":1,"t":"rekey-everything","s":"DS","n":2}');
      await raw.publish(channel, '{"v":1,"t":"key-changed","s":"","n":3}');
      await raw.publish(channel, '{"v":1,"t":"rotation-started","s":"DS","ttl":"forever","n":4}');
      await raw.publish(channel, 'x'.repeat(5_000));
      await raw.publish(channel, '{"v":1,"t":"key-changed","s":"made-up-tenant","n":5}');
      await until(
        () =>
          ms.every(
            (m) =>
              m.events.filter((e) => e.type === 'fleet-notice-ignored').length === 6 && m.events.some((e) => e.type === 'fleet-notice'),
          ),
        5_000,
        'notices',
      );
      for (const m of ms) {
        const reasons = m.events.flatMap((e) => (e.type === 'fleet-notice-ignored' ? [e.reason] : []));
        expect(reasons).toEqual(['malformed', 'unknown', 'unknown', 'malformed', 'malformed', 'too-large']);
        // The event never carries the message itself.
        expect(JSON.stringify(m.events)).not.toContain('rekey-everything');
        expect(m.store.calls).toBe(1);
        expect(m.verifier.secretIds()).toEqual(['DS']);
        expect(await m.verifier.verify(delivery(OLD))).toMatchObject({ keyId: 'k1' });
      }
    } finally {
      await closeAll();
    }
  });

  it('after the subscriber reconnects (Redis restarted), every held secret is re-validated; a notice lost meanwhile leaves no one on old keys', async () => {
    fresh();
    const b = backend();
    const ms = await three(b, {}, ['DS', 'prod/{dataspike}:x']);
    try {
      await server.kill();
      // The store changes while Redis is down: this notice is lost.
      b.set(V2);
      await server.start();
      await until(() => ms.every((m) => loads(m, 'resync') === 2), 15_000, 'every held secret re-validated');
      for (const m of ms) {
        expect(m.events.find((e) => e.type === 'fleet-resync')).toMatchObject({ secrets: 2 });
        expect(m.verifier.verifySync(delivery(NEW)).keyId).toBe('k2');
        expect(m.verifier.verifySync(delivery(NEW, 'prod/{dataspike}:x')).keyId).toBe('k2');
      }
      // Notices flow again.
      const pub = await publisher();
      b.set(V1);
      await pub.fleet.publishChange('DS');
      await until(() => ms.every((m) => loads(m, 'notice') === 1), 5_000, 'notices after the restart');
      await pub.close();
    } finally {
      await closeAll();
    }
  });

  it('the ledger sums every instance, with the latest match and role, counted off the request path', async () => {
    fresh();
    const b = backend(V2);
    const ms: Member[] = [];
    const counters: (() => number)[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await client(kind, server.port);
      const wrapped = counting(c.client);
      counters.push(wrapped.calls);
      // Long intervals: nothing flushes unless asked, so any command during the burst is the request path's.
      ms.push(
        await member(
          { client: wrapped.client, close: c.close },
          b.store(),
          fleetOf({ instance: `l${i}`, flushIntervalMs: 60_000, heartbeatMs: 60_000, staleAfterMs: 120_000, instanceTimeoutMs: 300_000 }),
        ),
      );
    }
    members = ms;
    try {
      for (const m of ms) await m.fleet.flush();
      const before = counters.map((c) => c());
      let newest = 0;
      for (const [i, m] of ms.entries()) {
        for (let j = 0; j < 50 * (i + 1); j++) await m.verifier.verify(delivery(NEW));
        for (let j = 0; j < 5; j++) {
          await m.verifier.verify(delivery(OLD));
          newest = Math.max(newest, Date.now());
        }
      }
      expect(counters.map((c) => c())).toEqual(before); // not one Redis command while verifying
      for (const m of ms) await m.fleet.flush();
      expect(counters.map((c, i) => c() - (before[i] as number))).toEqual([2, 2, 2]); // one ledger script + one report each
      const pub = await publisher();
      const snap = await pub.fleet.usage('DS');
      const k2 = snap.keys.find((k) => k.keyId === 'k2');
      const k1 = snap.keys.find((k) => k.keyId === 'k1');
      expect(k2).toMatchObject({ matches: 300, keyRole: 'active' });
      expect(k1).toMatchObject({ matches: 15, keyRole: 'previous' });
      expect(k1?.lastMatchedAt).toBeLessThanOrEqual(newest);
      expect(k1?.lastMatchedAt).toBeGreaterThan(newest - 5_000);
      expect(snap.since).toBeLessThanOrEqual(Date.now());
      expect(snap.instances).toHaveLength(3);
      expect(snap.missing).toEqual([]);
      const timeline = await pub.fleet.timeline('DS', { hours: 1 });
      const total = (id: string) => timeline.keys.find((k) => k.keyId === id)?.counts.reduce((a, x) => a + x, 0);
      expect([total('k2'), total('k1')]).toEqual([300, 15]);
      expect(timeline.stepMs).toBe(60_000);
      const verdict = readiness(snap, { quietMs: 60_000 }).verdicts[0];
      expect(verdict).toMatchObject({ safe: false, reason: 'recent-match' });
      await pub.close();
    } finally {
      await closeAll();
    }
  });

  it('Redis unreachable for one instance: it keeps verifying, the verdict says "no" while it is missing, and its counts arrive afterwards', async () => {
    fresh();
    const b = backend(V2);
    const proxy = await startProxy(server.port);
    const cut = await member(await client(kind, proxy.port), b.store(), fleetOf({ instance: 'cut' }));
    const ok = await member(await client(kind, server.port), b.store(), fleetOf({ instance: 'ok' }));
    members = [cut, ok];
    const pub = await publisher();
    try {
      await cut.verifier.verify(delivery(NEW));
      await ok.verifier.verify(delivery(NEW));
      await until(() => cut.fleet.pendingKeys === 0 && ok.fleet.pendingKeys === 0, 5_000, 'first flush');
      proxy.cut();
      // Verification goes on without Redis (replay is off here): old-key deliveries land on the cut instance.
      for (let i = 0; i < 20; i++) expect((await cut.verifier.verify(delivery(OLD))).keyId).toBe('k1');
      const lastOld = Date.now();
      await until(() => cut.fleet.pendingKeys > 0, 5_000, 'counts kept');
      await until(() => cut.events.some((e) => e.type === 'fleet-error' && e.operation === 'flush'), 5_000, 'flush error event');
      // A reader during the outage: the cut instance is missing, so no silence is claimed (quiet 0!).
      await new Promise((r) => setTimeout(r, fast.staleAfterMs + 300));
      const during = await pub.fleet.usage('DS');
      expect(during.missing?.map((m) => m.instance)).toEqual([cut.fleet.instanceId]);
      expect(readiness(during, { quietMs: 0 }).verdicts[0]).toMatchObject({ safe: false, reason: 'instances-missing' });
      proxy.heal();
      let after = await pub.fleet.usage('DS');
      const end = Date.now() + 10_000;
      while ((after.missing?.length ?? 0) > 0 && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 50));
        after = await pub.fleet.usage('DS');
      }
      expect(after.missing).toEqual([]);
      expect(after.keys.find((k) => k.keyId === 'k1')).toMatchObject({ matches: 20 });
      expect(after.keys.find((k) => k.keyId === 'k1')?.lastMatchedAt).toBeGreaterThan(lastOld - 5_000);
      expect(readiness(after, { quietMs: 60_000 }).verdicts[0]).toMatchObject({ safe: false, reason: 'recent-match' });
    } finally {
      await pub.close();
      await closeAll();
      await proxy.close();
    }
  });

  it('an instance that dies without flushing is presumed gone after the timeout: an evidence gap, so silence counts only from after it', async () => {
    fresh();
    const b = backend(V2);
    let clock = Date.now();
    const proxy = await startProxy(server.port);
    const dying = await member(
      await client(kind, proxy.port),
      b.store(),
      fleetOf({ instance: 'dying', now: () => clock }),
      ['DS'],
      () => clock,
    );
    members = [dying];
    const readerClient = await client(kind, server.port);
    const reader = redisFleet({ client: readerClient.client, ...fleetOf({ now: () => clock }) });
    try {
      await dying.verifier.verify(delivery(NEW));
      // Its periodic report (a live instance, not a drained one).
      await until(() => dying.fleet.pendingKeys === 0, 5_000, 'flushed');
      await dying.fleet.usage('DS');
      const lastReport = Number(String(await raw.hget(`${prefix}{fleet}:instances`, dying.fleet.instanceId)).split('|')[0]);
      expect(lastReport).toBe(clock);
      proxy.cut(); // it crashes: never reports again
      clock += fast.staleAfterMs + 100;
      let snap = await reader.usage('DS');
      expect(readiness(snap, { now: clock, quietMs: 1_000 }).verdicts[0]).toMatchObject({ safe: false, reason: 'instances-missing' });
      clock += fast.instanceTimeoutMs;
      snap = await reader.usage('DS');
      expect(readiness(snap, { now: clock, quietMs: 1_000 }).verdicts[0]).toMatchObject({ safe: false, reason: 'evidence-gap' });
      clock += 1_000;
      snap = await reader.usage('DS');
      expect(snap.missing).toEqual([]);
      expect(snap.gapUntil).toBe(lastReport + fast.instanceTimeoutMs);
      // Silence before the end of the gap is no evidence; after quietMs more it is.
      expect(readiness(snap, { now: clock, quietMs: 1_000_000 }).verdicts[0]).toMatchObject({ safe: false, reason: 'evidence-gap' });
      expect(readiness(snap, { now: clock, quietMs: 1_000 }).verdicts[0]).toMatchObject({ safe: true, reason: 'quiet' });
    } finally {
      await reader.close();
      await readerClient.close();
      await closeAll();
      await proxy.close();
    }
  });

  it('serverless: an explicit flush() marks the instance drained, so a frozen instance does not hold the verdict', async () => {
    fresh();
    const b = backend(V2);
    let clock = Date.now();
    const lambda = await member(
      await client(kind, server.port),
      b.store(),
      fleetOf({
        instance: 'lambda',
        now: () => clock,
        heartbeatMs: 60_000,
        flushIntervalMs: 60_000,
        staleAfterMs: 120_000,
        instanceTimeoutMs: 600_000,
      }),
      ['DS'],
      () => clock,
    );
    members = [lambda];
    const readerClient = await client(kind, server.port);
    const reader = redisFleet({
      client: readerClient.client,
      prefix,
      now: () => clock,
      staleAfterMs: 120_000,
      heartbeatMs: 60_000,
      instanceTimeoutMs: 600_000,
    });
    try {
      await lambda.verifier.verify(delivery(NEW, undefined, clock));
      await lambda.fleet.flush(); // the adapter does this before the invocation returns
      clock += 3_600_000; // frozen for an hour
      const snap = await reader.usage('DS');
      expect(snap.missing).toEqual([]);
      expect(snap.keys.find((k) => k.keyId === 'k2')).toMatchObject({ matches: 1 });
      expect(await raw.hget(`${prefix}{fleet}:instances`, lambda.fleet.instanceId)).toMatch(/^\d+\|d\|/);
      // Thawed: the next invocation's counts are written (by its own flush).
      await lambda.verifier.verify(delivery(NEW, undefined, clock));
      await lambda.fleet.flush();
      expect((await reader.usage('DS')).keys.find((k) => k.keyId === 'k2')).toMatchObject({ matches: 2 });
    } finally {
      await reader.close();
      await readerClient.close();
      await closeAll();
    }
  });

  it('nothing of a secret ever goes to Redis (every command watched with MONITOR)', async () => {
    fresh();
    const monitor = await raw.monitor();
    const lines: string[] = [];
    monitor.on('monitor', (_time: string, args: string[]) => lines.push(args.join(' ')));
    const b = backend();
    const ms = await three(b);
    const pub = await publisher();
    try {
      const replay = ms[0]!.fleet.replayStore();
      await pub.fleet.announceRotation('DS');
      b.set(V2);
      await pub.fleet.publishChange('DS', { versionId: 'k2' });
      await until(() => ms.every((m) => loads(m, 'notice') === 1), 5_000, 'reloads');
      for (const m of ms) {
        await m.verifier.verify(delivery(NEW));
        await m.verifier.verify(delivery(OLD));
        await m.fleet.flush();
      }
      expect(await replay.claim('dataspike:DS:evt_x', 1_000)).toBe(true);
      await pub.fleet.usage('DS');
      await pub.fleet.timeline('DS');
      await new Promise((r) => setTimeout(r, 200));
      const all = lines.join('\n');
      expect(all).toContain('HINCRBY'); // the ledger was written, and watched
      expect(all).toContain(`${prefix}replay:dataspike:DS:evt_x`);
      for (const secret of [OLD, NEW]) {
        const hex = secret.slice('whsec_'.length);
        for (const needle of [secret, hex, Buffer.from(hex, 'hex').toString('base64'), Buffer.from(hex, 'hex').toString('latin1')]) {
          for (let i = 0; i + 16 <= needle.length; i += 8) expect(all).not.toContain(needle.slice(i, i + 16));
        }
      }
    } finally {
      monitor.disconnect();
      await pub.close();
      await closeAll();
    }
  });
});
