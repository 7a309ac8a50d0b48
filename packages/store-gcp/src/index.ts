/**
 * Google Cloud Secret Manager as a keyturn key store: version aliases (`current` / `previous` /
 * `next`) or the newest ENABLED versions become active / previous / pending webhook signing keys,
 * every payload is CRC32C-checked, and every RPC carries its own deadline.
 *
 * @module
 */
export {
  gcpSecretManagerStore,
  PREVIOUS_WINDOW_ANNOTATION,
  ROTATION_TOKEN_ANNOTATION,
  type GcpSecretManagerStore,
  type GcpSecretManagerStoreOptions,
  type GcpAliasNames,
  type DisableRetiredOptions,
  type DisableRetiredResult,
  type SecretManagerClientLike,
  type ClientCall,
  type CancellableCall,
  type ClientMethod,
  type StoreCallOptions,
  type StoreCallRetry,
  type StoreCallOtherArgs,
} from './store.ts';
export { resolveSecretName, regionalEndpoint, clientOptionsFor, type SecretRef } from './names.ts';
export { crc32c } from './crc32c.ts';
