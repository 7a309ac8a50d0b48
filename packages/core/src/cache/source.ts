/**
 * Where the verifier gets key rings: a static list, or a store behind the cache.
 *
 * @internal
 * @module
 */
import type { KeyRing } from '../keys/ring.ts';

/** One key version as `verifier.status()` reports it (never the secret). */
export interface SecretStatusVersion {
  /** Version id. */
  readonly id: string;
  /** Role: `active`, `pending` or `previous`. */
  readonly role: string;
  /** Window start, epoch ms. */
  readonly notBefore?: number | undefined;
  /** Window end, epoch ms. */
  readonly notAfter?: number | undefined;
}

/** The last store failure as `verifier.status()` reports it. */
export interface SecretStatusError {
  /** Secret-free message. */
  readonly message: string;
  /** Why, from the store (`NOT_FOUND`, `THROTTLED`, ...: a `KeyStoreErrorReason`). */
  readonly reason?: string | undefined;
  /** The cloud's own code (`ResourceNotFoundException`, `PERMISSION_DENIED`, ...), when there is one. */
  readonly code?: string | undefined;
  /** Whether a retry may succeed. */
  readonly retryable: boolean;
  /** Epoch ms of the failure. */
  readonly at: number;
}

/** Per-secret snapshot returned by `verifier.status()`. */
export interface SecretStatus {
  /** Secret id. */
  readonly secretId: string;
  /** Store name (`static` for a static key list). */
  readonly store: string;
  /** `cold`: never loaded; `fresh`: within TTL; `stale`: past TTL, still served (stale-if-error); `expired`: past `maxStaleMs`. */
  readonly state: 'cold' | 'fresh' | 'stale' | 'expired';
  /** Epoch ms of the last successful load. */
  readonly loadedAt: number | undefined;
  /** Age of the key set in ms. */
  readonly ageMs: number | undefined;
  /** Versions held (ids, roles, windows; never secrets). */
  readonly versions: readonly SecretStatusVersion[];
  /** Versions the store returned that did not decode (ids only). */
  readonly invalidVersions: readonly string[];
  /** The last load failure, if the last load failed (also a remembered not-found, see `cache.negativeTtlMs`). */
  readonly lastError: SecretStatusError | undefined;
  /** Epoch ms of the next background refresh. */
  readonly nextRefreshAt: number | undefined;
  /** Whether a load is in flight (or waiting for a cold-load token). */
  readonly loading: boolean;
  /**
   * Whether this secret has verified a request since it was loaded: such a secret is never evicted
   * from the cache by one that has not.
   */
  readonly verified: boolean;
}

/** Least time between two store calls a fence, a notice or a resync causes, per secret: 250 ms. */
export const FENCE_RELOAD_MS = 250;

/** What {@link KeySource.reload} did. */
export type ReloadOutcome = 'reloaded' | 'not-held' | 'failed';

/** @internal */
export interface KeySource {
  readonly storeName: string;
  /** A usable ring without waiting, or `undefined` (cold / too stale). May start a background refresh. */
  peek(secretId: string, now: number): KeyRing | undefined;
  /**
   * A usable ring, waiting on the store at most `loadTimeoutMs`; throws `KEYSTORE_UNAVAILABLE`,
   * `KEYSTORE_MISCONFIGURED` or `COLD_LOAD_LIMITED`. `trusted` (the operator's own `warm()`) skips
   * the admission limit on cold loads.
   */
  get(secretId: string, trusted?: boolean): Promise<KeyRing>;
  /** The secret verified a request with `ring` (called once per ring: `ring.verified` is then true). */
  verified(secretId: string, ring: KeyRing): void;
  /**
   * After no key matched: reload once (single-flight, cooldown-limited; a store with `hasChanged` is asked
   * first while cooling down). `undefined` when cooling down. `fenced` (a rotation fence stands): a load
   * that starts after this call, at most one per {@link FENCE_RELOAD_MS} per secret, instead of the cooldown.
   */
  refreshOnMiss(secretId: string, seen: KeyRing, fenced?: boolean): Promise<KeyRing | undefined>;
  /** Same, without waiting (sync verification): starts the reload in the background. */
  refreshOnMissInBackground(secretId: string, seen: KeyRing, fenced?: boolean): void;
  /**
   * A fleet notice (or `verifier.reload()`): reloads a held secret with a load that starts after this call
   * (at most one per {@link FENCE_RELOAD_MS}), serving the held keys meanwhile. With `versionId`, a reload
   * that does not show that version yet is retried a few times. Never rejects.
   */
  reload(secretId: string, reason: 'notice' | 'resync', versionId?: string): Promise<ReloadOutcome>;
  invalidate(secretId?: string): void;
  /** Whether a key set of `secretId` is held (cheap; touches no recency). */
  holds(secretId: string): boolean;
  status(secretId: string): SecretStatus;
  secretIds(): string[];
  dispose(): Promise<void>;
}
