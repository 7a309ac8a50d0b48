/**
 * `@keyturn/store-aws/testing`: an offline AWS Secrets Manager (awsJson1_1 over `node:http` on
 * 127.0.0.1) that the real `@aws-sdk/client-secrets-manager` talks to, with the service's label
 * rules and fault injection. Use it to test your own rotation code offline.
 *
 * **Experimental**: public, but no production emulator; its API may change in a minor release. What it
 * models and what not: docs/store-aws.md.
 *
 * @experimental
 * @module
 */
export {
  startSecretsManagerServer,
  type SecretsManagerServer,
  type SecretsManagerServerOptions,
  type RecordedCall,
  type Fault,
  type SimpleFault,
  type LatencyFault,
  type RawFault,
  type ErrorFault,
  type FaultScope,
  type TestClientConfig,
  type TestCredentials,
  type CreatedSecret,
} from './server.ts';
export {
  SecretsManagerModel,
  AwsServiceError,
  type ModelSecret,
  type ModelVersion,
  type ModelValue,
  type ModelStringValue,
  type ModelBinaryValue,
  type CreatedModelSecret,
  type PutValueResult,
} from './model.ts';
