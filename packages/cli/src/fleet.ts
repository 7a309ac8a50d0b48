/**
 * `--redis-url`: the CLI as a member of a Redis fleet's publishing side. `rotate dataspike` announces a
 * rotation fence before Dataspike's rotate call and a key-change notice after the store write; `keys
 * add` / `keys retire` publish one after theirs; `status` and `keys retire` read the fleet-wide ledger.
 * One flag table and one `openFleet()`, shared by those commands.
 *
 * @module
 */
import type { RedisFleet } from '@keyturn/redis';
import type { UsageTimeline } from '@keyturn/core';
import { parseDuration, readSecretFlag, type CliIo } from './common.ts';
import { CliError, EXIT, UsageError } from './exit.ts';
import type { FlagTable } from './flags.ts';

/** The `--redis-*` flags (a command's `[title, flags]` group is {@link FLEET_GROUP}). */
export const FLEET_FLAGS: FlagTable = {
  'redis-url': {
    type: 'string',
    arg: 'URL',
    help: 'redis://HOST:PORT[/DB] or rediss:// (TLS); a user name may be in it, a password never',
  },
  'redis-password-env': { type: 'string', arg: 'NAME', help: 'The Redis password, from environment variable NAME' },
  'redis-password-file': { type: 'string', arg: 'PATH', help: '... or from a file (one trailing newline dropped)' },
  'redis-prefix': {
    type: 'string',
    arg: 'PREFIX',
    help: "The fleet's key and channel prefix (default keyturn:; the receivers' redisFleet({ prefix }))",
  },
};

/** The flag group, as a command lists it (beside `'store'`): its help title and its table. */
export const FLEET_GROUP: [title: string, flags: FlagTable] = ['Fleet on Redis (every instance at once):', FLEET_FLAGS];

/** An open fleet and how to close it (the fleet, then the connection). */
export interface OpenedFleet {
  readonly fleet: RedisFleet;
  /** The flags that open it again (for printed follow-up commands; never the password). */
  readonly flags: string;
  close(): Promise<void>;
}

type Values = Record<string, unknown>;

async function importIfInstalled<T>(name: string): Promise<T | undefined> {
  try {
    return (await import(name)) as T;
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw err;
  }
}

/**
 * Opens the fleet named by `--redis-url` (ioredis when installed, else node-redis), or `undefined`
 * without the flag. A Redis that cannot be reached is a {@link CliError} (exit 35); the caller decides
 * whether that stops the command.
 */
export async function openFleet(io: CliIo, values: Values): Promise<OpenedFleet | undefined> {
  const raw = values['redis-url'] as string | undefined;
  if (raw === undefined) {
    for (const f of ['redis-prefix', 'redis-password-env', 'redis-password-file']) {
      if (values[f] !== undefined) throw new UsageError(`--${f} needs --redis-url URL`);
    }
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--redis-url: "${raw}" is not a URL (redis://host:6379)`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
    throw new UsageError(`--redis-url: ${url.protocol}// is not redis:// or rediss://`);
  if (url.password !== '') {
    throw new UsageError(
      '--redis-url: a password does not belong in the URL (a command line is visible to every user in `ps`); use --redis-password-env NAME or --redis-password-file PATH',
    );
  }
  const password = await readSecretFlag(io, values, 'redis-password', { required: false });
  const prefix = values['redis-prefix'] as string | undefined;
  const where = `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
  const { redisFleet } = await import('@keyturn/redis');
  const connectTimeout = 5_000;

  let client: object;
  let quit: () => Promise<void>;
  const ioredis = await importIfInstalled<typeof import('ioredis')>('ioredis');
  if (ioredis !== undefined) {
    const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
    const c = new ioredis.Redis({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port === '' ? 6379 : Number(url.port),
      db: Number.isInteger(db) ? db : 0,
      ...(url.username === '' ? {} : { username: decodeURIComponent(url.username) }),
      ...(password === undefined ? {} : { password }),
      ...(url.protocol === 'rediss:' ? { tls: { servername: url.hostname } } : {}),
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout,
      retryStrategy: (times: number) => (times > 2 ? null : 200),
    });
    c.on('error', () => undefined);
    try {
      await c.connect();
    } catch (err) {
      c.disconnect();
      throw unreachable(where, err);
    }
    client = c;
    quit = async () => {
      await c.quit().catch(() => c.disconnect());
    };
  } else {
    const nodeRedis = await importIfInstalled<typeof import('redis')>('redis');
    if (nodeRedis === undefined) throw new UsageError('--redis-url needs a Redis client: npm install ioredis (or redis)');
    const c = nodeRedis.createClient({
      url: raw,
      ...(password === undefined ? {} : { password }),
      disableOfflineQueue: true,
      socket: { connectTimeout, reconnectStrategy: (retries: number) => (retries > 2 ? false : 200) },
    });
    c.on('error', () => undefined);
    try {
      await c.connect();
    } catch (err) {
      throw unreachable(where, err);
    }
    client = c;
    quit = async () => {
      await c.close().catch(() => c.destroy());
    };
  }
  const fleet = redisFleet({ client, instance: 'keyturn-cli', ...(prefix === undefined ? {} : { prefix }) });
  let flags = `--redis-url ${where}`;
  if (prefix !== undefined) flags += ` --redis-prefix ${prefix}`;
  if (values['redis-password-env'] !== undefined) flags += ` --redis-password-env ${String(values['redis-password-env'])}`;
  if (values['redis-password-file'] !== undefined) flags += ` --redis-password-file ${String(values['redis-password-file'])}`;
  return {
    fleet,
    flags,
    async close() {
      await fleet.close();
      await quit();
    },
  };
}

function unreachable(where: string, err: unknown): CliError {
  const code = (err as { code?: unknown } | null)?.code;
  return new CliError(
    `--redis-url ${where}: cannot be reached (${typeof code === 'string' ? code : err instanceof Error ? err.message : 'error'})`,
    EXIT.USAGE_UNREACHABLE,
  );
}

/** `--fence-ttl`: how long a rotation fence stands (default 2 min). */
export function fenceTtlOf(values: Values): number | undefined {
  const v = values['fence-ttl'] as string | undefined;
  if (v === undefined) return undefined;
  const ms = parseDuration(v, '--fence-ttl');
  if (ms < 1_000 || ms > 3_600_000) throw new UsageError('--fence-ttl must be from 1s to 1h');
  return ms;
}

const BARS = ' ▁▂▃▄▅▆▇█';

/**
 * A small terminal chart of matches per key over time: one row per key, one column per bucket of
 * minutes (at most `width` columns), bars scaled to the busiest bucket.
 */
export function timelineChart(timeline: UsageTimeline, labels: ReadonlyMap<string, string>, width = 60): string {
  const minutes = timeline.keys[0]?.counts.length ?? 0;
  if (minutes === 0 || timeline.keys.every((k) => k.counts.every((c) => c === 0))) return 'matches per key: none recorded in this period\n';
  const per = Math.max(1, Math.ceil(minutes / width));
  const columns = Math.ceil(minutes / per);
  const buckets = timeline.keys.map((k) => {
    const out = new Array<number>(columns).fill(0);
    k.counts.forEach((c, i) => {
      const b = Math.floor(i / per);
      out[b] = (out[b] ?? 0) + c;
    });
    return out;
  });
  const max = Math.max(1, ...buckets.flat());
  const name = (keyId: string) => `${keyId}${labels.has(keyId) ? ` (${labels.get(keyId)})` : ''}`;
  const pad = Math.max(...timeline.keys.map((k) => name(k.keyId).length));
  const rows = timeline.keys.map((k, i) => {
    const bars = (buckets[i] ?? []).map((c) => (c === 0 ? BARS[0] : BARS[Math.max(1, Math.round((c / max) * 8))])).join('');
    const total = k.counts.reduce((a, c) => a + c, 0);
    return `  ${name(k.keyId).padEnd(pad)}  ${bars}  ${total}`;
  });
  const from = new Date(timeline.from).toISOString().slice(11, 16);
  const to = new Date(timeline.from + minutes * timeline.stepMs).toISOString().slice(11, 16);
  const axis = `  ${''.padEnd(pad)}  ${from}${to.padStart(Math.max(to.length, columns - from.length))}`;
  return `matches per key, ${from}–${to} UTC (one column = ${per} min, full bar = ${max}):\n${rows.join('\n')}\n${axis}\n`;
}
