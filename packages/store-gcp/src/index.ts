/**
 * Google Cloud Secret Manager as a keyturn key store: version aliases (`current` / `previous` /
 * `next`) or the newest ENABLED versions become active / previous / pending webhook signing keys,
 * every payload is CRC32C-checked, and every RPC carries its own deadline.
 *
 * @module
 */
export { gcpSecretManagerStore, type GcpSecretManagerStore, type GcpSecretManagerStoreOptions, type GcpAliasNames } from './store.ts';
export { ROTATION_TOKEN_ANNOTATION, type DisableRetiredOptions, type DisableRetiredResult } from './rotate.ts';
export { PREVIOUS_WINDOW_ANNOTATION } from './roles.ts';
export {
  STORE_NAME,
  type SecretManagerClientLike,
  type ClientCall,
  type CancellableCall,
  type ClientMethod,
  type StoreCallOptions,
  type StoreCallRetry,
  type StoreCallOtherArgs,
} from './client.ts';
export { regionalEndpoint, clientOptionsFor, type SecretRef } from './names.ts';
