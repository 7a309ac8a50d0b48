/**
 * An in-process replay store on `lru-cache`: one instance, bounded memory, per-entry TTL.
 *
 * @module
 */
import { LRUCache } from 'lru-cache';
import { numberOption } from '../lib/validate.ts';
import type { ReplayStore } from './types.ts';

/** Options of {@link memoryReplayStore}. */
export interface MemoryReplayStoreOptions {
  /**
   * Most claims held at once. When full, the oldest claim is dropped before it expires, and a replay
   * of that delivery would be accepted: size it for your peak rate × the TTL (100 000 claims take
   * 14–18 MB of heap on Node 20). `onEvict` reports such drops. An integer from 1 to 10 000 000.
   * @default 100_000
   */
  max?: number;
  /** Clock, epoch ms: pass the verifier's `now` so TTLs follow the same clock. @default Date.now */
  now?: () => number;
  /** Called when a claim is dropped before its TTL ran out because the store is full. */
  onEvict?: (key: string) => void;
}

/** The store returned by {@link memoryReplayStore}: synchronous, so `verifySync` can use it. */
export interface MemoryReplayStore extends ReplayStore {
  /** Always `'memory'`. */
  readonly name: 'memory';
  /** Always `true`: `claim` returns a boolean, `release` returns nothing. */
  readonly synchronous: true;
  /** Claims `key` for `ttlMs` ms; `false` if it is already claimed and not expired. */
  claim(key: string, ttlMs: number): boolean;
  /** Drops the claim of `key`. */
  release(key: string): void;
  /** Claims currently held (expired ones may count until they are touched or evicted). */
  readonly size: number;
  /** Drops every claim. */
  clear(): void;
}

/**
 * A replay store for a single process. Behind a load balancer with several instances use
 * `@keyturn/replay-redis` instead: a replay sent to another instance would not be seen here.
 *
 * @example
 * ```ts
 * import { createVerifier, memoryReplayStore, providers } from '@keyturn/core';
 * const verifier = createVerifier({
 *   provider: providers.dataspike(),
 *   keys: envKeyStore(),
 *   secretId: 'DATASPIKE_WEBHOOK_SECRET',
 *   replay: { store: memoryReplayStore({ max: 50_000 }) },
 * });
 * ```
 */
export function memoryReplayStore(options: MemoryReplayStoreOptions = {}): MemoryReplayStore {
  // The cache preallocates one slot per claim: the bound keeps a typo from allocating gigabytes.
  const max = numberOption('memoryReplayStore()', 'max', options.max, 100_000, 1, 10_000_000, true);
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') throw new TypeError('memoryReplayStore(): `now` must be a function returning epoch ms');
  const onEvict = options.onEvict;
  const cache = new LRUCache<string, true>({
    max,
    // Per-entry TTLs on the caller's clock, checked on every access (no timer, no resolution cache),
    // so fake clocks drive expiry exactly.
    ttlResolution: 0,
    perf: { now },
    ...(onEvict === undefined
      ? {}
      : {
          dispose: (_value: true, key: string, reason: LRUCache.DisposeReason) => {
            if (reason === 'evict') {
              try {
                onEvict(key);
              } catch {
                // An observer must never break verification.
              }
            }
          },
        }),
  });
  return {
    name: 'memory',
    synchronous: true,
    claim(key, ttlMs) {
      if (!(ttlMs > 0) || !Number.isFinite(ttlMs)) throw new TypeError('claim(): `ttlMs` must be a positive number');
      // `has` is false for an expired entry; `set` then replaces it. Both run in one synchronous step.
      if (cache.has(key)) return false;
      cache.set(key, true, { ttl: Math.ceil(ttlMs) });
      return true;
    },
    release(key) {
      cache.delete(key);
    },
    get size() {
      return cache.size;
    },
    clear() {
      cache.clear();
    },
  };
}
