/**
 * Fleet test helpers: a shared key backend (what AWS or GCP would be: one content, a store object per
 * instance), instances that each have their own Redis connection, fleet and verifier, and waits on events.
 */
import { createVerifier, providers, sign, type KeyStore, type KeyturnEvent, type SecretVersion, type Verifier } from '@keyturn/core';
import { Cluster, Redis } from 'ioredis';
import { createClient, createCluster } from 'redis';
import { redisFleet, type RedisFleet, type RedisFleetOptions } from '../src/index.ts';

export const provider = providers.dataspike();
export const OLD = 'whsec_' + '1a2b3c4d'.repeat(8);
export const NEW = 'whsec_' + '9f8e7d6c'.repeat(8);
export const V1: SecretVersion[] = [{ id: 'k1', role: 'active', secret: OLD }];
export const V2: SecretVersion[] = [
  { id: 'k2', role: 'active', secret: NEW },
  { id: 'k1', role: 'previous', secret: OLD },
];

/** One content for every instance; each instance gets its own store object counting its calls. */
export function backend(initial: SecretVersion[] = V1) {
  const state = { versions: new Map<string, SecretVersion[]>() };
  const ids = ['DS', 'prod/{dataspike}:x'];
  for (const id of ids) state.versions.set(id, initial);
  return {
    set(versions: SecretVersion[], secretId?: string) {
      for (const id of secretId === undefined ? [...state.versions.keys()] : [secretId]) state.versions.set(id, versions);
    },
    store(): KeyStore & { calls: number } {
      const s = {
        name: 'shared',
        calls: 0,
        async getVersions(secretId: string) {
          s.calls++;
          await new Promise((r) => setTimeout(r, 2));
          const v = state.versions.get(secretId);
          if (v === undefined) throw new Error('unknown secret');
          return v.map((x) => ({ ...x }));
        },
      };
      return s;
    },
  };
}

export type Kind = 'ioredis' | 'node-redis';
export const KINDS: readonly Kind[] = ['ioredis', 'node-redis'];

/** A client of `kind` to `port` (reconnecting fast), with a close function. */
export async function client(
  kind: Kind,
  port: number,
): Promise<{ client: Redis | ReturnType<typeof createClient>; close(): Promise<void> }> {
  if (kind === 'ioredis') {
    const c = new Redis({
      host: '127.0.0.1',
      port,
      retryStrategy: () => 50,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
    });
    c.on('error', () => undefined);
    await c.connect();
    return { client: c, close: async () => c.disconnect() };
  }
  const c = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: () => 50 }, disableOfflineQueue: true });
  c.on('error', () => undefined);
  await c.connect();
  return { client: c, close: async () => void c.destroy() };
}

/** A cluster client of `kind`. */
export async function clusterClient(
  kind: Kind,
  ports: readonly number[],
): Promise<{ client: Cluster | ReturnType<typeof createCluster>; close(): Promise<void> }> {
  if (kind === 'ioredis') {
    const c = new Cluster(
      ports.map((port) => ({ host: '127.0.0.1', port })),
      { clusterRetryStrategy: () => 50 },
    );
    c.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      c.once('ready', () => resolve());
      c.once('error', reject);
    });
    return { client: c, close: async () => c.disconnect() };
  }
  const c = createCluster({ rootNodes: ports.map((p) => ({ url: `redis://127.0.0.1:${p}` })) });
  c.on('error', () => undefined);
  await c.connect();
  return { client: c, close: async () => void (await c.close()) };
}

/** One receiver instance. */
export interface Member {
  readonly fleet: RedisFleet;
  readonly verifier: Verifier;
  readonly store: KeyStore & { calls: number };
  readonly events: KeyturnEvent[];
  close(): Promise<void>;
}

export async function member(
  c: { client: unknown; close(): Promise<void> },
  store: KeyStore & { calls: number },
  fleetOptions: Partial<RedisFleetOptions> = {},
  secretIds: readonly string[] = ['DS'],
  verifierNow?: () => number,
): Promise<Member> {
  const events: KeyturnEvent[] = [];
  const fleet = redisFleet({ client: c.client as object, ...fleetOptions });
  const verifier = createVerifier({
    provider,
    keys: store,
    secretId: 'DS',
    fleet,
    onEvent: (e) => events.push(e),
    ...(verifierNow === undefined ? {} : { now: verifierNow }),
  });
  for (const id of secretIds) await verifier.warm(id);
  return {
    fleet,
    verifier,
    store,
    events,
    async close() {
      await verifier.dispose();
      await fleet.close();
      await c.close();
    },
  };
}

/** Waits until `pred()` holds (polling every 10 ms), or throws after `ms`. */
export async function until(pred: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Completed loads of `m` for `reason` (`notice`, `resync`, ...). */
export const loads = (m: Member, reason: string) => m.events.filter((e) => e.type === 'load-success' && e.reason === reason).length;

let seq = 0;
/** A signed Dataspike delivery (a fresh event id each time). */
export function delivery(secret: string, secretId?: string, at?: number) {
  const body = JSON.stringify({ id: `evt_${++seq}`, type: 'check.completed' });
  const timestamp = at === undefined ? undefined : Math.floor(at / 1000);
  return {
    body,
    headers: sign(provider, { body, secret, ...(timestamp === undefined ? {} : { timestamp }) }),
    ...(secretId === undefined ? {} : { secretId }),
  };
}

/** Waits until `count` connections are subscribed to the channel under `prefix`. */
export async function subscribed(raw: { pubsub(...args: string[]): Promise<unknown> }, prefix: string, count: number): Promise<void> {
  const channel = `${prefix}notices`;
  const end = Date.now() + 10_000;
  for (;;) {
    const reply = (await raw.pubsub('NUMSUB', channel)) as [string, number];
    if (Number(reply[1]) >= count) return;
    if (Date.now() > end) throw new Error(`only ${reply[1]} of ${count} subscribers on ${channel}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A client wrapper counting every command the fleet sends (the real client underneath). */
export function counting<T extends object>(inner: T): { client: T; calls: () => number } {
  let n = 0;
  const client = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if ((prop === 'eval' || prop === 'publish') && typeof value === 'function') {
        return (...args: unknown[]) => {
          n++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { client, calls: () => n };
}
