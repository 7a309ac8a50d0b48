import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { redisReplayStore, RedisReplayStoreError, RELEASE_SCRIPT, type RedisCommands } from '../src/index.ts';
import { connect, delivery, inspector, instance, KINDS, type Instance } from './helpers.ts';
import { startRedis, type RedisServer } from './redis-server.ts';

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

describe.each(KINDS)('redisReplayStore with %s', (kind) => {
  it('claims with SET NX PX: once, with the TTL, under the prefix', async () => {
    const { client, close } = await connect(kind, server.port);
    try {
      const store = redisReplayStore({ client, prefix: `${kind}:a:` });
      expect(await store.claim('dataspike:default:evt_1', 60_000)).toBe(true);
      expect(await store.claim('dataspike:default:evt_1', 60_000)).toBe(false);
      const pttl = await raw.pttl(`${kind}:a:dataspike:default:evt_1`);
      expect(pttl).toBeGreaterThan(59_000);
      expect(pttl).toBeLessThanOrEqual(60_000);
      // A second process sharing the Redis sees the claim.
      const other = await connect(kind, server.port);
      expect(await redisReplayStore({ client: other.client, prefix: `${kind}:a:` }).claim('dataspike:default:evt_1', 60_000)).toBe(false);
      await other.close();
    } finally {
      await close();
    }
  });

  it('keys expire on the server', async () => {
    const { client, close } = await connect(kind, server.port);
    try {
      const store = redisReplayStore({ client, prefix: `${kind}:exp:` });
      expect(await store.claim('k', 150)).toBe(true);
      const pttl = await raw.pttl(`${kind}:exp:k`);
      expect(pttl === -2 || (pttl > 0 && pttl <= 150)).toBe(true); // -2: already expired on a slow machine
      // Redis expires on its own clock: poll (bounded) until the key is gone.
      const deadline = Date.now() + 3_000;
      while ((await raw.exists(`${kind}:exp:k`)) === 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(await raw.exists(`${kind}:exp:k`)).toBe(0);
      expect(await store.claim('k', 150)).toBe(true);
    } finally {
      await close();
    }
  });

  it('release deletes only its own claim (not one made after expiry by someone else)', async () => {
    const a = await connect(kind, server.port);
    const b = await connect(kind, server.port);
    try {
      const storeA = redisReplayStore({ client: a.client, prefix: `${kind}:rel:` });
      const storeB = redisReplayStore({ client: b.client, prefix: `${kind}:rel:` });
      expect(await storeA.claim('k', 60_000)).toBe(true);
      await storeA.release('k');
      expect(await raw.exists(`${kind}:rel:k`)).toBe(0);
      await storeA.release('k'); // idempotent
      // A's claim expires (simulated with DEL) and B claims the key; A's late release must not free it.
      expect(await storeA.claim('k', 60_000)).toBe(true);
      await raw.del(`${kind}:rel:k`);
      expect(await storeB.claim('k', 60_000)).toBe(true);
      const holder = await raw.get(`${kind}:rel:k`);
      await storeA.release('k');
      expect(await raw.get(`${kind}:rel:k`)).toBe(holder);
      expect(await storeA.claim('k', 60_000)).toBe(false);
      // B never claimed 'other': releasing it is a no-op, even if the key exists.
      await raw.set(`${kind}:rel:other`, 'someone-else', 'PX', 60_000);
      await storeB.release('other');
      expect(await raw.get(`${kind}:rel:other`)).toBe('someone-else');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('100 parallel deliveries of one event across 4 verifier instances: exactly one accepted', async () => {
    const instances: Instance[] = [];
    for (let i = 0; i < 4; i++) instances.push(await instance(kind, server.port, { prefix: `${kind}:burst:` }));
    try {
      const req = delivery('evt_burst');
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => (instances[i % 4] as Instance).verifier.safeVerify(req)));
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.filter((r) => !r.ok && r.error.code === 'REPLAYED' && r.error.status === 409)).toHaveLength(99);
      expect(await raw.exists(`${kind}:burst:dataspike:default:evt_burst`)).toBe(1);
    } finally {
      for (const i of instances) await i.close();
    }
  });

  it('a failed handler releases its claim: the retry on another instance is accepted, a replay is not', async () => {
    const one = await instance(kind, server.port, { prefix: `${kind}:retry:` });
    const two = await instance(kind, server.port, { prefix: `${kind}:retry:` });
    try {
      const req = delivery('evt_retry');
      const first = await one.verifier.verify(req);
      expect(first.replayKey).toBe('dataspike:default:evt_retry');
      await first.release?.(); // the handler threw
      const retry = await two.verifier.verify(req);
      await expect(one.verifier.verify(req)).rejects.toMatchObject({ code: 'REPLAYED' });
      await expect(two.verifier.verify(req)).rejects.toMatchObject({ code: 'REPLAYED' });
      expect(retry.eventId).toBe('evt_retry');
    } finally {
      await one.close();
      await two.close();
    }
  });
});

describe('mixed clients and adapters', () => {
  it('ioredis and node-redis instances share claims', async () => {
    const io = await instance('ioredis', server.port, { prefix: 'mixed:' });
    const nr = await instance('node-redis', server.port, { prefix: 'mixed:' });
    try {
      const req = delivery('evt_mixed');
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? io : nr).verifier.safeVerify(req)));
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      const winner = results.find((r) => r.ok);
      await winner?.release?.();
      expect((await io.verifier.safeVerify(req)).ok).toBe(true);
      expect((await nr.verifier.safeVerify(req)).ok).toBe(false);
    } finally {
      await io.close();
      await nr.close();
    }
  });

  it('accepts a RedisCommands adapter', async () => {
    const r = await inspector(server.port);
    try {
      const adapter: RedisCommands = {
        setNxPx: async (k, v, ttl) => (await r.set(k, v, 'PX', ttl, 'NX')) === 'OK',
        getValue: (k) => r.get(k),
        delIfEquals: async (k, v) => (await r.eval(RELEASE_SCRIPT, 1, k, v)) === 1,
      };
      const store = redisReplayStore({ client: adapter, prefix: 'adapter:' });
      expect(await store.claim('k', 10_000)).toBe(true);
      expect(await store.claim('k', 10_000)).toBe(false);
      await store.release('k');
      expect(await store.claim('k', 10_000)).toBe(true);
    } finally {
      r.disconnect();
    }
  });

  it('a SET of ours resent after a reconnect (NX refused, key holds our token) is our claim', async () => {
    const r = await inspector(server.port);
    try {
      // The first SET lands but its reply is lost; the client resends it and gets NX-refused.
      const resending: RedisCommands = {
        setNxPx: async (k, v, ttl) => {
          await r.set(k, v, 'PX', ttl, 'NX');
          return (await r.set(k, v, 'PX', ttl, 'NX')) === 'OK';
        },
        getValue: (k) => r.get(k),
        delIfEquals: async (k, v) => (await r.eval(RELEASE_SCRIPT, 1, k, v)) === 1,
      };
      const store = redisReplayStore({ client: resending, prefix: 'resend:' });
      expect(await store.claim('k', 10_000)).toBe(true);
      expect(await store.claim('k', 10_000)).toBe(false);
      await store.release('k');
      expect(await r.exists('resend:k')).toBe(0);
    } finally {
      r.disconnect();
    }
  });

  it('a claim whose outcome is unknown (timeout) is cleaned up once Redis answers again', async () => {
    const r = await inspector(server.port);
    try {
      let stall: Promise<void> | undefined;
      let unstall = () => {};
      // SET is executed on the server, but its reply only arrives after the command timeout.
      const slow: RedisCommands = {
        setNxPx: async (k, v, ttl) => {
          const ok = (await r.set(k, v, 'PX', ttl, 'NX')) === 'OK';
          if (stall !== undefined) await stall;
          return ok;
        },
        getValue: (k) => r.get(k),
        delIfEquals: async (k, v) => {
          if (stall !== undefined) await stall;
          return (await r.eval(RELEASE_SCRIPT, 1, k, v)) === 1;
        },
      };
      const store = redisReplayStore({ client: slow, prefix: 'uncertain:', commandTimeoutMs: 50 });
      stall = new Promise((res) => (unstall = res));
      await expect(store.claim('k', 60_000)).rejects.toMatchObject({ name: 'RedisReplayStoreError', reason: 'timeout' });
      expect(await r.exists('uncertain:k')).toBe(1); // the orphan a retry would trip over
      expect(store.pendingCleanups).toBe(1);
      stall = undefined;
      unstall();
      await store.flush();
      expect(store.pendingCleanups).toBe(0);
      expect(await r.exists('uncertain:k')).toBe(0);
      expect(await store.claim('k', 60_000)).toBe(true); // the sender's retry is accepted
    } finally {
      r.disconnect();
    }
  });

  it('rejects what is not a client, with a clear TypeError', () => {
    expect(() => redisReplayStore({ client: {} as never })).toThrow(/set\/get\/eval/);
    expect(() => redisReplayStore({ client: { set() {}, get() {}, eval() {} } as never })).toThrow(/unrecognised client/);
    expect(() => redisReplayStore(undefined as never)).toThrow(TypeError);
    expect(() => redisReplayStore({ client: raw, commandTimeoutMs: 0 })).toThrow(TypeError);
  });
});

describe('Redis unavailable', () => {
  it('fail-closed: 503 KEYSTORE_UNAVAILABLE within the command timeout; fail-open: accepted with an event', async () => {
    const down = await startRedis();
    const closed = await instance('ioredis', down.port, { commandTimeoutMs: 200 });
    const open = await instance('node-redis', down.port, { commandTimeoutMs: 200, failOpen: true });
    try {
      await down.kill();
      const started = Date.now();
      const err = await closed.verifier.verify(delivery('evt_down')).catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(err).toMatchObject({ code: 'KEYSTORE_UNAVAILABLE', status: 503 });
      expect((err as Error).cause).toBeInstanceOf(RedisReplayStoreError);
      expect(closed.events).toMatchObject([{ type: 'replay-store-error', store: 'redis', operation: 'claim', outcome: 'rejected' }]);
      const ok = await open.verifier.verify(delivery('evt_down'));
      expect(ok.eventId).toBe('evt_down');
      expect(open.events).toMatchObject([{ type: 'replay-store-error', store: 'redis', outcome: 'accepted-unprotected' }]);
      // Back up: the refused delivery is retried and accepted (nothing of it was left claimed).
      await down.start();
      let retried = await closed.verifier.safeVerify(delivery('evt_down'));
      for (let i = 0; i < 50 && !retried.ok && retried.error.code === 'KEYSTORE_UNAVAILABLE'; i++) {
        await new Promise((r) => setTimeout(r, 50));
        retried = await closed.verifier.safeVerify(delivery('evt_down'));
      }
      expect(retried.ok).toBe(true);
    } finally {
      await closed.close();
      await open.close();
      await down.stop();
    }
  });
});
