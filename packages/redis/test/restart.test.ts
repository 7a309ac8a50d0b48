/**
 * Redis killed (SIGKILL) and restarted in the middle of a delivery stream: a sender that retries
 * every non-2xx answer, handlers that sometimes fail, and an attacker replaying accepted deliveries
 * to random instances. No event may be processed twice, none may be lost.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { delivery, instance, KINDS, pause, type Instance, type Kind } from './helpers.ts';
import { startRedis, type RedisServer } from './redis-server.ts';

const EVENTS = 48;
const CONCURRENCY = 6;

interface RunStats {
  processed: Map<string, number>;
  lost: string[];
  replaysAccepted: number;
  replaysRefused: number;
  unavailable: number;
  handlerFailures: number;
}

async function run(server: RedisServer, kinds: readonly Kind[], restart: boolean): Promise<RunStats> {
  const instances: Instance[] = [];
  for (let i = 0; i < 4; i++) {
    instances.push(await instance(kinds[i % kinds.length] as Kind, server.port, { commandTimeoutMs: 250, prefix: 'restart:' }));
  }
  const stats: RunStats = { processed: new Map(), lost: [], replaysAccepted: 0, replaysRefused: 0, unavailable: 0, handlerFailures: 0 };
  const accepted: ReturnType<typeof delivery>[] = [];
  let done = false;
  let pick = 0;
  const next = () => instances[pick++ % instances.length] as Instance;

  // The receiver: a handler that fails the first attempt of every 5th event (then the adapter releases).
  const failedOnce = new Set<string>();
  async function receive(req: ReturnType<typeof delivery>, id: string): Promise<number> {
    const r = await next().verifier.safeVerify(req);
    if (!r.ok) return r.error.status;
    if (Number(id.slice(4)) % 5 === 0 && !failedOnce.has(id)) {
      failedOnce.add(id);
      stats.handlerFailures++;
      await r.release?.();
      return 500;
    }
    stats.processed.set(id, (stats.processed.get(id) ?? 0) + 1);
    accepted.push(req);
    return 200;
  }

  // The sender: retries any non-2xx answer with a short backoff, up to a bound (about 22 s of retries:
  // real senders retry for hours; a loaded machine can keep a client reconnecting for several seconds,
  // and a claim whose release failed in the outage is freed only once its instance reaches Redis again).
  async function send(id: string): Promise<void> {
    const req = delivery(id);
    for (let attempt = 0; attempt < 400; attempt++) {
      const status = await receive(req, id);
      if (status >= 200 && status < 300) return;
      if (status === 503) stats.unavailable++;
      await pause(10 + Math.min(attempt, 10) * 5);
    }
    stats.lost.push(id);
  }

  // The attacker: replays accepted deliveries to random instances until the stream ends.
  async function attack(): Promise<void> {
    while (!done) {
      const req = accepted[Math.floor(Math.random() * accepted.length)];
      if (req !== undefined) {
        const r = await next().verifier.safeVerify(req);
        if (r.ok) stats.replaysAccepted++;
        else if (r.error.code === 'REPLAYED') stats.replaysRefused++;
      }
      await pause(2);
    }
  }

  const ids = Array.from({ length: EVENTS }, (_, i) => `evt_${i}`);
  const queue = [...ids];
  const workers = Array.from({ length: CONCURRENCY }, async () => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      await send(id);
      await pause(5);
    }
  });
  const attacker = attack();
  if (restart) {
    while (stats.processed.size < EVENTS / 3) await pause(5);
    const before = server.pid;
    await server.restart({ downMs: 300 });
    expect(server.pid).not.toBe(before);
  }
  await Promise.all(workers);
  // Replay everything once more after the restart.
  for (const req of accepted) {
    const r = await next().verifier.safeVerify(req);
    if (r.ok) stats.replaysAccepted++;
    else if (r.error.code === 'REPLAYED') stats.replaysRefused++;
  }
  done = true;
  await attacker;
  for (const i of instances) await i.close();
  return stats;
}

let server: RedisServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

describe('Redis restarted mid-run', () => {
  for (const kinds of [...KINDS.map((k) => [k] as const), KINDS]) {
    it(`no duplicate accepted and no delivery lost (${kinds.join(' + ')}, AOF fsync always)`, async () => {
      server = await startRedis({ persistent: true });
      const stats = await run(server, kinds, true);
      expect(stats.lost).toEqual([]);
      expect(stats.processed.size).toBe(EVENTS);
      expect([...stats.processed.values()].every((n) => n === 1)).toBe(true);
      expect(stats.replaysAccepted).toBe(0);
      expect(stats.replaysRefused).toBeGreaterThanOrEqual(EVENTS);
      expect(stats.handlerFailures).toBe(10);
      expect(stats.unavailable).toBeGreaterThan(0); // the outage really happened mid-run
    }, 90_000);
  }

  it('without persistence a restart forgets the claims: replays of earlier deliveries get through', async () => {
    server = await startRedis({ persistent: false });
    const one = await instance('ioredis', server.port, { prefix: 'volatile:' });
    try {
      const req = delivery('evt_volatile');
      expect((await one.verifier.safeVerify(req)).ok).toBe(true);
      expect((await one.verifier.safeVerify(req)).ok).toBe(false);
      await server.restart({ downMs: 50 });
      let r = await one.verifier.safeVerify(req);
      for (let i = 0; i < 50 && !r.ok && r.error.code === 'KEYSTORE_UNAVAILABLE'; i++) {
        await pause(50);
        r = await one.verifier.safeVerify(req);
      }
      expect(r.ok).toBe(true); // documented in docs/multi-instance.md: enable AOF or replicas
    } finally {
      await one.close();
    }
  }, 30_000);
});
