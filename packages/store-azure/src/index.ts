/**
 * `@keyturn/store-azure`: Azure Key Vault as a keyturn key store. Each secret version's `enabled`,
 * `notBefore` and `expires` decide its role: the newest enabled version inside its window is `active`,
 * the one before it (and older ones still inside their `expires`) `previous`, newer ones whose
 * `notBefore` is ahead `pending`. `rotate()` adds a version and gives the old one an `expires`;
 * `retirePrevious()` disables it.
 *
 * @module
 */
export {
  azureKeyVaultStore,
  AZURE_STORE_DEFAULTS,
  type AzureStoreDefaults,
  type AzureKeyVaultStore,
  type AzureKeyVaultStoreOptions,
} from './store.ts';
export {
  AzureKeyVaultError,
  STORE_NAME,
  type AzureKeyVaultErrorReason,
  type AzureKeyVaultErrorOptions,
  type SecretClientLike,
  type TokenCredentialLike,
} from './client.ts';
export { assignRoles, REPLACES_TAG, type VersionInfo, type RoleAssignment, type Roles, type NoActiveReason } from './roles.ts';
export { ROTATION_TOKEN_TAG, type RetirePreviousOptions, type RetirePreviousResult } from './rotate.ts';
