/**
 * A keyturn replay store on Redis, shared by every instance behind a load balancer: a claim is
 * `SET key token NX PX ttl`, a release deletes the key only while it still holds this claim's token.
 * Works with the client you already use: ioredis (4+) or node-redis (`redis` 4+), or any client
 * through a three-method adapter.
 *
 * @module
 */
import type { ReplayStore } from '@keyturn/core';
import { LRUCache } from 'lru-cache';

/** The ioredis methods used (an `ioredis` `Redis` or `Cluster`). */
export interface IoRedisLike {
  /** ioredis connection status (used to recognise the client). */
  readonly status: string;
  /** `SET key value PX ttlMs NX`: `'OK'` when set, `null` when the key exists. */
  set(key: string, value: string, px: 'PX', ttlMs: number, nx: 'NX'): Promise<string | null>;
  /** `GET key`: the value, or `null` when absent. */
  get(key: string): Promise<string | null>;
  /** `EVAL script numKeys key… arg…` (the compare-and-delete that releases a claim). */
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
}

/** The node-redis methods used (a `redis` v4+ client or cluster, `createClient()` / `createCluster()`). */
export interface NodeRedisLike {
  /** node-redis connection flag (used to recognise the client). */
  readonly isOpen: boolean;
  /** `SET key value PX ttlMs NX`: `'OK'` when set, `null` when the key exists. */
  set(key: string, value: string, options: NodeRedisSetOptions): Promise<unknown>;
  /** `GET key`: the value, or `null` when absent. */
  get(key: string): Promise<unknown>;
  /** `EVAL script` with keys and arguments (the compare-and-delete that releases a claim). */
  eval(script: string, options: NodeRedisEvalOptions): Promise<unknown>;
}

/** The options {@link NodeRedisLike.set} is called with: `SET … PX <ms> NX`. */
export interface NodeRedisSetOptions {
  /** Expiry in ms. */
  PX: number;
  /** Set only if the key does not exist. */
  NX: true;
}

/** The options {@link NodeRedisLike.eval} is called with. */
export interface NodeRedisEvalOptions {
  /** `KEYS` of the script. */
  keys: string[];
  /** `ARGV` of the script. */
  arguments: string[];
}

/** An adapter for any other Redis client (or a Redis-compatible server with another API). */
export interface RedisCommands {
  /** `SET key value NX PX ttlMs`; `true` if the key was set. */
  setNxPx(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** `GET key`; `null` if absent. */
  getValue(key: string): Promise<string | null>;
  /** Atomically deletes `key` if its value is `value` (run {@link RELEASE_SCRIPT}); `true` if deleted. */
  delIfEquals(key: string, value: string): Promise<boolean>;
}

/** Options of {@link redisReplayStore}. */
export interface RedisReplayStoreOptions {
  /** A connected ioredis or node-redis client (or cluster), or a {@link RedisCommands} adapter. */
  client: IoRedisLike | NodeRedisLike | RedisCommands;
  /** Prefix of every key (one per application sharing the Redis). @default 'keyturn:replay:' */
  prefix?: string;
  /**
   * Longest wait for one Redis command, in ms. A command that takes longer counts as a store failure
   * (fail-closed: 503; fail-open: accepted), so an unreachable Redis never holds a request for the
   * client's reconnection schedule.
   * @default 1_000
   */
  commandTimeoutMs?: number;
  /**
   * Most claims whose release token this process remembers (tokens expire with their claim). A claim
   * whose token was dropped can no longer be released and simply expires.
   * @default 100_000
   */
  maxTokens?: number;
}

/** The store returned by {@link redisReplayStore}. */
export interface RedisReplayStore extends ReplayStore {
  /** Always `'redis'`. */
  readonly name: 'redis';
  /** Claims `key` for `ttlMs` ms across every instance sharing the Redis. */
  claim(key: string, ttlMs: number): Promise<boolean>;
  /** Deletes this process's claim of `key`, and only while it is still this process's claim. */
  release(key: string): Promise<void>;
  /** Claims whose outcome is unknown (a command failed or timed out) and that still await cleanup. */
  readonly pendingCleanups: number;
  /** Retries the cleanup of claims whose outcome was unknown; resolves when every attempt settled. */
  flush(): Promise<void>;
}

/** What a Redis failure is reported as (the verifier wraps it as the `cause` of `KEYSTORE_UNAVAILABLE`). */
export class RedisReplayStoreError extends Error {
  /** `'timeout'` when the command exceeded `commandTimeoutMs`, else `'command-failed'`. */
  readonly reason: 'timeout' | 'command-failed';

  constructor(message: string, reason: 'timeout' | 'command-failed', cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'RedisReplayStoreError';
    this.reason = reason;
  }
}

/** The compare-and-delete run by `release`: deletes `KEYS[1]` only if it still holds `ARGV[1]`. */
export const RELEASE_SCRIPT = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

/** Most unresolved cleanups kept for retry. */
const MAX_PENDING = 10_000;

/**
 * Creates a Redis replay store. The client's lifecycle stays yours: connect it before use, quit it at
 * shutdown. For fast failure during an outage, configure the client not to queue commands while
 * disconnected (ioredis `enableOfflineQueue: false`, node-redis `disableOfflineQueue: true`); either way
 * every command is bounded by `commandTimeoutMs`.
 *
 * @example ioredis, four instances behind a load balancer
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createVerifier, providers } from '@keyturn/core';
 * import { redisReplayStore } from '@keyturn/replay-redis';
 *
 * const verifier = createVerifier({
 *   provider: providers.dataspike(),
 *   keys: envKeyStore(),
 *   secretId: 'DATASPIKE_WEBHOOK_SECRET',
 *   replay: { store: redisReplayStore({ client: new Redis(process.env.REDIS_URL!) }) },
 * });
 * ```
 *
 * @example node-redis
 * ```ts
 * import { createClient } from 'redis';
 * const client = await createClient({ url: process.env.REDIS_URL }).connect();
 * const store = redisReplayStore({ client });
 * ```
 */
export function redisReplayStore(options: RedisReplayStoreOptions): RedisReplayStore {
  if (options === null || typeof options !== 'object') throw new TypeError('redisReplayStore(): pass { client }');
  const commands = toCommands(options.client);
  const prefix = options.prefix ?? 'keyturn:replay:';
  if (typeof prefix !== 'string') throw new TypeError('redisReplayStore(): `prefix` must be a string');
  const timeoutMs = options.commandTimeoutMs ?? 1_000;
  if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs))
    throw new TypeError('redisReplayStore(): `commandTimeoutMs` must be a positive number');
  const maxTokens = options.maxTokens ?? 100_000;
  if (!Number.isSafeInteger(maxTokens) || maxTokens < 1) throw new TypeError('redisReplayStore(): `maxTokens` must be a positive integer');

  // Tokens make a claim ours: a release after expiry-and-reclaim by someone else deletes nothing.
  const instance = globalThis.crypto.randomUUID();
  let counter = 0;
  const tokens = new LRUCache<string, string>({ max: maxTokens, ttlResolution: 0 });
  // Claims whose outcome is unknown (a failed or timed-out SET may still have landed): key -> token.
  const pending = new Map<string, string>();
  let flushing: Promise<void> | undefined;

  function run<T>(what: string, command: () => Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RedisReplayStoreError(`Redis ${what} timed out after ${timeoutMs} ms`, 'timeout')), timeoutMs);
    });
    let call: Promise<T>;
    try {
      call = Promise.resolve(command());
    } catch (error) {
      call = Promise.reject(error);
    }
    const wrapped = call.then(undefined, (error: unknown) => {
      throw error instanceof RedisReplayStoreError
        ? error
        : new RedisReplayStoreError(`Redis ${what} failed: ${messageOf(error)}`, 'command-failed', error);
    });
    // A command that settles after its timeout must not surface as an unhandled rejection.
    wrapped.catch(() => undefined);
    return Promise.race([wrapped, timeout]).finally(() => clearTimeout(timer));
  }

  function uncertain(redisKey: string, token: string): void {
    if (pending.size >= MAX_PENDING) {
      const oldest = pending.keys().next().value;
      if (oldest !== undefined) pending.delete(oldest);
    }
    pending.set(redisKey, token);
    // Queued behind the SET on the same connection: removes the claim if it landed after all.
    void cleanup(redisKey, token);
  }

  async function cleanup(redisKey: string, token: string): Promise<void> {
    try {
      await run('release', () => commands.delIfEquals(redisKey, token));
      if (pending.get(redisKey) === token) pending.delete(redisKey);
    } catch {
      // Still unknown: retried by the next claim (or flush()).
    }
  }

  function flush(): Promise<void> {
    if (flushing !== undefined) return flushing;
    if (pending.size === 0) return Promise.resolve();
    flushing = Promise.all([...pending].map(([k, t]) => cleanup(k, t))).then(() => {
      flushing = undefined;
    });
    return flushing;
  }

  return {
    name: 'redis',
    async claim(key, ttlMs) {
      if (typeof key !== 'string' || key.length === 0) throw new TypeError('claim(): `key` must be a non-empty string');
      if (!(ttlMs > 0) || !Number.isFinite(ttlMs)) throw new TypeError('claim(): `ttlMs` must be a positive number');
      const ttl = Math.ceil(ttlMs);
      const redisKey = prefix + key;
      if (pending.size > 0) {
        // Our own unresolved claim of this very key would refuse this retry: clean it up first.
        const mine = pending.get(redisKey);
        if (mine !== undefined) await cleanup(redisKey, mine);
        void flush();
      }
      const token = `${instance}.${(counter = (counter + 1) % Number.MAX_SAFE_INTEGER)}`;
      let set: boolean;
      try {
        set = await run('SET NX PX', () => commands.setNxPx(redisKey, token, ttl));
      } catch (error) {
        uncertain(redisKey, token);
        throw error;
      }
      if (!set) {
        // NX refused. After a reconnect the client may have resent a SET of ours that had already
        // landed: the key then holds our token, and the claim is ours.
        let value: string | null;
        try {
          value = await run('GET', () => commands.getValue(redisKey));
        } catch (error) {
          uncertain(redisKey, token);
          throw error;
        }
        if (value !== token) return false;
      }
      tokens.set(key, token, { ttl });
      return true;
    },
    async release(key) {
      const token = tokens.get(key);
      if (token === undefined) return;
      tokens.delete(key);
      const redisKey = prefix + key;
      try {
        await run('release', () => commands.delIfEquals(redisKey, token));
      } catch (error) {
        uncertain(redisKey, token);
        throw error;
      }
    },
    get pendingCleanups() {
      return pending.size;
    },
    flush,
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isCommands(client: object): client is RedisCommands {
  const c = client as Partial<RedisCommands>;
  return typeof c.setNxPx === 'function' && typeof c.getValue === 'function' && typeof c.delIfEquals === 'function';
}

/** Recognises the client: an adapter, node-redis (`isOpen`), or ioredis (`status`). */
function toCommands(client: unknown): RedisCommands {
  if (client === null || typeof client !== 'object') {
    throw new TypeError('redisReplayStore(): `client` must be an ioredis or node-redis client, or a RedisCommands adapter');
  }
  if (isCommands(client)) return client;
  const c = client as Record<string, unknown>;
  if (typeof c['set'] !== 'function' || typeof c['get'] !== 'function' || typeof c['eval'] !== 'function') {
    throw new TypeError(
      'redisReplayStore(): `client` has no set/get/eval methods; pass an ioredis or node-redis client, or a RedisCommands adapter',
    );
  }
  if (typeof c['isOpen'] === 'boolean') {
    const r = client as NodeRedisLike;
    return {
      setNxPx: async (key, value, ttlMs) => (await r.set(key, value, { PX: ttlMs, NX: true })) !== null,
      getValue: async (key) => {
        const v = await r.get(key);
        return v === null || v === undefined ? null : String(v);
      },
      delIfEquals: async (key, value) => Number(await r.eval(RELEASE_SCRIPT, { keys: [key], arguments: [value] })) === 1,
    };
  }
  if (typeof c['status'] === 'string') {
    const r = client as IoRedisLike;
    return {
      setNxPx: async (key, value, ttlMs) => (await r.set(key, value, 'PX', ttlMs, 'NX')) !== null,
      getValue: (key) => r.get(key),
      delIfEquals: async (key, value) => Number(await r.eval(RELEASE_SCRIPT, 1, key, value)) === 1,
    };
  }
  throw new TypeError('redisReplayStore(): unrecognised client (neither ioredis nor node-redis); pass a RedisCommands adapter');
}
