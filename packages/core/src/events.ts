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

/** Operational events from the key cache (`createVerifier({ onEvent })`). */
export type KeyturnEvent =
  | { readonly type: 'load-start'; readonly store: string; readonly secretId: string; readonly reason: string }
  | {
      readonly type: 'load-success';
      readonly store: string;
      readonly secretId: string;
      readonly reason: string;
      readonly durationMs: number;
      readonly versions: number;
    }
  | {
      readonly type: 'load-failure';
      readonly store: string;
      readonly secretId: string;
      readonly reason: string;
      readonly durationMs: number;
      readonly retryable: boolean;
      readonly error: KeyStoreError;
    }
  | { readonly type: 'stale-served'; readonly store: string; readonly secretId: string; readonly ageMs: number; readonly why: string }
  | { readonly type: 'refresh-on-miss'; readonly store: string; readonly secretId: string }
  | { readonly type: 'key-invalid'; readonly store: string; readonly secretId: string; readonly keyId: string; readonly keyRole: KeyRole }
  | { readonly type: 'hook-error'; readonly hook: string; readonly error: unknown }
  | {
      /** The replay store failed. On `claim`: `rejected` (fail-closed, 503) or `accepted-unprotected` (fail-open). */
      readonly type: 'replay-store-error';
      readonly store: string;
      readonly provider: string;
      readonly secretId: string;
      readonly operation: 'claim' | 'release';
      readonly outcome: 'rejected' | 'accepted-unprotected' | 'release-failed';
      readonly error: unknown;
    };
