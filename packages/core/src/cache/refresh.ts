/**
 * The key cache's reloads of a held secret: refresh-on-miss (an unknown signature reloads once,
 * then a cooldown in which only the store's cheap `hasChanged` check may start one), the fence
 * reload (a load that starts after the caller, spaced {@link FENCE_RELOAD_MS} apart) and the
 * reload of a notice (retried while the store does not show the notified version yet).
 *
 * @internal
 * @module
 */
import type { KeyturnEvent } from '../events.ts';
import type { KeyRing } from '../keys/ring.ts';
import type { KeyStore } from '../keys/types.ts';
import type { Entry, LoadReason } from './entry.ts';
import type { Load } from './load.ts';
import type { ResolvedCacheOptions } from './options.ts';
import { FENCE_RELOAD_MS, type KeySource, type ReloadOutcome } from './source.ts';
import type { Tiers } from './tiers.ts';

/** Extra loads after a notice whose version the store does not show yet (eventual consistency). */
const VERSION_RETRIES = 3;

/** What the reloads need from the cache around them. */
export interface RefreshContext {
  readonly store: KeyStore;
  readonly now: () => number;
  readonly emit: (event: KeyturnEvent) => void;
  readonly o: ResolvedCacheOptions;
  /** The cache's tiers (only held secrets are reloaded). */
  readonly entries: Tiers<Entry>;
  readonly keyOf: (secretId: string) => string;
  readonly load: Load;
  readonly disposed: () => boolean;
}

/** The key source's reload methods. */
export type Refresh = Pick<KeySource, 'refreshOnMiss' | 'reload'>;

/** @internal */
export function reloads({ store, now, emit, o, entries, keyOf, load, disposed }: RefreshContext): Refresh {
  const storeName = store.name;
  const hasChanged = typeof store.hasChanged === 'function' ? store.hasChanged.bind(store) : undefined;

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
      if (disposed()) return undefined;
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

  return {
    async refreshOnMiss(secretId, seen, fenced = false) {
      const e = entries.get(keyOf(secretId));
      if (e === undefined || disposed()) return undefined;
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

    async reload(secretId, reason, versionId): Promise<ReloadOutcome> {
      const e = entries.peek(keyOf(secretId));
      // Only secrets already held: a notice never causes a cold load (nor fills the cache).
      if (e === undefined || e.ring === undefined || disposed()) return 'not-held';
      for (let attempt = 0; attempt <= VERSION_RETRIES; attempt++) {
        const ring = await nextLoad(e, reason);
        if (ring === undefined) return 'failed';
        if (versionId === undefined || ring.entries.some((k) => k.id === versionId) || ring.invalid.some((k) => k.id === versionId))
          return 'reloaded';
      }
      return 'reloaded';
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    (timer as { unref?: () => void }).unref?.();
  });
}
