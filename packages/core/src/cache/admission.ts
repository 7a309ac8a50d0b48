/**
 * The key cache's cold-load admission (see `CacheOptions.coldLoadBurst`): a token bucket on the
 * verifier's clock, and the line of cold entries waiting for a token (bounded by `maxSecrets`).
 * A cold load that finds usable keys gives its token back, so genuine tenants never drain the bucket.
 *
 * @internal
 * @module
 */
import { VerificationError } from '../errors.ts';
import { MAX_TIMER_MS } from '../lib/validate.ts';
import type { ProviderProfile } from '../providers/types.ts';
import type { Entry } from './entry.ts';
import type { ResolvedCacheOptions } from './options.ts';
import type { Tiers } from './tiers.ts';

/** What the admission needs from the cache around it. */
export interface AdmissionContext {
  readonly storeName: string;
  readonly provider: ProviderProfile;
  readonly o: ResolvedCacheOptions;
  readonly now: () => number;
  /** The cache's tiers: an admitted entry goes there. */
  readonly entries: Tiers<Entry>;
  readonly keyOf: (secretId: string) => string;
  readonly disposed: () => boolean;
}

/** The admission of one key cache. */
export interface Admission {
  /** Cold entries waiting for an admission token, by cache key. */
  readonly queued: Map<string, Entry>;
  /** Takes a token if one is left at `t`. */
  takeToken(t: number): boolean;
  /** A cold load found usable keys: its token goes back (and the line moves on). */
  giveBackToken(): void;
  /** Puts a cold entry in the line; `false` when the line is full or loads may not wait. */
  enqueue(key: string, e: Entry): boolean;
  /** Moves a queued entry into the tiers (`withToken`: it holds a token). */
  admit(e: Entry, withToken: boolean): void;
  /** The `COLD_LOAD_LIMITED` rejection. */
  limited(secretId: string): VerificationError;
  /** Nobody waits for a queued entry any more: drop it without a store call or a token. */
  abandon(e: Entry): void;
  /** Stops the line: every queued entry is abandoned. */
  dispose(): void;
}

/** @internal */
export function coldLoadAdmission({ storeName, provider, o, now, entries, keyOf, disposed }: AdmissionContext): Admission {
  /** Cold entries waiting for an admission token, in arrival order (bounded by `maxSecrets`). */
  const queued = new Map<string, Entry>();
  const queue: Entry[] = [];

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
    if (queue.length > 0 && !disposed()) {
      const waitMs = Math.max(1, Math.ceil(((1 - tokens) * 1000) / o.coldLoadsPerSecond));
      pumpTimer = setTimeout(pump, Math.min(waitMs, MAX_TIMER_MS));
      (pumpTimer as { unref?: () => void }).unref?.();
    }
  }

  function enqueue(key: string, e: Entry): boolean {
    if (!(queued.size < o.maxSecrets && o.loadTimeoutMs > 0)) return false;
    e.queued = true;
    queued.set(key, e);
    queue.push(e);
    pump();
    return true;
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

  function dispose(): void {
    if (pumpTimer !== undefined) clearTimeout(pumpTimer);
    for (const e of queue) if (e.queued) abandon(e);
    queue.length = 0;
  }

  return { queued, takeToken, giveBackToken, enqueue, admit, limited, abandon, dispose };
}
