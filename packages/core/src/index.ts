/**
 * keyturn: verify signed webhooks while their secrets rotate.
 *
 * @module
 */
export { createVerifier } from './verifier.ts';
export type {
  Verifier,
  VerifierOptions,
  VerifierOptionsBase,
  EventOf,
  StaticKeys,
  StaticKeysVerifierOptions,
  StoreVerifierOptions,
  SecretIdOption,
  VerifyRequest,
  VerifyResult,
  SafeVerifyResult,
  SafeVerifySuccess,
  SafeVerifyFailure,
  KeyUsageReport,
  RawBody,
  AnswerChallengeOptions,
} from './verifier.ts';
export { sign, signAsync, type SignInput, type SignRequest, type SignSecret } from './sign.ts';
export {
  VerificationError,
  KeyStoreError,
  KEY_STORE_ERROR_REASONS,
  EventParseError,
  isVerificationError,
  VERIFICATION_ERROR_CODES,
  SERVER_SIDE_STATUS,
  type VerificationErrorCode,
  type VerificationErrorOptions,
  type KeyStoreErrorOptions,
  type KeyStoreErrorReason,
} from './errors.ts';
export type {
  KeyRole,
  SecretVersion,
  KeyStore,
  GetVersionsOptions,
  RotateOptions,
  RotateResult,
  RetirePreviousOptions,
  RetirePreviousResult,
} from './keys/types.ts';
export { KEY_ROLES } from './keys/types.ts';
export { SecretMaterial } from './keys/secret.ts';
export { CACHE_DEFAULTS, type CacheOptions, type ResolvedCacheOptions } from './cache/key-cache.ts';
export type { SecretStatus, SecretStatusVersion, SecretStatusError } from './cache/source.ts';
export type {
  KeyturnEvent,
  VerifiedInfo,
  RejectedInfo,
  CacheEventBase,
  LoadStartEvent,
  LoadSuccessEvent,
  LoadFailureEvent,
  StaleServedEvent,
  RefreshOnMissEvent,
  KeyInvalidEvent,
  PreviousKeyUnboundedEvent,
  HookErrorEvent,
  ReplayStoreErrorEvent,
  RotationFenceEvent,
  FleetNoticeEvent,
  FleetNoticeIgnoredEvent,
  FleetResyncEvent,
  FleetErrorEvent,
} from './events.ts';
export {
  FLEET_NOTICE_TYPES,
  DEFAULT_FENCE_TTL_MS,
  MAX_FENCE_TTL_MS,
  type Fleet,
  type FleetMember,
  type FleetMembership,
  type FleetNotice,
  type KeyChangedNotice,
  type RotationStartedNotice,
  type RotationEndedNotice,
  type UsageTimelineKey,
  type UsageDelta,
  type UsageSnapshot,
  type UsageSnapshotKey,
  type UsageTimeline,
  type MissingInstance,
  type AnnounceRotationOptions,
  type PublishChangeOptions,
} from './fleet/types.ts';
export { FENCE_RELOAD_MS } from './cache/source.ts';
export type { HeadersInput, HeadersLike } from './lib/headers.ts';
export * as providers from './providers/index.ts';
export type { ProviderProfile, ParsedSignature, AsymmetricScheme } from './providers/types.ts';
export type {
  SmartcarEvent,
  SmartcarV4Event,
  SmartcarV4Verify,
  SmartcarV4VehicleState,
  SmartcarV4VehicleError,
  SmartcarV4Meta,
  SmartcarSignal,
  SmartcarVehicle,
  SmartcarTrigger,
  SmartcarV2Event,
  SmartcarV2Verify,
  SmartcarV2Delivery,
  DataspikeEvent,
  StripeEvent,
  GitHubEvent,
  GitHubAccount,
  StandardWebhooksEvent,
} from './providers/events.ts';
export {
  memoryReplayStore,
  type MemoryReplayStore,
  type MemoryReplayStoreOptions,
  type ReplayStore,
  type ReplayOptions,
  type ReplayClaim,
} from './replay/index.ts';
