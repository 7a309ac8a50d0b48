/**
 * The fleet contract: what every instance verifying for one secret shares, whatever the backend.
 *
 * A fleet shares three small things and never key material (keys always come from the store):
 *
 * - **notices**: "secret X changed" (after a store write) and "rotation of X in progress" (a fence,
 *   announced before a sender's rotate call). A backend pushes them (Redis pub/sub) or a fleet polls for
 *   markers every few seconds (DynamoDB): both end in the same {@link FleetMember} calls;
 * - **a usage ledger**: per secret and key, matches and the last match time summed over every instance,
 *   counted in memory by each verifier and flushed in batches by the fleet — never on the request path;
 * - optionally **replay claims** (the backend's `ReplayStore`).
 *
 * `createVerifier({ fleet })` calls {@link Fleet.join} once; the rotation workflows and the CLI use the
 * publishing side ({@link Fleet.announceRotation}, {@link Fleet.publishChange}) and the verdict side
 * ({@link Fleet.usage}). `@keyturn/redis` implements it on Redis.
 *
 * @module
 */
import type { KeyturnEvent } from '../events.ts';
import type { KeyRole } from '../keys/types.ts';

/**
 * A fleet notice, as instances exchange it. Ids and durations only: a notice can make a verifier reload
 * a secret it already holds (at most one store call per 250 ms per secret), never hand it a key.
 *
 * - `key-changed`: the store holds a new key set for `secretId` (`versionId`: the new active version,
 *   when the writer knows it). Ends a rotation fence of that secret.
 * - `rotation-started`: a rotation fence for `secretId` stands for `ttlMs` (see {@link Fleet.announceRotation}).
 * - `rotation-ended`: the fence ended without a key change (the sender's rotate call failed).
 */
export type FleetNotice = KeyChangedNotice | RotationStartedNotice | RotationEndedNotice;

/** "The store holds a new key set for `secretId`": every instance holding it reloads it. */
export interface KeyChangedNotice {
  /** Notice type. */
  readonly type: 'key-changed';
  /** The secret that changed. */
  readonly secretId: string;
  /** The new active version id, when the writer knows it. */
  readonly versionId?: string | undefined;
}

/** "A rotation of `secretId` is in progress": a fence stands for `ttlMs` unless a `key-changed` ends it. */
export interface RotationStartedNotice {
  /** Notice type. */
  readonly type: 'rotation-started';
  /** The secret being rotated. */
  readonly secretId: string;
  /** How long the fence stands, ms. */
  readonly ttlMs: number;
}

/** "The rotation of `secretId` ended without a key change" (the sender's rotate call failed). */
export interface RotationEndedNotice {
  /** Notice type. */
  readonly type: 'rotation-ended';
  /** The secret whose fence ends. */
  readonly secretId: string;
}

/** The types a {@link FleetNotice} can have. */
export const FLEET_NOTICE_TYPES: readonly FleetNotice['type'][] = ['key-changed', 'rotation-started', 'rotation-ended'];

/** Default lifetime of a rotation fence: 2 minutes. */
export const DEFAULT_FENCE_TTL_MS = 120_000;

/** Longest rotation fence: 1 hour (a fence that outlives its rotation only turns 401s into 503s). */
export const MAX_FENCE_TTL_MS = 3_600_000;

/**
 * One key's usage counted by one verifier since the fleet last took it ({@link FleetMember.takeUsage}).
 * Never carries key material.
 */
export interface UsageDelta {
  /** Secret id. */
  readonly secretId: string;
  /** Key version id. */
  readonly keyId: string;
  /** Role of the key as last loaded. */
  readonly keyRole: KeyRole;
  /** Matches since the last take (0 for a key just loaded: the ledger learns it exists). */
  readonly matches: number;
  /** Epoch ms of this key's last match on this instance, if it ever matched. */
  readonly lastMatchedAt: number | undefined;
  /** Window start, epoch ms. */
  readonly notBefore: number | undefined;
  /** Window end, epoch ms. */
  readonly notAfter: number | undefined;
  /** Epoch ms the key was last reported by its store. */
  readonly lastSeenAt: number;
}

/**
 * The verifier, as a fleet sees it (handed to {@link Fleet.join}). Every method is cheap and never
 * throws; none of them is ever called on the request path.
 */
export interface FleetMember {
  /** Provider profile name of the verifier, for events. */
  readonly provider: string;
  /** The verifier's clock, epoch ms. */
  now(): number;
  /** Secret ids the verifier holds now (notices about other ids are ignored: they never cause a cold load). */
  secretIds(): string[];
  /**
   * `secretId` changed in the store: reload it (single-flight, at most one store call per 250 ms per
   * secret), keep verifying with the keys held meanwhile, and end its fence once the reload succeeded.
   * A no-op for a secret the verifier does not hold. `versionId`: the version the new key set must
   * contain; a reload that does not show it yet (an eventually consistent store) is retried a few times.
   */
  changed(secretId: string, versionId?: string): Promise<void>;
  /**
   * Notices may have been missed (the subscriber reconnected, polling resumed after a gap): re-validate
   * every held secret (one load each). Resolves when every reload settled.
   */
  resync(): Promise<void>;
  /** A rotation fence for `secretId` stands for `ttlMs` more (`0`: it ended). */
  fence(secretId: string, ttlMs: number): void;
  /**
   * The usage counted since the last take, one delta per key that matched or was (re)loaded since. Each
   * call hands every count out exactly once: a fleet that cannot write a delta keeps it (bounded) and
   * writes it later.
   */
  takeUsage(): UsageDelta[];
  /** Reports an operational event through the verifier's `onEvent`. */
  emit(event: KeyturnEvent): void;
}

/** What {@link Fleet.join} returns to the verifier. */
export interface FleetMembership {
  /**
   * Called (rarely: once per flush interval at most) when the verifier has counts to flush after having
   * none, so a fleet can schedule its next flush lazily instead of polling.
   */
  usagePending(): void;
  /** The verifier is disposed: flush what is left, stop listening. */
  leave(): Promise<void>;
}

/** Options of {@link Fleet.announceRotation}. */
export interface AnnounceRotationOptions {
  /** How long the fence stands unless a `key-changed` notice ends it, ms (1 to 3 600 000). @default 120_000 */
  readonly ttlMs?: number;
}

/** Options of {@link Fleet.publishChange}. */
export interface PublishChangeOptions {
  /** The new active version id, when known (verifiers retry a reload that does not show it yet). */
  readonly versionId?: string;
}

/** An instance that has not reported its counts lately: silence cannot be claimed while it is missing. */
export interface MissingInstance {
  /** Instance id. */
  readonly instance: string;
  /** Epoch ms of its last report. */
  readonly lastReportAt: number;
}

/**
 * A serialisable usage report of one instance or of a whole fleet: what `readiness()` (from
 * `@keyturn/rotation`) judges, what `usageSnapshot()` builds from one verifier and what
 * {@link Fleet.usage} returns for every instance together.
 */
export interface UsageSnapshot {
  /** Format version. */
  readonly version: 1;
  /** Instance name(s), for humans. */
  readonly instances: readonly string[];
  /** Epoch ms the counting started. After a merge: the latest start (conservative). */
  readonly since: number | undefined;
  /** Epoch ms the evidence reaches (the snapshot time, or the oldest last report of a live instance). */
  readonly takenAt: number;
  /** Per-key usage. */
  readonly keys: readonly UsageSnapshotKey[];
  /**
   * Matches before this epoch ms may be missing (an instance went away without reporting, the ledger
   * was reset): silence before it is never taken as evidence that a key went quiet.
   */
  readonly gapUntil?: number | undefined;
  /** Instances that stopped reporting without leaving: while any is listed, no key is called quiet. */
  readonly missing?: readonly MissingInstance[] | undefined;
}

/** One key of a {@link UsageSnapshot} (the shape of `verifier.usage()` rows). */
export interface UsageSnapshotKey {
  /** Secret id. */
  readonly secretId: string;
  /** Key version id. */
  readonly keyId: string;
  /** Role when last seen. */
  readonly keyRole: KeyRole;
  /** Successful verifications with this key. */
  readonly matches: number;
  /** Epoch ms of the last match. */
  readonly lastMatchedAt: number | undefined;
  /** Window start, epoch ms. */
  readonly notBefore: number | undefined;
  /** Window end, epoch ms. */
  readonly notAfter: number | undefined;
  /** Epoch ms the key was last reported by its store. */
  readonly lastSeenAt: number;
  /** Epoch ms this key's counting began (fleet ledgers). */
  readonly countingSince?: number | undefined;
}

/** Matches per key per minute, for charts (`keyturn status`). */
export interface UsageTimeline {
  /** Secret id. */
  readonly secretId: string;
  /** Start of the first minute, epoch ms. */
  readonly from: number;
  /** Minute length, ms (60 000). */
  readonly stepMs: number;
  /** Per key: one count per minute from `from`. */
  readonly keys: readonly UsageTimelineKey[];
}

/** One key's row of a {@link UsageTimeline}. */
export interface UsageTimelineKey {
  /** Key version id. */
  readonly keyId: string;
  /** Matches per minute, oldest first. */
  readonly counts: readonly number[];
}

/**
 * Every instance verifying for one secret, sharing notices, a usage ledger and (optionally) replay
 * claims. `@keyturn/redis` implements it; implement it for any other shared backend (DynamoDB markers
 * polled every few seconds fit as well as Redis pub/sub).
 *
 * Contract:
 * - nothing of a secret is ever written to the backend (ids, counts, times only);
 * - no method is ever called on a verifier's request path, and a backend outage never fails or slows
 *   a verification: counts are kept (bounded) and written later;
 * - after a gap in notices (a reconnect, a missed poll), call {@link FleetMember.resync};
 * - malformed or unknown notices are ignored with a `fleet-notice-ignored` event.
 */
export interface Fleet {
  /** Backend name, for events (`redis`, `dynamodb`, ...). */
  readonly name: string;
  /** Called by `createVerifier({ fleet })`: the verifier joins the fleet (notices, ledger). */
  join(member: FleetMember): FleetMembership;
  /** Announces a rotation fence for `secretId` to every instance (before a sender's rotate call). */
  announceRotation(secretId: string, options?: AnnounceRotationOptions): Promise<void>;
  /** Tells every instance that `secretId` changed in the store (after every store write); ends its fence. */
  publishChange(secretId: string, options?: PublishChangeOptions): Promise<void>;
  /** Ends a fence without a key change (the rotate call failed). */
  endRotation(secretId: string): Promise<void>;
  /** The fleet-wide usage of `secretId`, in the shape `readiness()` reads. */
  usage(secretId: string): Promise<UsageSnapshot>;
  /** Matches per key per minute over the last hours (at most 24), when the backend keeps them. */
  timeline?(secretId: string, options?: { hours?: number }): Promise<UsageTimeline>;
  /** Writes every count held by this process's verifiers now (serverless: before the invocation returns). */
  flush(): Promise<void>;
  /** Flushes, stops listening and releases what the fleet created (never the client you passed). */
  close(): Promise<void>;
}
