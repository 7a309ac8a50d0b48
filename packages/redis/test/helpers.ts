import { createVerifier, providers, sign, type KeyturnEvent, type Verifier } from '@keyturn/core';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { redisReplayStore, type RedisReplayStore, type RedisReplayStoreOptions } from '../src/index.ts';

export const T0 = 1_700_000_000_000;
export const SECRET = 'whsec_' + 'ab'.repeat(32);
export const provider = providers.dataspike();

export type Kind = 'ioredis' | 'node-redis';
export const KINDS: readonly Kind[] = ['ioredis', 'node-redis'];

/** A connected client of `kind`, reconnecting quickly, with errors swallowed (they surface as command failures). */
export async function connect(kind: Kind, port: number): Promise<{ client: RedisReplayStoreOptions['client']; close(): Promise<void> }> {
  if (kind === 'ioredis') {
    const client = new Redis({ host: '127.0.0.1', port, retryStrategy: () => 25, lazyConnect: true });
    client.on('error', () => undefined);
    await client.connect();
    return { client, close: async () => client.disconnect() };
  }
  const client = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: () => 25 } });
  client.on('error', () => undefined);
  await client.connect();
  return { client, close: async () => client.destroy() };
}

/** A plain ioredis connection to inspect the server (GET, PTTL, DEL). */
export async function inspector(port: number): Promise<Redis> {
  const r = new Redis({ host: '127.0.0.1', port, retryStrategy: () => 25, lazyConnect: true });
  r.on('error', () => undefined);
  await r.connect();
  return r;
}

/** One verifier instance (its own Redis connection), as behind a load balancer. */
export interface Instance {
  readonly verifier: Verifier;
  readonly store: RedisReplayStore;
  readonly events: KeyturnEvent[];
  close(): Promise<void>;
}

export async function instance(
  kind: Kind,
  port: number,
  options: { failOpen?: boolean; commandTimeoutMs?: number; prefix?: string } = {},
): Promise<Instance> {
  const { client, close } = await connect(kind, port);
  const store = redisReplayStore({ client, commandTimeoutMs: options.commandTimeoutMs ?? 1_000, prefix: options.prefix ?? 'test:' });
  const events: KeyturnEvent[] = [];
  const verifier = createVerifier({
    provider,
    keys: [{ id: 'k1', secret: SECRET, role: 'active' }],
    now: () => T0,
    onEvent: (e) => events.push(e),
    replay: { store, failOpen: options.failOpen ?? false },
  });
  return { verifier, store, events, close };
}

/** A signed Dataspike delivery of event `id`. */
export function delivery(id: string, extra = ''): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify({ id, type: 'check.completed', extra });
  return { body, headers: sign(provider, { body, secret: SECRET, timestamp: T0 / 1000 }) };
}

export const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
