/**
 * `@keyturn/store-aws`: AWS Secrets Manager as a keyturn key store. `AWSCURRENT` verifies as
 * `active`, `AWSPREVIOUS` as `previous` for a grace window, `AWSPENDING` as `pending` on request;
 * `rotate()` writes a new version with an idempotency token, `retirePrevious()` takes the previous
 * label off.
 *
 * @module
 */
export {
  awsSecretsManagerStore,
  AWS_STORE_DEFAULTS,
  type AwsStoreDefaults,
  type AwsSecretsManagerStore,
  type AwsSecretsManagerStoreOptions,
  type AwsStageLabels,
} from './store.ts';
export { AWS_PREVIOUS_GRACE_TAG } from './rotate.ts';
export type { AwsSecretFormat, AwsJsonFieldFormat } from './formats.ts';
export { STORE_NAME } from './client.ts';
