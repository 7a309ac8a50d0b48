/**
 * `@keyturn/core/store-kit`: what every key store is built from — typed errors with a reason and the
 * cloud's own code, deadlines from `AbortSignal.any`/`timeout`, lazy SDK imports with a friendly error,
 * a version-value cache on lru-cache, one instant parser, role order and secret comparison, and the
 * helpers of the write side. `@keyturn/store-env`, `-aws`, `-gcp` and `-azure` use it; so can yours
 * (see docs/writing-a-store.md). Nothing here reads the network, the file system or the environment.
 *
 * @module
 */
export {
  storeError,
  terminalError,
  abortedError,
  timeoutError,
  errorSummary,
  firstLine,
  keyStoreError,
  NETWORK_ERROR_CODES,
  type StoreErrorFactory,
  type StoreIdentity,
  type StoreErrorFields,
} from './errors.ts';
export { callWithDeadline, type DeadlineCall } from './deadline.ts';
export { importPeer, lazy, type PeerImport } from './peer.ts';
export { versionValueCache, type VersionValueCache, type CachedValue } from './cache.ts';
export { parseInstant, sameSecret, compareRoles, weakerRole, ROLE_ORDER } from './values.ts';
export { finishRotation, msOption, definedOnly, checkNewSecret } from './rotation.ts';
export { KeyStoreError, KEY_STORE_ERROR_REASONS, type KeyStoreErrorReason, type KeyStoreErrorOptions } from '../errors.ts';
