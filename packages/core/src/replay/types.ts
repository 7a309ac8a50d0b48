/**
 * The replay-store contract and the verifier's `replay` options.
 *
 * @module
 */

/**
 * Where claimed replay keys live: an atomic set-if-absent with a TTL.
 *
 * `memoryReplayStore()` serves one process; `@keyturn/replay-redis` shares claims across instances.
 * Implement this interface for any other backend (a SQL `INSERT ... ON CONFLICT DO NOTHING`, DynamoDB
 * `attribute_not_exists`, ...).
 *
 * Contract:
 * - `claim` is atomic: of concurrent claims of one key, across every process sharing the store, exactly
 *   one resolves `true` until the key expires or is released.
 * - A `claim` that throws (or rejects) must not leave a claim behind — or must remove it itself once it
 *   can — or a retry of that delivery would be refused until the TTL runs out.
 * - `release` removes only this process's own claim (never one made later by someone else after
 *   expiry) and is idempotent.
 * - Neither method may hang: bound every network call (the verifier waits for `claim`).
 */
export interface ReplayStore {
  /** Store name, reported in events (`memory`, `redis`, ...). */
  readonly name?: string | undefined;
  /**
   * `true` when `claim` and `release` return plain values instead of promises, so `verifySync` can
   * use the store. `memoryReplayStore()` is synchronous; network stores are not.
   */
  readonly synchronous?: boolean | undefined;
  /**
   * Claims `key` for `ttlMs` ms. Resolves `true` if the key was free (this delivery is new) and
   * `false` if it is already claimed (a replay or a concurrent duplicate).
   */
  claim(key: string, ttlMs: number): boolean | Promise<boolean>;
  /** Releases this process's claim of `key`, so a retried delivery is accepted. */
  release(key: string): void | Promise<void>;
}

/** `createVerifier({ replay })`: refuse a valid signed request that was already accepted. */
export interface ReplayOptions {
  /** Where claims live: `memoryReplayStore()` for one process, `redisReplayStore()` for many. */
  store: ReplayStore;
  /**
   * How long a claim lives, in ms.
   *
   * Default: for profiles that sign a timestamp, `pastMs + futureMs + clockSkewMs` of the profile's
   * tolerance (a request older than that is refused by the timestamp check anyway); for profiles
   * without one (Smartcar, Mobway), 24 hours. For a timestamped profile a value below
   * `pastMs + futureMs` is refused with a `TypeError`: replays would pass once the claim expired. At most
   * one year (31 536 000 000 ms); `NaN` and `Infinity` are refused.
   */
  ttlMs?: number;
  /** Clock difference tolerated between instances and the sender, added to derived TTLs, in ms, from 0 to 3 600 000. @default 60_000 */
  clockSkewMs?: number;
  /**
   * HTTP status of a `REPLAYED` rejection.
   *
   * The default, 409, makes senders retry. That is what keeps a delivery whose first attempt is still
   * running (the sender timed out and retried) from being lost if that attempt then fails and releases
   * its claim. Set 200 to make senders stop retrying duplicates of processed deliveries instead —
   * at the price of that race.
   * @default 409
   */
  duplicateStatus?: number;
  /**
   * What to do when the store fails (Redis down, timeout). `false` (fail-closed): reject with
   * `KEYSTORE_UNAVAILABLE` and status 503, so the sender retries later. `true` (fail-open): accept
   * without replay protection and emit a `replay-store-error` event.
   * @default false
   */
  failOpen?: boolean;
}

/** A verification result's replay claim, when replay defence is on. */
export interface ReplayClaim {
  /** The claimed key: `provider:secretId:eventId`, or `provider:secretId:sha256:<hex of signed content>`. */
  readonly replayKey: string;
  /**
   * Releases the claim so a retry of this delivery is accepted: call it when the handler failed
   * (threw, or answered 5xx). Idempotent; never rejects (a store failure emits a
   * `replay-store-error` event). A no-op once the claim has expired.
   */
  release(): Promise<void>;
}
