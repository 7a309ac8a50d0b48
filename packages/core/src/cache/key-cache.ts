/**
 * The key cache between the verifier and a {@link KeyStore}: bounded (two LRU tiers), single-flight,
 * TTL with jitter and background refresh, stale-if-error, refresh-once-on-unknown-key with a
 * cooldown, a per-verification load timeout, and error backoff — all on the verifier's clock.
 *
 * Entries are plain state objects kept in LRU tiers (cache/lru.ts, cache/tiers.ts) for bounding and
 * eviction; loading is explicit (a generic fetch-through cache would turn a rejected refresh of a
 * stale entry into "no keys"). This file holds the wiring, the hot path (`peek`), `get`, the negative
 * cache and `status`; the parts are `entry.ts` (one secret's state), `admission.ts` (cold-load
 * tokens and their line), `load.ts` (the store call) and `refresh.ts` (refresh-on-miss, fence and
 * notice reloads).
 *
 * @module
 */
import { KeyStoreError, VerificationError } from '../errors.ts';
import type { KeyturnEvent } from '../events.ts';
import { usageKey, type KeyRing, type UsageBook } from '../keys/ring.ts';
import type { KeyStore } from '../keys/types.ts';
import type { ProviderProfile } from '../providers/types.ts';
import { coldLoadAdmission } from './admission.ts';
import { Entry, type LoadReason, type NotFound } from './entry.ts';
import { storeLoader } from './load.ts';
import { Lru } from './lru.ts';
import { CACHE_DEFAULTS, type ResolvedCacheOptions } from './options.ts';
import { reloads } from './refresh.ts';
import type { KeySource, SecretStatus } from './source.ts';
import { Tiers } from './tiers.ts';

export { CACHE_DEFAULTS, MAX_SECRETS, resolveCacheOptions, type CacheOptions, type ResolvedCacheOptions } from './options.ts';

/** @internal */
export function cachedSource(
  store: KeyStore,
  provider: ProviderProfile,
  usage: UsageBook & { promote(key: string): void },
  now: () => number,
  emit: (event: KeyturnEvent) => void,
  o: ResolvedCacheOptions = CACHE_DEFAULTS,
  random: () => number = Math.random,
): KeySource {
  const storeName = store.name;
  const entries = new Tiers<Entry>(o.maxSecrets, o.maxSecrets, (entry) => {
    entry.controller?.abort();
    if (entry === lastEntry) lastEntry = undefined;
  });
  /** Secret ids whose cold load failed terminally, answered from memory for `negativeTtlMs`. */
  const notFound = new Lru<string, NotFound>(o.maxSecrets);
  const keyOf = (secretId: string) => `${storeName}\u0000${secretId}`;
  // The hot path asks for the same secret over and over: a repeat skips the key string and the LRU
  // lookup (the entry is already the most recently used one).
  let lastEntry: Entry | undefined;
  let disposed = false;
  const isDisposed = () => disposed;

  const admission = coldLoadAdmission({ storeName, provider, o, now, entries, keyOf, disposed: isDisposed });
  const { queued, takeToken, enqueue, admit, abandon, limited, giveBackToken } = admission;
  const load = storeLoader({ store, provider, usage, now, emit, o, random, limited, giveBackToken, forgetCold });
  const refresh = reloads({ store, now, emit, o, entries, keyOf, load, disposed: isDisposed });

  function entryOf(key: string): Entry | undefined {
    return entries.get(key) ?? queued.get(key);
  }

  function fresh(e: Entry, t: number): boolean {
    return e.ring !== undefined && !e.invalidated && t < e.loadedAt + o.ttlMs;
  }

  function servableStale(e: Entry, t: number): boolean {
    if (e.ring === undefined || t > e.loadedAt + o.ttlMs + o.maxStaleMs) return false;
    if (e.lastError !== undefined && !e.lastError.retryable && !o.serveStaleOnTerminalError) return false;
    return true;
  }

  /**
   * A cold load failed terminally (the secret does not exist, access is denied): the entry leaves the
   * cache, so made-up ids take no room, and the failure is remembered for `negativeTtlMs`.
   */
  function forgetCold(e: Entry, error: KeyStoreError, t: number): void {
    const key = keyOf(e.secretId);
    if (entries.peek(key) === e) entries.delete(key);
    if (lastEntry === e) lastEntry = undefined;
    if (o.negativeTtlMs > 0) notFound.set(key, { error, at: t, until: t + o.negativeTtlMs });
  }

  function backgroundRefresh(e: Entry, t: number, reason: LoadReason): void {
    if (e.inflight !== undefined || t < e.retryAt || disposed) return;
    void load(e, reason).catch(() => undefined);
  }

  /**
   * A load failure as the sender sees it: `KEYSTORE_MISCONFIGURED` (500) when the store answered
   * terminally, else `KEYSTORE_UNAVAILABLE` (503). The store's own (secret-free) message is carried.
   */
  function unavailable(secretId: string, error: KeyStoreError | undefined, message: string): VerificationError {
    const terminal = error !== undefined && !error.retryable;
    return new VerificationError(
      terminal ? 'KEYSTORE_MISCONFIGURED' : 'KEYSTORE_UNAVAILABLE',
      error === undefined ? `${message}.` : `${message}: ${error.message}`,
      {
        provider: provider.name,
        secretId,
        cause: error,
        hint: terminal
          ? `The ${storeName} store reported a configuration error (${error.reason ?? 'terminal'}): fix the secret, its name or the access to it; the next load picks it up.`
          : undefined,
      },
    );
  }

  function staleServed(e: Entry, t: number, why: string): KeyRing {
    emit({ type: 'stale-served', store: storeName, secretId: e.secretId, ageMs: t - e.loadedAt, why });
    return e.ring as KeyRing;
  }

  return {
    storeName,

    peek(secretId, t) {
      let e = lastEntry;
      if (e === undefined || e.secretId !== secretId) {
        e = entries.get(keyOf(secretId));
        if (e === undefined) return undefined;
        lastEntry = e;
      }
      if (e.ring === undefined) return undefined;
      if (fresh(e, t)) {
        if (t >= e.refreshAt) backgroundRefresh(e, t, 'refresh');
        return e.ring;
      }
      if (servableStale(e, t) && (e.lastError !== undefined || e.inflight !== undefined)) {
        // A refresh failed or is under way: keep serving the last good set (stale-if-error).
        backgroundRefresh(e, t, 'expired');
        return staleServed(e, t, e.lastError !== undefined ? 'store-error' : 'refreshing');
      }
      return undefined;
    },

    async get(secretId, trusted = false) {
      if (disposed) throw new VerificationError('KEYSTORE_UNAVAILABLE', 'The verifier was disposed.', { secretId });
      const key = keyOf(secretId);
      const t = now();
      let e = entryOf(key);
      if (e === undefined) {
        // A secret the cache does not hold: negative cache first, then the admission limit.
        const miss = notFound.get(key);
        if (miss !== undefined) {
          if (t < miss.until && !trusted) {
            throw unavailable(
              secretId,
              miss.error,
              `Key store ${storeName} failed to load ${secretId} (remembered for ${o.negativeTtlMs} ms)`,
            );
          }
          notFound.delete(key);
        }
        e = new Entry(secretId);
        if (trusted) {
          entries.set(key, e);
        } else if (takeToken(t)) {
          e.admitted = true;
          entries.set(key, e);
        } else if (!enqueue(key, e)) {
          throw limited(secretId);
        }
      } else if (e.queued && trusted) {
        admit(e, false);
      }
      if (fresh(e, t)) return e.ring as KeyRing;
      // In error backoff: do not ask the store again yet.
      if (e.inflight === undefined && t < e.retryAt) {
        if (servableStale(e, t)) return staleServed(e, t, 'store-error');
        throw unavailable(secretId, e.lastError, `Key store ${storeName} is unavailable for ${secretId} (retrying later)`);
      }
      const reason: LoadReason = e.ring === undefined ? 'cold' : e.invalidated ? 'invalidate' : 'expired';
      const entry = e;
      const p = load(entry, reason);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), o.loadTimeoutMs);
        (timer as { unref?: () => void }).unref?.();
      });
      entry.waiting++;
      try {
        const winner = await Promise.race([p, timeout]);
        if (winner !== 'timeout') return winner;
        if (entry.queued) throw limited(secretId);
        if (servableStale(entry, now())) return staleServed(entry, now(), 'load-timeout');
        throw unavailable(secretId, entry.lastError, `Key store ${storeName} did not answer for ${secretId} within ${o.loadTimeoutMs} ms`);
      } catch (err) {
        if (err instanceof VerificationError) throw err;
        if (servableStale(entry, now())) return staleServed(entry, now(), 'store-error');
        throw unavailable(
          secretId,
          err instanceof KeyStoreError ? err : entry.lastError,
          `Key store ${storeName} failed to load ${secretId}`,
        );
      } finally {
        clearTimeout(timer);
        entry.waiting--;
        if (entry.waiting === 0 && entry.queued) abandon(entry);
      }
    },

    verified(secretId, ring) {
      ring.verified = true;
      const key = keyOf(secretId);
      const e = entries.peek(key);
      if (e !== undefined && !e.proven) {
        e.proven = true;
        entries.promote(key);
      }
      for (const k of ring.entries) usage.promote(usageKey(secretId, k.id));
    },

    refreshOnMiss: refresh.refreshOnMiss,

    refreshOnMissInBackground(secretId, seen, fenced = false) {
      void this.refreshOnMiss(secretId, seen, fenced).catch(() => undefined);
    },

    reload: refresh.reload,

    invalidate(secretId) {
      // A push notice ("secret X changed") may mean X exists now: forget remembered failures.
      if (secretId === undefined) notFound.clear();
      else notFound.delete(keyOf(secretId));
      const targets = secretId === undefined ? [...entries.values()] : [entries.peek(keyOf(secretId))];
      for (const e of targets) {
        if (e === undefined) continue;
        e.invalidated = true;
        e.retryAt = 0;
        if (e.ring !== undefined && !disposed) void load(e, 'invalidate').catch(() => undefined);
      }
    },

    holds: (secretId) => entries.peek(keyOf(secretId))?.ring !== undefined,

    status(secretId): SecretStatus {
      const key = keyOf(secretId);
      const e = entries.peek(key) ?? queued.get(key);
      const t = now();
      const ring = e?.ring;
      const state: SecretStatus['state'] =
        e === undefined || ring === undefined ? 'cold' : fresh(e, t) ? 'fresh' : servableStale(e, t) ? 'stale' : 'expired';
      const miss = e === undefined ? notFound.peek(key) : undefined;
      const lastError = e?.lastError ?? miss?.error;
      return {
        secretId,
        store: storeName,
        state,
        loadedAt: ring ? e?.loadedAt : undefined,
        ageMs: ring && e ? t - e.loadedAt : undefined,
        versions: ring ? ring.entries.map((k) => k.toJSON()) : [],
        invalidVersions: ring ? ring.invalid.map((i) => i.id) : [],
        lastError:
          lastError === undefined
            ? undefined
            : {
                message: lastError.message,
                reason: lastError.reason,
                code: lastError.code,
                retryable: lastError.retryable,
                at: e?.lastErrorAt ?? miss?.at ?? t,
              },
        nextRefreshAt: ring && e ? Math.max(e.refreshAt, e.retryAt) : miss?.until,
        loading: e?.inflight !== undefined,
        verified: e?.proven === true,
      };
    },

    secretIds: () => [...entries.values()].map((e) => e.secretId),

    async dispose() {
      disposed = true;
      lastEntry = undefined;
      admission.dispose();
      for (const e of entries.values()) e.controller?.abort();
      entries.clear();
      notFound.clear();
      await store.dispose?.();
    },
  };
}
