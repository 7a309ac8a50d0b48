/**
 * `@keyturn/rotation`: rotate webhook secrets without locking anyone out — Dataspike's rotate API
 * with a store write that never loses the new secret, the Smartcar token switch, and the
 * readiness verdict that says when the previous key is safe to retire.
 *
 * @module
 */
export {
  RotationError,
  ProviderApiError,
  ROTATION_ERROR_CODES,
  type RotationErrorCode,
  type RotationErrorOptions,
  type RotationRecovery,
  type ProviderApiErrorCode,
  type ProviderApiErrorOptions,
} from './errors.ts';
export {
  readiness,
  mergeUsage,
  usageSnapshot,
  formatDuration,
  recommendedQuietMs,
  DEFAULT_QUIET_MS,
  RECOMMENDED_QUIET_MS,
  type UsageSnapshot,
  type UsageSnapshotOptions,
  type CurrentKey,
  type ReadinessOptions,
  type ReadinessRow,
  type ReadinessReason,
  type ReadinessVerdict,
  type ReadinessReport,
} from './readiness.ts';
export {
  dataspikeClient,
  rotateDataspikeSecret,
  DATASPIKE_API_URL,
  DATASPIKE_SANDBOX_API_URL,
  type DataspikeClient,
  type DataspikeClientOptions,
  type RotateDataspikeSecretOptions,
  type DataspikeRotationResult,
} from './dataspike.ts';
export type { RotationAudience, RefreshableVerifier, NotifiableFleet } from './fleet.ts';
export {
  addActiveKey,
  retirePreviousKey,
  writeRecoveryFile,
  canRetire,
  type AddActiveKeyOptions,
  type RetirePreviousKeyOptions,
  type RetirePreviousKeyResult,
  type ProgressEvent,
  type StoreWriteRetry,
  type WriteKeyResult,
} from './workflow.ts';
/** The write verbs are core's `KeyStore` contract; re-exported here for existing imports. */
export type { RetirePreviousOptions, RetirePreviousResult } from '@keyturn/core';
