/**
 * The key model: a secret has versions, each with a role and an optional window.
 *
 * @module
 */

/** The role a secret version plays during a rotation. */
export type KeyRole = 'active' | 'pending' | 'previous';

/** Every role, in the order the verifier tries them (after the last-matched key). */
export const KEY_ROLES: readonly KeyRole[] = ['active', 'pending', 'previous'];

/**
 * Each role's place in {@link KEY_ROLES} (active 0, pending 1, previous 2): sort by it.
 *
 * @internal
 */
export const ROLE_RANK: Readonly<Record<KeyRole, number>> = { active: 0, pending: 1, previous: 2 };

/**
 * One version of a signing secret, as a store reports it (or as a user lists it statically).
 *
 * `secret` is exactly what is stored: a string or bytes. Stores never strip `whsec_` or decode
 * hex/base64; the provider profile owns decoding.
 */
export interface SecretVersion {
  /** Stable, non-secret id of this version (AWS VersionId, GCP version number, env variable name). */
  readonly id: string;
  /** The secret material exactly as stored. */
  readonly secret: string | Uint8Array;
  /** Role during a rotation. */
  readonly role: KeyRole;
  /** Epoch ms before which this version must not verify. */
  readonly notBefore?: number | undefined;
  /** Epoch ms after which this version must not verify (the end of its rotation window). */
  readonly notAfter?: number | undefined;
}

/** Options a verifier passes on every store call. */
export interface GetVersionsOptions {
  /** Aborted when the verifier gives up on the load (its `loadTimeoutMs`) or is disposed. */
  readonly signal: AbortSignal;
}

/**
 * A source of secret versions: one package per cloud (`@keyturn/store-env`, `@keyturn/store-aws`,
 * `@keyturn/store-gcp`) or your own.
 *
 * Contract (checked by `runKeyStoreConformance` from `@keyturn/core/testing`):
 * - return every version that may verify right now, with roles and windows;
 * - return secrets exactly as stored (string or bytes);
 * - throw a `KeyStoreError` (retryable or terminal) on failure; never hide an outage as `[]`;
 * - honour `signal`;
 * - never put secret material into an error, an id or a log line.
 */
export interface KeyStore {
  /** Short store name used in errors, events and cache keys (`env`, `aws-secrets-manager`, ...). */
  readonly name: string;
  /** Every version of `secretId` that may verify a request. */
  getVersions(secretId: string, options: GetVersionsOptions): Promise<SecretVersion[]>;
  /**
   * Optional cheap change check (no secret is read): whether `secretId` may have changed since this store
   * last returned it from `getVersions` (the env-file store compares the file's `stat`: mtime, size,
   * inode). When no key matches a delivery and the cache is cooling down, the verifier asks this first
   * and reloads at once on `true`, so a write by another process is seen on the next delivery. Must be
   * far cheaper than `getVersions`; `true` when unsure. Never throws for a change it cannot see.
   */
  hasChanged?(secretId: string, options: GetVersionsOptions): boolean | Promise<boolean>;
  /**
   * Optional write side: make `newSecret` the active version (the old active becomes previous).
   * Idempotent with `idempotencyToken`; reports ids and the previous window, never secrets.
   */
  rotate?(secretId: string, newSecret: string | Uint8Array, options?: RotateOptions): Promise<RotateResult>;
  /**
   * Optional write side: stop the previous version from verifying (remove its label or alias, disable
   * it, delete its variable), with the store's own deadlines, cancellation and error mapping. With
   * `keyId`, only while that version is still the previous one (else a terminal `CONFLICT`); the
   * active version is never retired. Retrying a call that went through reports the same id.
   * `rotate()` and `retirePrevious()` are what `@keyturn/rotation` and `keyturn keys add|retire` use.
   */
  retirePrevious?(secretId: string, options?: RetirePreviousOptions): Promise<RetirePreviousResult>;
  /** Releases clients and timers. */
  dispose?(): void | Promise<void>;
}

/** Options for {@link KeyStore.rotate}. */
export interface RotateOptions {
  /** How long the old active version stays accepted as previous, in ms. */
  readonly previousGraceMs?: number;
  /** Idempotency token: the same token never creates two versions. */
  readonly idempotencyToken?: string;
  /** Aborts the write. */
  readonly signal?: AbortSignal;
}

/** What {@link KeyStore.rotate} reports (ids only, never secrets). */
export interface RotateResult {
  /** Id of the new active version. */
  readonly activeId: string;
  /** Id of the version that became previous, if any. */
  readonly previousId?: string | undefined;
  /** Epoch ms at which the previous version stops verifying, if the store records it. */
  readonly previousNotAfter?: number | undefined;
  /**
   * `true` when a previous version was kept with **no window end** (`rotate()` without a grace,
   * `previousGraceMs: Infinity`, or a window the store could not record): it stays accepted until
   * something removes it. Retire it explicitly once no sender uses it. The built-in stores always set
   * this flag (and explain it in `warnings`); `undefined` means the store does not say.
   */
  readonly previousUnbounded?: boolean | undefined;
  /** Secret-free warnings about the write, such as why `previousUnbounded` is set. */
  readonly warnings?: readonly string[] | undefined;
}

/** Options for {@link KeyStore.retirePrevious}. */
export interface RetirePreviousOptions {
  /** Retire only this version, and only while it is still the previous one (the id `status` / `keys list` showed). */
  readonly keyId?: string | undefined;
  /** Aborts the write. */
  readonly signal?: AbortSignal | undefined;
}

/** What {@link KeyStore.retirePrevious} did (ids only). */
export interface RetirePreviousResult {
  /** Id of the version retired, or `undefined` when there was no previous version. */
  readonly retiredId: string | undefined;
}
