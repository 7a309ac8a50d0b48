/**
 * The key cache between the verifier and a {@link KeyStore}: bounded (two LRU tiers), single-flight,
 * TTL with jitter and background refresh, stale-if-error, refresh-once-on-unknown-key with a
 * cooldown, a per-verification load timeout, and error backoff — all on the verifier's clock.
 *
 * Entries are plain state objects kept in LRU tiers (cache/lru.ts) for bounding and eviction;
 * loading is explicit (a generic fetch-through cache would turn a rejected refresh of a stale entry
 * into "no keys").
 *
 * @module
 */
import { KeyStoreError, VerificationError } from '../errors.ts';
import type { KeyturnEvent } from '../events.ts';
import { buildRing, newlyUnboundedPrevious, usageKey, versionProblem, type KeyRing, type KeyUsage, type UsageBook } from '../keys/ring.ts';
import type { KeyStore, SecretVersion } from '../keys/types.ts';
import { MAX_TIMER_MS } from '../lib/validate.ts';
import { CACHE_DEFAULTS, type ResolvedCacheOptions } from './options.ts';
import type { ProviderProfile } from '../providers/types.ts';
import { FENCE_RELOAD_MS, type KeySource, type ReloadOutcome, type SecretStatus } from './source.ts';
import { Lru } from './lru.ts';
import { Tiers } from './tiers.ts';

export { CACHE_DEFAULTS, MAX_SECRETS, resolveCacheOptions, type CacheOptions, type ResolvedCacheOptions } from './options.ts';

/** Background refreshes start at this fraction of the TTL, minus the jitter. */
const REFRESH_AT = 0.9;

type LoadReason = 'cold' | 'refresh' | 'expired' | 'miss' | 'changed' | 'invalidate' | 'notice' | 'resync' | 'fence';

/** Extra loads after a notice whose version the store does not show yet (eventual consistency). */
const VERSION_RETRIES = 3;

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
  /** When the last store call for this secret started (fences and notices space theirs by 250 ms). */
  lastLoadStartAt = -Infinity;
  /** A load that will start after the current one, for fences and notices (shared by every caller). */
  next: Promise<KeyRing | undefined> | undefined;
  /** The store's `hasChanged` check in flight (single-flight). */
  changeCheck: Promise<boolean> | undefined;
  invalidated = false;
  /** Has verified a request: held in the proven tier. */
  proven = false;
  /** Holds a cold-load token, given back when its load finds usable keys. */
  admitted = false;
  /** Waiting for a cold-load token (not in the tiers yet). */
  queued = false;
  /** Requests currently waiting on this entry in `get`. */
  waiting = 0;
  /** Settles the wait for a token. */
  grant: ((admitted: boolean) => void) | undefined;

  constructor(readonly secretId: string) {}

  toJSON(): Record<string, unknown> {
    return { secretId: this.secretId, loadedAt: this.loadedAt, keys: this.ring?.entries.map((e) => e.id) };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `KeyCacheEntry { secretId: ${JSON.stringify(this.secretId)}, keys: [redacted] }`;
  }
}

/** A remembered terminal failure of a cold load (negative caching). */
interface NotFound {
  readonly error: KeyStoreError;
  readonly at: number;
  readonly until: number;
}

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
  const hasChanged = typeof store.hasChanged === 'function' ? store.hasChanged.bind(store) : undefined;
  const entries = new Tiers<Entry>(o.maxSecrets, o.maxSecrets, (entry) => {
    entry.controller?.abort();
    if (entry === lastEntry) lastEntry = undefined;
  });
  /** Cold entries waiting for an admission token, in arrival order (bounded by `maxSecrets`). */
  const queued = new Map<string, Entry>();
  const queue: Entry[] = [];
  /** Secret ids whose cold load failed terminally, answered from memory for `negativeTtlMs`. */
  const notFound = new Lru<string, NotFound>(o.maxSecrets);
  /** Usage records already reported by a `previous-key-unbounded` event. */
  const unboundedReported = new WeakSet<KeyUsage>();
  const keyOf = (secretId: string) => `${storeName}\u0000${secretId}`;
  // The hot path asks for the same secret over and over: a repeat skips the key string and the LRU
  // lookup (the entry is already the most recently used one).
  let lastEntry: Entry | undefined;
  let disposed = false;

  // The cold-load token bucket (see `CacheOptions.coldLoadBurst`), on the verifier's clock.
  let tokens = o.coldLoadBurst;
  let tokensAt = now();
  let pumpTimer: ReturnType<typeof setTimeout> | undefined;

  function refill(t: number): void {
    if (t > tokensAt) tokens = Math.min(o.coldLoadBurst, tokens + ((t - tokensAt) * o.coldLoadsPerSecond) / 1000);
    tokensAt = t;
  }

  function takeToken(t: number): boolean {
    refill(t);
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  }

  function giveBackToken(): void {
    tokens = Math.min(o.coldLoadBurst, tokens + 1);
    pump();
  }

  /** Admits queued entries while tokens last; schedules itself for the next token otherwise. */
  function pump(): void {
    if (pumpTimer !== undefined) {
      clearTimeout(pumpTimer);
      pumpTimer = undefined;
    }
    refill(now());
    while (queue.length > 0 && tokens >= 1) {
      const e = queue.shift() as Entry;
      if (!e.queued) continue; // cancelled
      tokens -= 1;
      admit(e, true);
    }
    if (queue.length > 0 && !disposed) {
      const waitMs = Math.max(1, Math.ceil(((1 - tokens) * 1000) / o.coldLoadsPerSecond));
      pumpTimer = setTimeout(pump, Math.min(waitMs, MAX_TIMER_MS));
      (pumpTimer as { unref?: () => void }).unref?.();
    }
  }

  function admit(e: Entry, withToken: boolean): void {
    const key = keyOf(e.secretId);
    e.queued = false;
    queued.delete(key);
    e.admitted = withToken;
    entries.set(key, e);
    const grant = e.grant;
    e.grant = undefined;
    grant?.(true);
  }

  /** Nobody waits for a queued entry any more: drop it without a store call or a token. */
  function abandon(e: Entry): void {
    e.queued = false;
    queued.delete(keyOf(e.secretId));
    // Drop abandoned entries from the line now and then, so a long flood cannot grow it.
    if (queue.length > 2 * queued.size + 64) {
      let kept = 0;
      for (const q of queue) if (q.queued) queue[kept++] = q;
      queue.length = kept;
    }
    const grant = e.grant;
    e.grant = undefined;
    grant?.(false);
  }

  function limited(secretId: string): VerificationError {
    return new VerificationError(
      'COLD_LOAD_LIMITED',
      `Key store ${storeName}: ${secretId} is not loaded and too many secrets that were not held were loaded lately (the cold-load admission limit); retry later.`,
      {
        provider: provider.name,
        secretId,
        hint: 'Usually requests for made-up secret ids (map secretId only to known tenants); for a mass warm-up raise cache.coldLoadBurst / coldLoadsPerSecond, or call verifier.warm(secretId) at startup.',
      },
    );
  }

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

  function load(e: Entry, reason: LoadReason): Promise<KeyRing> {
    if (e.inflight !== undefined) return e.inflight;
    const controller = new AbortController();
    e.controller = controller;
    const run = async (): Promise<KeyRing> => {
      if (e.queued) {
        // A cold load without a token waits for one (or for everyone waiting on it to give up).
        const admitted = await new Promise<boolean>((resolve) => {
          e.grant = resolve;
        });
        if (!admitted) {
          if (e.controller === controller) {
            e.inflight = undefined;
            e.controller = undefined;
          }
          throw limited(e.secretId);
        }
      }
      const started = now();
      e.lastLoadStartAt = started;
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
        if (e.admitted) {
          e.admitted = false;
          // The id exists: its token goes back, so genuine tenants never drain the bucket.
          if (ring.entries.length > 0) giveBackToken();
        }
        return ring;
      } catch (err) {
        const error = classify(err, e.secretId);
        const t = now();
        e.admitted = false;
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
        if (!error.retryable && e.ring === undefined) forgetCold(e, error, t);
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

  function accept(e: Entry, versions: unknown, t: number): KeyRing {
    if (!Array.isArray(versions)) {
      throw new KeyStoreError(`${storeName}: getVersions did not return an array`, {
        retryable: false,
        store: storeName,
        secretId: e.secretId,
        reason: 'INVALID_FORMAT',
        code: 'BAD_RESULT',
      });
    }
    for (const v of versions) {
      const problem = versionProblem(v);
      if (problem !== undefined) {
        throw new KeyStoreError(`${storeName}: ${problem}`, {
          retryable: false,
          store: storeName,
          secretId: e.secretId,
          reason: 'INVALID_FORMAT',
        code: 'BAD_RESULT',
        });
      }
    }
    const ring = buildRing(e.secretId, versions as SecretVersion[], provider, e.ring, usage, t);
    for (const bad of ring.invalid) {
      emit({ type: 'key-invalid', store: storeName, secretId: e.secretId, keyId: bad.id, keyRole: bad.role, reason: bad.reason });
    }
    for (const k of newlyUnboundedPrevious(ring, unboundedReported)) {
      emit({ type: 'previous-key-unbounded', store: storeName, secretId: e.secretId, keyId: k.id });
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
    return new KeyStoreError(`${storeName}: loading ${secretId} failed${errorLabel(err)}`, {
      retryable: true,
      store: storeName,
      secretId,
      reason: 'UNAVAILABLE',
      code: 'UNKNOWN',
      cause: err,
    });
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
    return new VerificationError(terminal ? 'KEYSTORE_MISCONFIGURED' : 'KEYSTORE_UNAVAILABLE', error === undefined ? `${message}.` : `${message}: ${error.message}`, {
      provider: provider.name,
      secretId,
      cause: error,
      hint: terminal
        ? `The ${storeName} store reported a configuration error (${error.reason ?? 'terminal'}): fix the secret, its name or the access to it; the next load picks it up.`
        : undefined,
    });
  }

  /**
   * A load that starts after this call, and no sooner than {@link FENCE_RELOAD_MS} after the last store
   * call for this secret (a fence or a flood of notices costs at most one store call per 250 ms). Every
   * caller until it starts shares it. Resolves `undefined` when it fails.
   */
  function nextLoad(e: Entry, reason: LoadReason): Promise<KeyRing | undefined> {
    if (e.next !== undefined) return e.next;
    const run = async (): Promise<KeyRing | undefined> => {
      await undefined; // `e.next` is set before anything below runs
      // A load in flight may have started before the change this caller knows of: wait for it first.
      if (e.inflight !== undefined) await e.inflight.catch(() => undefined);
      const waitMs = e.lastLoadStartAt + FENCE_RELOAD_MS - now();
      if (waitMs > 0) await sleep(Math.min(waitMs, FENCE_RELOAD_MS));
      // From here on, a new caller needs a load that starts after it: it schedules the next one.
      if (e.next === p) e.next = undefined;
      if (disposed) return undefined;
      return load(e, reason).catch(() => undefined);
    };
    const p: Promise<KeyRing | undefined> = run();
    e.next = p;
    return p;
  }

  /** The store's change check, single-flight; `false` when it fails or the store has none. */
  function storeChanged(e: Entry): Promise<boolean> {
    if (hasChanged === undefined) return Promise.resolve(false);
    if (e.changeCheck !== undefined) return e.changeCheck;
    const p = (async () => {
      try {
        return (await hasChanged(e.secretId, { signal: AbortSignal.timeout(o.loadTimeoutMs || 1) })) === true;
      } catch {
        return false;
      } finally {
        e.changeCheck = undefined;
      }
    })();
    e.changeCheck = p;
    return p;
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
            throw unavailable(secretId, miss.error, `Key store ${storeName} failed to load ${secretId} (remembered for ${o.negativeTtlMs} ms)`);
          }
          notFound.delete(key);
        }
        e = new Entry(secretId);
        if (trusted) {
          entries.set(key, e);
        } else if (takeToken(t)) {
          e.admitted = true;
          entries.set(key, e);
        } else if (queued.size < o.maxSecrets && o.loadTimeoutMs > 0) {
          e.queued = true;
          queued.set(key, e);
          queue.push(e);
          pump();
        } else {
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
        throw unavailable(secretId, err instanceof KeyStoreError ? err : entry.lastError, `Key store ${storeName} failed to load ${secretId}`);
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

    async refreshOnMiss(secretId, seen, fenced = false) {
      const e = entries.get(keyOf(secretId));
      if (e === undefined || disposed) return undefined;
      if (e.ring !== seen && e.ring !== undefined) return e.ring; // someone already reloaded
      const t = now();
      let reason: LoadReason = 'miss';
      if (fenced) {
        // A rotation fence stands: the sender may sign with a key the store write is about to deliver.
        reason = 'fence';
      } else if (e.inflight === undefined) {
        if (t - Math.max(e.lastMissRefreshAt, e.loadedAt) < o.refreshCooldownMs || t < e.retryAt) {
          // Cooling down: a cheap change check (the env-file's stat) may still show a write by another process.
          if (t < e.retryAt || !(await storeChanged(e))) return undefined;
          if (e.ring !== seen && e.ring !== undefined) return e.ring;
          reason = 'changed';
        } else e.lastMissRefreshAt = t;
        emit({ type: 'refresh-on-miss', store: storeName, secretId });
      }
      const p = fenced ? nextLoad(e, reason) : load(e, reason);
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

    refreshOnMissInBackground(secretId, seen, fenced = false) {
      void this.refreshOnMiss(secretId, seen, fenced).catch(() => undefined);
    },

    async reload(secretId, reason, versionId): Promise<ReloadOutcome> {
      const e = entries.peek(keyOf(secretId));
      // Only secrets already held: a notice never causes a cold load (nor fills the cache).
      if (e === undefined || e.ring === undefined || disposed) return 'not-held';
      for (let attempt = 0; attempt <= VERSION_RETRIES; attempt++) {
        const ring = await nextLoad(e, reason);
        if (ring === undefined) return 'failed';
        if (versionId === undefined || ring.entries.some((k) => k.id === versionId) || ring.invalid.some((k) => k.id === versionId)) return 'reloaded';
      }
      return 'reloaded';
    },

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
            : { message: lastError.message, reason: lastError.reason, code: lastError.code, retryable: lastError.retryable, at: e?.lastErrorAt ?? miss?.at ?? t },
        nextRefreshAt: ring && e ? Math.max(e.refreshAt, e.retryAt) : miss?.until,
        loading: e?.inflight !== undefined,
        verified: e?.proven === true,
      };
    },

    secretIds: () => [...entries.values()].map((e) => e.secretId),

    async dispose() {
      disposed = true;
      lastEntry = undefined;
      if (pumpTimer !== undefined) clearTimeout(pumpTimer);
      for (const e of queue) if (e.queued) abandon(e);
      queue.length = 0;
      for (const e of entries.values()) e.controller?.abort();
      entries.clear();
      notFound.clear();
      await store.dispose?.();
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    (timer as { unref?: () => void }).unref?.();
  });
}

/** `" (TypeError ECONNRESET)"` for an error a store did not classify: its name and code, never its message. */
function errorLabel(err: unknown): string {
  if (err === null || typeof err !== 'object') return '';
  const name = (err as { name?: unknown }).name;
  const code = (err as { code?: unknown }).code;
  const parts = [
    typeof name === 'string' && /^[A-Za-z][A-Za-z0-9]{0,39}$/.test(name) ? name : undefined,
    typeof code === 'string' && /^[A-Z][A-Z0-9_]{0,39}$/.test(code) ? code : undefined,
  ].filter((x): x is string => x !== undefined);
  return parts.length === 0 ? '' : ` (${parts.join(' ')})`;
}
