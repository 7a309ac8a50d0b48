/**
 * The key cache's settings (`createVerifier({ cache })`): the options, their defaults, and their checks.
 *
 * @module
 */
import { booleanOption, durationOption, numberOption } from '../lib/validate.ts';

/** Cache settings (`createVerifier({ cache })`). Every duration is in ms, from 0 to 2 147 483 647. */
export interface CacheOptions {
  /** How long a loaded key set is fresh. A background refresh starts before that (see `jitter`). @default 300_000 */
  ttlMs?: number;
  /** How long past its TTL a key set keeps serving when refreshes fail (stale-if-error). @default 3_600_000 */
  maxStaleMs?: number;
  /** Least time between two reloads caused by an unknown key (refresh-on-miss) for one secret. @default 30_000 */
  refreshCooldownMs?: number;
  /** How long one verification waits for the store before serving stale or failing. @default 3_000 */
  loadTimeoutMs?: number;
  /** Hard limit for one store call (at least 1 ms); past it the call is aborted and counted as a retryable failure. @default 30_000 */
  storeTimeoutMs?: number;
  /**
   * Most secrets held (one per tenant or webhook), an integer from 1 to 100 000, in each of two tiers:
   * secrets that have verified a request, and secrets that have not (yet). Least recently used ones are
   * evicted within their tier, so a secret that has verified a request is never evicted by one that has not.
   * @default 1_000
   */
  maxSecrets?: number;
  /**
   * Spread of background refreshes, as a fraction of `ttlMs` from 0 to 0.8: a refresh starts at
   * `ttl × (0.9 − jitter × random)`, so instances do not refresh in lockstep and a refresh always starts
   * before the key set expires.
   * @default 0.2
   */
  jitter?: number;
  /** First delay after a failed load before the store is asked again; doubles up to `ttlMs`. @default 1_000 */
  errorBackoffMs?: number;
  /** Whether a terminal store error (not found, access denied) keeps serving the last good key set up to `maxStaleMs`. @default true */
  serveStaleOnTerminalError?: boolean;
  /**
   * Negative caching: how long a secret id whose first load failed terminally (the store says it does not
   * exist, or access is denied) is answered from memory with `KEYSTORE_MISCONFIGURED`, without asking the
   * store again. `0` turns it off. `verifier.invalidate(secretId)` forgets it at once.
   * @default 30_000
   */
  negativeTtlMs?: number;
  /**
   * Admission limit on cold loads — loads of a secret the cache does not hold yet, which is what a
   * per-request `secretId` lets anyone trigger. A token bucket of this size (an integer from 1 to
   * 1 000 000): each cold load takes a token, and a load that finds usable keys gives it back, so real
   * tenants can warm up by the thousand at once (at most this many loads in flight, the others waiting up
   * to `loadTimeoutMs`), while made-up ids drain the bucket. With no token left, a request for a secret
   * not held is refused with `COLD_LOAD_LIMITED` (503: the sender retries; nothing is lost). Secrets
   * already held, and `verifier.warm()`, are never limited.
   * @default 100
   */
  coldLoadBurst?: number;
  /** Refill rate of the cold-load bucket, in tokens per second (from 0.01 to 1 000 000). @default 10 */
  coldLoadsPerSecond?: number;
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
  negativeTtlMs: 30_000,
  coldLoadBurst: 100,
  coldLoadsPerSecond: 10,
};

/** Most secrets `maxSecrets` may ask for (per tier); the cache preallocates its slots. */
export const MAX_SECRETS = 100_000;

/**
 * Checks every cache option (a `TypeError` naming the option for `NaN`, `Infinity`, strings, out-of-range
 * values) and fills in the defaults.
 *
 * @internal
 */
export function resolveCacheOptions(options: CacheOptions | undefined): ResolvedCacheOptions {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new TypeError('createVerifier(): `cache` must be an object');
  }
  const c = options ?? {};
  const w = 'createVerifier()';
  const d = CACHE_DEFAULTS;
  return {
    ttlMs: durationOption(w, 'cache.ttlMs', c.ttlMs, d.ttlMs),
    maxStaleMs: durationOption(w, 'cache.maxStaleMs', c.maxStaleMs, d.maxStaleMs),
    refreshCooldownMs: durationOption(w, 'cache.refreshCooldownMs', c.refreshCooldownMs, d.refreshCooldownMs),
    loadTimeoutMs: durationOption(w, 'cache.loadTimeoutMs', c.loadTimeoutMs, d.loadTimeoutMs),
    storeTimeoutMs: durationOption(w, 'cache.storeTimeoutMs', c.storeTimeoutMs, d.storeTimeoutMs, 1),
    maxSecrets: numberOption(w, 'cache.maxSecrets', c.maxSecrets, d.maxSecrets, 1, MAX_SECRETS, true),
    jitter: numberOption(w, 'cache.jitter', c.jitter, d.jitter, 0, 0.8),
    errorBackoffMs: durationOption(w, 'cache.errorBackoffMs', c.errorBackoffMs, d.errorBackoffMs),
    serveStaleOnTerminalError: booleanOption(
      w,
      'cache.serveStaleOnTerminalError',
      c.serveStaleOnTerminalError,
      d.serveStaleOnTerminalError,
    ),
    negativeTtlMs: durationOption(w, 'cache.negativeTtlMs', c.negativeTtlMs, d.negativeTtlMs),
    coldLoadBurst: numberOption(w, 'cache.coldLoadBurst', c.coldLoadBurst, d.coldLoadBurst, 1, 1_000_000, true),
    coldLoadsPerSecond: numberOption(w, 'cache.coldLoadsPerSecond', c.coldLoadsPerSecond, d.coldLoadsPerSecond, 0.01, 1_000_000),
  };
}
