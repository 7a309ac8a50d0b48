/**
 * The key cache between the verifier and a {@link KeyStore}: bounded (lru-cache), single-flight,
 * TTL with jitter and background refresh, stale-if-error, refresh-once-on-unknown-key with a
 * cooldown, a per-verification load timeout, and error backoff — all on the verifier's clock.
 *
 * Why not `lru-cache`'s `fetchMethod`: it resolves a rejected fetch to `undefined` when stale
 * values are allowed, which would turn an outage into "no keys". Entries here are plain state
 * objects kept in an `LRUCache` for bounding and eviction; loading is explicit.
 *
 * @module
 */
import { LRUCache } from 'lru-cache';
import { KeyStoreError, VerificationError } from '../errors.ts';
import type { KeyturnEvent } from '../events.ts';
import { buildRing, versionProblem, type KeyRing, type UsageBook } from '../keys/ring.ts';
import type { KeyStore, SecretVersion } from '../keys/types.ts';
import type { ProviderProfile } from '../providers/types.ts';
import type { KeySource, SecretStatus } from './source.ts';

/** Cache settings (`createVerifier({ cache })`). Every duration is in ms. */
export interface CacheOptions {
  /** How long a loaded key set is fresh. A background refresh starts before that (see `jitter`). @default 300_000 */
  ttlMs?: number;
  /** How long past its TTL a key set keeps serving when refreshes fail (stale-if-error). @default 3_600_000 */
  maxStaleMs?: number;
  /** Least time between two reloads caused by an unknown key (refresh-on-miss) for one secret. @default 30_000 */
  refreshCooldownMs?: number;
  /** How long one verification waits for the store before serving stale or failing. @default 3_000 */
  loadTimeoutMs?: number;
  /** Hard limit for one store call; past it the call is aborted and counted as a retryable failure. @default 30_000 */
  storeTimeoutMs?: number;
  /** Most secrets held (one per tenant or webhook); least recently used ones are evicted. @default 1_000 */
  maxSecrets?: number;
  /**
   * Spread of background refreshes, as a fraction of `ttlMs`: a refresh starts at `ttl × (0.9 − jitter × random)`,
   * so instances do not refresh in lockstep and a refresh always starts before the key set expires.
   * @default 0.2
   */
  jitter?: number;
  /** First delay after a failed load before the store is asked again; doubles up to `ttlMs`. @default 1_000 */
  errorBackoffMs?: number;
  /** Whether a terminal store error (not found, access denied) keeps serving the last good key set up to `maxStaleMs`. @default true */
  serveStaleOnTerminalError?: boolean;
}

/** Resolved cache settings. */
export type ResolvedCacheOptions = Required<CacheOptions>;

/** Default cache settings. */
export const CACHE_DEFAULTS: ResolvedCacheOptions = {
  ttlMs: 300_000,
  maxStaleMs: 3_600_000,
  refreshCooldownMs: 30_000,
  loadTimeoutMs: 3_000,
  storeTimeoutMs: 30_000,
  maxSecrets: 1_000,
  jitter: 0.2,
  errorBackoffMs: 1_000,
  serveStaleOnTerminalError: true,
};

/** Background refreshes start at this fraction of the TTL, minus the jitter. */
const REFRESH_AT = 0.9;

type LoadReason = 'cold' | 'refresh' | 'expired' | 'miss' | 'invalidate';

/** One secret's state. Never printed with its keys. */
class Entry {
  ring: KeyRing | undefined;
  loadedAt = 0;
  refreshAt = 0;
  inflight: Promise<KeyRing> | undefined;
  controller: AbortController | undefined;
  lastError: KeyStoreError | undefined;
  lastErrorAt = 0;
  failures = 0;
  retryAt = 0;
  lastMissRefreshAt = -Infinity;
  invalidated = false;

  constructor(readonly secretId: string) {}

  toJSON(): Record<string, unknown> {
    return { secretId: this.secretId, loadedAt: this.loadedAt, keys: this.ring?.entries.map((e) => e.id) };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `KeyCacheEntry { secretId: ${JSON.stringify(this.secretId)}, keys: [redacted] }`;
  }
}

/** @internal */
export function cachedSource(
  store: KeyStore,
  provider: ProviderProfile,
  usage: UsageBook,
  now: () => number,
  emit: (event: KeyturnEvent) => void,
  options: CacheOptions = {},
  random: () => number = Math.random,
): KeySource {
  const o: ResolvedCacheOptions = { ...CACHE_DEFAULTS, ...stripUndefined(options) };
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === 'number' && (!(v >= 0) || (k === 'maxSecrets' && !(v >= 1)))) {
      throw new TypeError(`createVerifier(): cache.${k} must be a non-negative number`);
    }
  }
  const storeName = store.name;
  const entries = new LRUCache<string, Entry>({
    max: o.maxSecrets,
    dispose: (entry) => {
      entry.controller?.abort();
      if (entry === lastEntry) lastEntry = undefined;
    },
  });
  const keyOf = (secretId: string) => `${storeName}\u0000${secretId}`;
  // The hot path asks for the same secret over and over: a repeat skips the key string and the LRU
  // lookup (the entry is already the most recently used one).
  let lastEntry: Entry | undefined;
  let disposed = false;

  function entryFor(secretId: string): Entry {
    const key = keyOf(secretId);
    let e = entries.get(key);
    if (e === undefined) {
      e = new Entry(secretId);
      entries.set(key, e);
    }
    return e;
  }

  function fresh(e: Entry, t: number): boolean {
    return e.ring !== undefined && !e.invalidated && t < e.loadedAt + o.ttlMs;
  }

  function servableStale(e: Entry, t: number): boolean {
    if (e.ring === undefined || t > e.loadedAt + o.ttlMs + o.maxStaleMs) return false;
    if (e.lastError !== undefined && !e.lastError.retryable && !o.serveStaleOnTerminalError) return false;
    return true;
  }

  function load(e: Entry, reason: LoadReason): Promise<KeyRing> {
    if (e.inflight !== undefined) return e.inflight;
    const started = now();
    const controller = new AbortController();
    e.controller = controller;
    emit({ type: 'load-start', store: storeName, secretId: e.secretId, reason });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const hardTimeout = new Promise<never>((_, rejectTimeout) => {
      timer = setTimeout(() => {
        controller.abort();
        rejectTimeout(
          new KeyStoreError(`${storeName}: loading ${e.secretId} took longer than ${o.storeTimeoutMs} ms`, {
            retryable: true,
            store: storeName,
            secretId: e.secretId,
            reason: 'TIMEOUT',
          }),
        );
      }, o.storeTimeoutMs);
      (timer as { unref?: () => void }).unref?.();
    });
    const run = async (): Promise<KeyRing> => {
      try {
        await undefined; // settle asynchronously even if the store throws synchronously
        const versions = await Promise.race([store.getVersions(e.secretId, { signal: controller.signal }), hardTimeout]);
        const t = now();
        const ring = accept(e, versions, t);
        emit({
          type: 'load-success',
          store: storeName,
          secretId: e.secretId,
          reason,
          durationMs: t - started,
          versions: ring.entries.length,
        });
        return ring;
      } catch (err) {
        const error = classify(err, e.secretId);
        const t = now();
        e.lastError = error;
        e.lastErrorAt = t;
        e.failures++;
        const backoff = Math.min(o.errorBackoffMs * 2 ** (e.failures - 1), Math.max(o.ttlMs, o.errorBackoffMs));
        e.retryAt = t + backoff * (1 - o.jitter * random() * 0.5);
        emit({
          type: 'load-failure',
          store: storeName,
          secretId: e.secretId,
          reason,
          durationMs: t - started,
          retryable: error.retryable,
          error,
        });
        throw error;
      } finally {
        clearTimeout(timer);
        if (e.controller === controller) {
          e.inflight = undefined;
          e.controller = undefined;
        }
      }
    };
    const p: Promise<KeyRing> = run();
    // Background loads must never surface as unhandled rejections.
    p.catch(() => undefined);
    e.inflight = p;
    return p;
  }

  function accept(e: Entry, versions: unknown, t: number): KeyRing {
    if (!Array.isArray(versions)) {
      throw new KeyStoreError(`${storeName}: getVersions did not return an array`, {
        retryable: false,
        store: storeName,
        secretId: e.secretId,
        reason: 'BAD_RESULT',
      });
    }
    for (const v of versions) {
      const problem = versionProblem(v);
      if (problem !== undefined) {
        throw new KeyStoreError(`${storeName}: ${problem}`, {
          retryable: false,
          store: storeName,
          secretId: e.secretId,
          reason: 'BAD_RESULT',
        });
      }
    }
    const ring = buildRing(e.secretId, versions as SecretVersion[], provider, e.ring, usage, t);
    for (const bad of ring.invalid) {
      emit({ type: 'key-invalid', store: storeName, secretId: e.secretId, keyId: bad.id, keyRole: bad.role });
    }
    e.ring = ring;
    e.loadedAt = t;
    e.refreshAt = t + o.ttlMs * (REFRESH_AT - o.jitter * random());
    e.lastError = undefined;
    e.failures = 0;
    e.retryAt = 0;
    e.invalidated = false;
    return ring;
  }

  function classify(err: unknown, secretId: string): KeyStoreError {
    if (err instanceof KeyStoreError) return err;
    return new KeyStoreError(`${storeName}: loading ${secretId} failed`, {
      retryable: true,
      store: storeName,
      secretId,
      reason: 'UNKNOWN',
      cause: err,
    });
  }

  function backgroundRefresh(e: Entry, t: number, reason: LoadReason): void {
    if (e.inflight !== undefined || t < e.retryAt || disposed) return;
    void load(e, reason).catch(() => undefined);
  }

  function unavailable(e: Entry, message: string): VerificationError {
    return new VerificationError('KEYSTORE_UNAVAILABLE', message, {
      provider: provider.name,
      secretId: e.secretId,
      cause: e.lastError,
      hint: e.lastError?.retryable === false ? `The ${storeName} store reported a configuration error (${e.lastError.reason ?? 'terminal'}).` : undefined,
    });
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

    async get(secretId) {
      if (disposed) throw new VerificationError('KEYSTORE_UNAVAILABLE', 'The verifier was disposed.', { secretId });
      const e = entryFor(secretId);
      const t = now();
      if (fresh(e, t)) return e.ring as KeyRing;
      // In error backoff: do not ask the store again yet.
      if (e.inflight === undefined && t < e.retryAt) {
        if (servableStale(e, t)) return staleServed(e, t, 'store-error');
        throw unavailable(e, `Key store ${storeName} is unavailable for ${secretId} (retrying later).`);
      }
      const reason: LoadReason = e.ring === undefined ? 'cold' : e.invalidated ? 'invalidate' : 'expired';
      const p = load(e, reason);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), o.loadTimeoutMs);
        (timer as { unref?: () => void }).unref?.();
      });
      try {
        const winner = await Promise.race([p, timeout]);
        if (winner !== 'timeout') return winner;
        if (servableStale(e, now())) return staleServed(e, now(), 'load-timeout');
        throw unavailable(e, `Key store ${storeName} did not answer for ${secretId} within ${o.loadTimeoutMs} ms.`);
      } catch (err) {
        if (err instanceof VerificationError) throw err;
        if (servableStale(e, now())) return staleServed(e, now(), 'store-error');
        throw unavailable(e, `Key store ${storeName} failed to load ${secretId}.`);
      } finally {
        clearTimeout(timer);
      }
    },

    async refreshOnMiss(secretId, seen) {
      const e = entries.get(keyOf(secretId));
      if (e === undefined || disposed) return undefined;
      if (e.ring !== seen && e.ring !== undefined) return e.ring; // someone already reloaded
      const t = now();
      if (e.inflight === undefined) {
        if (t - Math.max(e.lastMissRefreshAt, e.loadedAt) < o.refreshCooldownMs || t < e.retryAt) return undefined;
        e.lastMissRefreshAt = t;
        emit({ type: 'refresh-on-miss', store: storeName, secretId });
      }
      const p = load(e, 'miss');
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), o.loadTimeoutMs);
        (timer as { unref?: () => void }).unref?.();
      });
      try {
        return await Promise.race([p, timeout]);
      } catch {
        return undefined; // the miss stays a miss; the failure is reported through events and status
      } finally {
        clearTimeout(timer);
      }
    },

    refreshOnMissInBackground(secretId, seen) {
      void this.refreshOnMiss(secretId, seen).catch(() => undefined);
    },

    invalidate(secretId) {
      const targets = secretId === undefined ? [...entries.values()] : [entries.get(keyOf(secretId))];
      for (const e of targets) {
        if (e === undefined) continue;
        e.invalidated = true;
        e.retryAt = 0;
        if (e.ring !== undefined && !disposed) void load(e, 'invalidate').catch(() => undefined);
      }
    },

    status(secretId): SecretStatus {
      const e = entries.peek(keyOf(secretId));
      const t = now();
      const ring = e?.ring;
      const state: SecretStatus['state'] =
        e === undefined || ring === undefined ? 'cold' : fresh(e, t) ? 'fresh' : servableStale(e, t) ? 'stale' : 'expired';
      return {
        secretId,
        store: storeName,
        state,
        loadedAt: ring ? e?.loadedAt : undefined,
        ageMs: ring && e ? t - e.loadedAt : undefined,
        versions: ring ? ring.entries.map((k) => k.toJSON()) : [],
        invalidVersions: ring ? ring.invalid.map((i) => i.id) : [],
        lastError:
          e?.lastError === undefined
            ? undefined
            : { message: e.lastError.message, reason: e.lastError.reason, retryable: e.lastError.retryable, at: e.lastErrorAt },
        nextRefreshAt: ring && e ? Math.max(e.refreshAt, e.retryAt) : undefined,
        loading: e?.inflight !== undefined,
      };
    },

    secretIds: () => [...entries.values()].map((e) => e.secretId),

    async dispose() {
      disposed = true;
      lastEntry = undefined;
      for (const e of entries.values()) e.controller?.abort();
      entries.clear();
      await store.dispose?.();
    },
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
