/**
 * The key cache's state of one secret ({@link Entry}), the remembered terminal failure of a cold
 * load ({@link NotFound}) and why a load started ({@link LoadReason}).
 *
 * @internal
 * @module
 */
import type { KeyStoreError } from '../errors.ts';
import type { KeyRing } from '../keys/ring.ts';

/** Why a load started (the `reason` of the `load-*` events). */
export type LoadReason = 'cold' | 'refresh' | 'expired' | 'miss' | 'changed' | 'invalidate' | 'notice' | 'resync' | 'fence';

/** One secret's state. Never printed with its keys. */
export class Entry {
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
export interface NotFound {
  readonly error: KeyStoreError;
  readonly at: number;
  readonly until: number;
}
