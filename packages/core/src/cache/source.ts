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
  /** Short reason from the store (`ThrottlingException`, `NOT_FOUND`, ...). */
  readonly reason?: string | undefined;
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
  /** After no key matched: reload once (single-flight, cooldown-limited). `undefined` when cooling down. */
  refreshOnMiss(secretId: string, seen: KeyRing): Promise<KeyRing | undefined>;
  /** Same, without waiting (sync verification): starts the reload in the background. */
  refreshOnMissInBackground(secretId: string, seen: KeyRing): void;
  invalidate(secretId?: string): void;
  status(secretId: string): SecretStatus;
  secretIds(): string[];
  dispose(): Promise<void>;
}
