/**
 * redisFleet on a real three-node Redis cluster (`redis-server --cluster-enabled yes`, joined with
 * `redis-cli --cluster create`), with ioredis `Cluster` and node-redis `createCluster`: every script
 * touches one hash slot, notices reach subscribers on any node, fences, the ledger and replay claims work.
 */
import { readiness } from '@keyturn/rotation';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisFleet } from '../src/index.ts';
import { backend, clusterClient, delivery, KINDS, loads, member, NEW, OLD, until, V2, type Member } from './fleet-helpers.ts';
import { startCluster, type RedisCluster } from './redis-server.ts';

let cluster: RedisCluster;
beforeAll(async () => {
  cluster = await startCluster();
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

describe.each(KINDS)('redisFleet on a cluster with %s', (kind) => {
  it('notices, fences, the ledger and replay claims, for secrets on different slots', async () => {
    const prefix = `c-${kind}:`;
    const b = backend();
    const ids = ['DS', 'prod/{dataspike}:x'];
    const fast = { prefix, flushIntervalMs: 100, heartbeatMs: 200, staleAfterMs: 2_000, instanceTimeoutMs: 10_000 };
    const ms: Member[] = [];
    for (let i = 0; i < 2; i++)
      ms.push(await member(await clusterClient(kind, cluster.ports), b.store(), { ...fast, instance: `n${i}` }, ids));
    const pubClient = await clusterClient(kind, cluster.ports);
    const pub = redisFleet({ client: pubClient.client, prefix });
    const node = new Redis({ port: cluster.ports[0], lazyConnect: true });
    await node.connect();
    try {
      // Wait for both subscribers (classic pub/sub reaches subscribers on every node).
      for (let i = 0; i < 200; i++) {
        const counts = await Promise.all(
          cluster.ports.map(async (port) => {
            const r = new Redis({ port, lazyConnect: true });
            await r.connect();
            const [, n] = (await r.pubsub('NUMSUB', `${prefix}notices`)) as [string, number];
            r.disconnect();
            return Number(n);
          }),
        );
        if (counts.reduce((a, x) => a + x, 0) >= 2) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      // Keys of one secret share a slot; the two secrets are on different slots.
      const slot = async (key: string) => Number(await node.cluster('KEYSLOT', key));
      expect(await slot(`${prefix}usage:{DS}`)).toBe(await slot(`${prefix}fence:{DS}`));
      expect(await slot(`${prefix}usage:{DS}`)).not.toBe(await slot(`${prefix}usage:{prod%2F%7Bdataspike%7D%3Ax}`));

      for (const id of ids) await pub.announceRotation(id, { ttlMs: 30_000 });
      await until(
        () => ms.every((m) => m.events.filter((e) => e.type === 'rotation-fence' && e.state === 'started').length >= 2),
        10_000,
        'fences',
      );
      for (const m of ms) {
        const r = await m.verifier.safeVerify(delivery(NEW, 'prod/{dataspike}:x'));
        expect(!r.ok && r.error.code).toBe('KEY_ROTATION_IN_PROGRESS');
      }
      b.set(V2);
      for (const id of ids) await pub.publishChange(id, { versionId: 'k2' });
      await until(() => ms.every((m) => loads(m, 'notice') >= 2), 10_000, 'reloads');
      for (const m of ms) {
        for (const id of ids) {
          expect((await m.verifier.verify(delivery(NEW, id))).keyId).toBe('k2');
          expect((await m.verifier.verify(delivery(OLD, id))).keyId).toBe('k1');
        }
        await m.fleet.flush();
      }
      for (const id of ids) {
        const snap = await pub.usage(id);
        expect(snap.keys.find((k) => k.keyId === 'k2')).toMatchObject({ matches: 2, keyRole: 'active' });
        expect(snap.keys.find((k) => k.keyId === 'k1')).toMatchObject({ matches: 2, keyRole: 'previous' });
        expect(snap.instances).toHaveLength(2);
        expect(readiness(snap, { quietMs: 60_000 }).verdicts[0]).toMatchObject({ safe: false, reason: 'recent-match' });
        const t = await pub.timeline(id, { hours: 1 });
        expect(t.keys.find((k) => k.keyId === 'k2')?.counts.reduce((a, x) => a + x, 0)).toBe(2);
      }
      const replay = ms[0]!.fleet.replayStore();
      const other = ms[1]!.fleet.replayStore();
      expect(await replay.claim('dataspike:DS:evt_cluster', 10_000)).toBe(true);
      expect(await other.claim('dataspike:DS:evt_cluster', 10_000)).toBe(false);
    } finally {
      node.disconnect();
      await pub.close();
      await pubClient.close();
      for (const m of ms) await m.close();
    }
  });
});
