/**
 * A keyturn replay store on DynamoDB: a claim is a conditional `PutItem` (`attribute_not_exists`, or
 * an expired claim DynamoDB's TTL has not deleted yet) carrying a token and a TTL attribute; a release
 * is a `DeleteItem` conditional on that token. A claim whose outcome is unknown (a timeout, a failure
 * after the request may have landed) is answered as a store failure and cleaned up by its token as soon
 * as DynamoDB answers again, exactly like the Redis store.
 *
 * @module
 */
import type { ReplayStore } from '@keyturn/core';
import { LRUCache } from 'lru-cache';
import { commands, DynamoDbError, N, S, str, type DynamoDbTableOptions, type Item } from './client.ts';
import { checkPrefix, itemKeys } from './keys.ts';

/** Options of {@link dynamodbReplayStore}. */
export interface DynamoDbReplayStoreOptions extends DynamoDbTableOptions {
  /** Prefix of every partition key (one per application sharing the table). @default 'keyturn#' */
  prefix?: string;
  /**
   * Most claims whose release token this process remembers (tokens expire with their claim). A claim
   * whose token was dropped can no longer be released and simply expires. @default 100_000
   */
  maxTokens?: number;
  /** Clock for claim expiry, epoch ms (claims are compared across instances: keep clocks in sync). @default Date.now */
  now?: () => number;
}

/** The store returned by {@link dynamodbReplayStore}. */
export interface DynamoDbReplayStore extends ReplayStore {
  /** Always `'dynamodb'`. */
  readonly name: 'dynamodb';
  /** Claims `key` for `ttlMs` across every instance sharing the table; `false` when it is claimed and not expired. */
  claim(key: string, ttlMs: number): Promise<boolean>;
  /** Deletes this process's claim of `key`, and only while it is still this process's claim. */
  release(key: string): Promise<void>;
  /** Claims whose outcome is unknown (a call failed or timed out) that still await cleanup. */
  readonly pendingCleanups: number;
  /** Retries the cleanup of claims whose outcome was unknown; resolves when every attempt settled. */
  flush(): Promise<void>;
  /** Destroys the client if the store created it (never the client you passed). */
  close(): void;
}

/** Most unresolved cleanups kept for retry. */
const MAX_PENDING = 10_000;

/**
 * Creates the store.
 *
 * @example Lambda, with the table name in an environment variable
 * ```ts
 * import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
 * import { dynamodbReplayStore } from '@keyturn/dynamodb';
 *
 * const verifier = createVerifier({
 *   provider: providers.dataspike(),
 *   keys: envKeyStore(),
 *   secretId: 'DATASPIKE_WEBHOOK_SECRET',
 *   replay: { store: dynamodbReplayStore({ client: new DynamoDBClient({}), table: process.env.KEYTURN_TABLE! }) },
 * });
 * ```
 */
export function dynamodbReplayStore(options: DynamoDbReplayStoreOptions): DynamoDbReplayStore {
  const where = 'dynamodbReplayStore()';
  if (options === null || typeof options !== 'object') throw new TypeError(`${where}: pass { table, client? }`);
  const db = commands(options, where);
  const keys = itemKeys(checkPrefix(where, options.prefix));
  const maxTokens = options.maxTokens ?? 100_000;
  if (!Number.isSafeInteger(maxTokens) || maxTokens < 1) throw new TypeError(`${where}: \`maxTokens\` must be a positive integer`);
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') throw new TypeError(`${where}: \`now\` must be a function returning epoch ms`);

  // Tokens make a claim ours: a release after expiry-and-reclaim by someone else deletes nothing.
  const instance = globalThis.crypto.randomUUID();
  let counter = 0;
  const tokens = new LRUCache<string, string>({ max: maxTokens, ttlResolution: 0, perf: { now } });
  // Claims whose outcome is unknown: claim key -> token.
  const pending = new Map<string, string>();
  let flushing: Promise<void> | undefined;

  const deleteIfMine = (key: string, token: string): Promise<boolean> =>
    db.delete({ Key: keys.claim(key), ConditionExpression: 'tok = :tok', ExpressionAttributeValues: { ':tok': S(token) } });

  function uncertain(key: string, token: string): void {
    if (pending.size >= MAX_PENDING) {
      const oldest = pending.keys().next().value;
      if (oldest !== undefined) pending.delete(oldest);
    }
    pending.set(key, token);
    void cleanup(key, token);
  }

  async function cleanup(key: string, token: string): Promise<void> {
    try {
      await deleteIfMine(key, token);
      if (pending.get(key) === token) pending.delete(key);
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
    name: 'dynamodb',
    async claim(key, ttlMs) {
      if (typeof key !== 'string' || key.length === 0) throw new TypeError('claim(): `key` must be a non-empty string');
      if (typeof ttlMs !== 'number' || !(ttlMs > 0) || !Number.isFinite(ttlMs))
        throw new TypeError('claim(): `ttlMs` must be a positive number');
      const ttl = Math.ceil(ttlMs);
      if (pending.size > 0) {
        // Our own unresolved claim of this very key would refuse this retry: clean it up first.
        const mine = pending.get(key);
        if (mine !== undefined) await cleanup(key, mine);
        void flush();
      }
      const token = `${instance}.${(counter = (counter + 1) % Number.MAX_SAFE_INTEGER)}`;
      const t = now();
      const exp = t + ttl;
      const item: Item = { ...keys.claim(key), tok: S(token), exp: N(exp), ttl: N(Math.ceil(exp / 1000) + 1) };
      let put: { ok: boolean; item?: Item };
      try {
        // DynamoDB's TTL deletes expired items late (hours, even days): an expired claim is free.
        put = await db.put({
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk) OR #exp < :now',
          ExpressionAttributeNames: { '#exp': 'exp' },
          ExpressionAttributeValues: { ':now': N(t) },
        });
      } catch (error) {
        uncertain(key, token);
        throw error;
      }
      if (!put.ok) {
        // The condition failed. If the SDK retried a PutItem of ours that had landed (a timeout, a
        // throttled answer after the write), the item holds our token: the claim is ours.
        let existing = put.item;
        if (existing === undefined) {
          try {
            existing = await db.get(keys.claim(key), true);
          } catch (error) {
            uncertain(key, token);
            throw error;
          }
        }
        if (str(existing, 'tok') !== token) {
          // Someone else's live claim (or, rarely, one that expired between the two calls: refused
          // anyway; the sender retries a 409).
          return false;
        }
      }
      tokens.set(key, token, { ttl });
      return true;
    },
    async release(key) {
      const token = tokens.get(key);
      if (token === undefined) return;
      tokens.delete(key);
      try {
        await deleteIfMine(key, token);
      } catch (error) {
        uncertain(key, token);
        throw error;
      }
    },
    get pendingCleanups() {
      return pending.size;
    },
    flush,
    close: () => db.close(),
  };
}

export { DynamoDbError };
