/**
 * Hook and event payloads. None of them ever carries a secret, a signature or a body.
 *
 * @module
 */
import type { KeyStoreError, VerificationErrorCode } from './errors.ts';
import type { KeyRole } from './keys/types.ts';

/** Passed to `onVerified` after every accepted webhook. */
export interface VerifiedInfo {
  /** Provider profile name. */
  readonly provider: string;
  /** Secret id verified against. */
  readonly secretId: string;
  /** Id of the key version that matched. */
  readonly keyId: string;
  /** Role of that key. */
  readonly keyRole: KeyRole;
}

/** Passed to `onRejected` after every rejected webhook. */
export interface RejectedInfo {
  /** Provider profile name. */
  readonly provider: string;
  /** Secret id, when it was resolved before the rejection. */
  readonly secretId: string | undefined;
  /** Rejection code. */
  readonly code: VerificationErrorCode;
  /** For `KEY_EXPIRED`: the out-of-window key that matched. */
  readonly keyId?: string | undefined;
  /** For `KEY_EXPIRED`: that key's role. */
  readonly keyRole?: KeyRole | undefined;
}

/** Fields every key-cache event carries. */
export interface CacheEventBase {
  /** Store name (`env`, `aws-secrets-manager`, ...). */
  readonly store: string;
  /** Secret id the event is about. */
  readonly secretId: string;
}

/** A store load started. */
export interface LoadStartEvent extends CacheEventBase {
  /** Event type. */
  readonly type: 'load-start';
  /**
   * Why: `cold`, `refresh` (background, before expiry), `expired`, `miss` (refresh-on-unknown-key),
   * `changed` (a miss found the store changed: the env-file's stat check), `invalidate`, `notice` (a fleet
   * said the secret changed; also `verifier.reload()`), `resync` (after a gap in fleet notices) or `fence`
   * (a miss during a rotation fence).
   */
  readonly reason: string;
}

/** A store load succeeded. */
export interface LoadSuccessEvent extends CacheEventBase {
  /** Event type. */
  readonly type: 'load-success';
  /** Why the load ran (see {@link LoadStartEvent.reason}). */
  readonly reason: string;
  /** Time the load took, in ms (on the verifier's clock). */
  readonly durationMs: number;
  /** Usable key versions loaded. */
  readonly versions: number;
}

/** A store load failed. */
export interface LoadFailureEvent extends CacheEventBase {
  /** Event type. */
  readonly type: 'load-failure';
  /** Why the load ran (see {@link LoadStartEvent.reason}). */
  readonly reason: string;
  /** Time until the failure, in ms. */
  readonly durationMs: number;
  /** Whether the store said a retry may succeed. */
  readonly retryable: boolean;
  /** The store's error (secret-free). */
  readonly error: KeyStoreError;
}

/** A stale key set was served because a refresh failed, is under way, or timed out. */
export interface StaleServedEvent extends CacheEventBase {
  /** Event type. */
  readonly type: 'stale-served';
  /** Age of the served key set, in ms. */
  readonly ageMs: number;
  /** `store-error`, `refreshing` or `load-timeout`. */
  readonly why: string;
}

/** No key matched, so the secret is reloaded once (single-flight, cooldown-limited). */
export interface RefreshOnMissEvent extends CacheEventBase {
  /** Event type. */
  readonly type: 'refresh-on-miss';
}

/**
 * A version the store returned is unusable and is never used: its secret does not decode for the
 * provider profile (`undecodable`), or several versions share its id with different secrets
 * (`conflicting-id`: keyturn never picks one of them by store order).
 */
export interface KeyInvalidEvent extends CacheEventBase {
  /** Event type. */
  readonly type: 'key-invalid';
  /** Id of the unusable version. */
  readonly keyId: string;
  /** Its role (for `conflicting-id`: the most privileged role among the versions with that id). */
  readonly keyRole: KeyRole;
  /** Why it is unusable. */
  readonly reason: 'undecodable' | 'conflicting-id';
}

/**
 * A `previous` key has no window end (`notAfter`): it is accepted for as long as the store keeps
 * returning it — for `envKeyStore`, `X_PREVIOUS` without `X_PREVIOUS_NOT_AFTER`. Emitted once per key
 * version (when it is first loaded), not per request. Set an end (or retire the key) once senders have
 * moved to the new one.
 */
export interface PreviousKeyUnboundedEvent extends CacheEventBase {
  /** Event type. */
  readonly type: 'previous-key-unbounded';
  /** Id of the previous key without an end. */
  readonly keyId: string;
}

/** An `onVerified` / `onRejected` hook threw; verification went on. */
export interface HookErrorEvent {
  /** Event type. */
  readonly type: 'hook-error';
  /** Which hook threw. */
  readonly hook: string;
  /** What it threw. */
  readonly error: unknown;
}

/** The replay store failed. On `claim`: `rejected` (fail-closed, 503) or `accepted-unprotected` (fail-open). */
export interface ReplayStoreErrorEvent {
  /** Event type. */
  readonly type: 'replay-store-error';
  /** Replay store name. */
  readonly store: string;
  /** Provider profile name. */
  readonly provider: string;
  /** Secret id of the request. */
  readonly secretId: string;
  /** The failed operation. */
  readonly operation: 'claim' | 'release';
  /** What happened to the request. */
  readonly outcome: 'rejected' | 'accepted-unprotected' | 'release-failed';
  /** The replay store's error. */
  readonly error: unknown;
}

/**
 * A rotation fence started, ended (a `key-changed` notice or `verifier.fence(id, 0)`) or expired (its TTL
 * ran out). While it stands, a delivery no key matches reloads the secret at once and, if still nothing
 * matches, is answered `KEY_ROTATION_IN_PROGRESS` (503) instead of `NO_MATCHING_KEY`.
 */
export interface RotationFenceEvent {
  /** Event type. */
  readonly type: 'rotation-fence';
  /** Secret id. */
  readonly secretId: string;
  /** What happened. */
  readonly state: 'started' | 'ended' | 'expired';
  /** For `started`: how long it stands unless ended, ms. */
  readonly ttlMs?: number | undefined;
}

/** A fleet notice was received and applied (a reload of a held secret, a fence). */
export interface FleetNoticeEvent {
  /** Event type. */
  readonly type: 'fleet-notice';
  /** Fleet backend name (`redis`, ...). */
  readonly fleet: string;
  /** Notice type (see `FleetNotice`). */
  readonly notice: 'key-changed' | 'rotation-started' | 'rotation-ended';
  /** Secret id the notice is about. */
  readonly secretId: string;
  /** Whether this verifier holds that secret (a notice about another secret changes nothing). */
  readonly held: boolean;
}

/**
 * A fleet notice was ignored: not valid JSON or not the notice format (`malformed`), a type or format
 * version this release does not know (`unknown`), or larger than a notice can be (`too-large`). The
 * notice's content is never included.
 */
export interface FleetNoticeIgnoredEvent {
  /** Event type. */
  readonly type: 'fleet-notice-ignored';
  /** Fleet backend name. */
  readonly fleet: string;
  /** Why. */
  readonly reason: 'malformed' | 'unknown' | 'too-large';
  /** Length of the ignored message, in characters. */
  readonly length: number;
}

/** Notices may have been missed (the fleet's subscriber reconnected): every held secret is re-validated. */
export interface FleetResyncEvent {
  /** Event type. */
  readonly type: 'fleet-resync';
  /** Fleet backend name. */
  readonly fleet: string;
  /** Secrets re-validated (one load each). */
  readonly secrets: number;
}

/**
 * A fleet backend operation failed. Verification is never affected: counts are kept (bounded) and
 * flushed later; notices resume after the reconnect (with a `fleet-resync`).
 */
export interface FleetErrorEvent {
  /** Event type. */
  readonly type: 'fleet-error';
  /** Fleet backend name. */
  readonly fleet: string;
  /** The failed operation (`poll`: a fleet that polls for key-change markers, such as DynamoDB's, could not read them). */
  readonly operation: 'flush' | 'subscribe' | 'heartbeat' | 'resync' | 'poll';
  /** Deltas (keys with counts) waiting to be flushed. */
  readonly pending: number;
  /** The backend's error (its message never carries key material: only ids and counts are sent). */
  readonly error: unknown;
}

/** Operational events (`createVerifier({ onEvent })`). None of them carries a secret. */
export type KeyturnEvent =
  | LoadStartEvent
  | LoadSuccessEvent
  | LoadFailureEvent
  | StaleServedEvent
  | RefreshOnMissEvent
  | KeyInvalidEvent
  | PreviousKeyUnboundedEvent
  | HookErrorEvent
  | ReplayStoreErrorEvent
  | RotationFenceEvent
  | FleetNoticeEvent
  | FleetNoticeIgnoredEvent
  | FleetResyncEvent
  | FleetErrorEvent;
