import * as redis from '@keyturn/redis';
import { describe, expect, it } from 'vitest';
import * as legacy from '../src/index.ts';

describe('@keyturn/replay-redis (folded into @keyturn/redis)', () => {
  it('re-exports the replay store of @keyturn/redis unchanged', () => {
    expect(legacy.redisReplayStore).toBe(redis.redisReplayStore);
    expect(legacy.RedisReplayStoreError).toBe(redis.RedisReplayStoreError);
    expect(legacy.RELEASE_SCRIPT).toBe(redis.RELEASE_SCRIPT);
  });

  it('still builds a store from an adapter', async () => {
    const values = new Map<string, string>();
    const store = legacy.redisReplayStore({
      client: {
        setNxPx: async (k, v) => (values.has(k) ? false : (values.set(k, v), true)),
        getValue: async (k) => values.get(k) ?? null,
        delIfEquals: async (k, v) => values.get(k) === v && values.delete(k),
      },
    });
    expect(await store.claim('a', 1_000)).toBe(true);
    expect(await store.claim('a', 1_000)).toBe(false);
    await store.release('a');
    expect(await store.claim('a', 1_000)).toBe(true);
  });
});
