/**
 * Calls to AWS Secrets Manager through `@aws-sdk/client-secrets-manager` (loaded on first use), each
 * under the store's deadline and the caller's signal, and the mapping of every failure onto a typed,
 * secret-free `KeyStoreError` (reason from the union, the AWS error name as `code`).
 *
 * @module
 */
import type { SecretsManagerClient, SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import { KeyStoreError } from '@keyturn/core';
import {
  callWithDeadline,
  definedOnly,
  errorSummary,
  importPeer,
  NETWORK_ERROR_CODES,
  storeError,
  type KeyStoreErrorReason,
  type StoreIdentity,
} from '@keyturn/core/store-kit';

/** The store name used in errors, events and cache keys. */
export const STORE_NAME = 'aws-secrets-manager';

/** How the store names itself in errors. */
export const AWS: StoreIdentity = { store: STORE_NAME, label: 'AWS Secrets Manager' };

/** The SDK module, as the store uses it. */
export type AwsSdk = typeof import('@aws-sdk/client-secrets-manager');

/** Loads the SDK on first use (a missing peer dependency is a terminal `INVALID_CONFIG`). */
export function loadSdk(): Promise<AwsSdk> {
  return importPeer<AwsSdk>({ ...AWS, name: '@aws-sdk/client-secrets-manager', load: () => import('@aws-sdk/client-secrets-manager') });
}

/**
 * Builds the client the store owns: 2 attempts, 3 s socket and 1 s connection limits per attempt
 * (the SDK's defaults wait far longer), unless `clientConfig` says otherwise.
 */
export function buildClient(sdk: AwsSdk, clientConfig: SecretsManagerClientConfig | undefined): SecretsManagerClient {
  return new sdk.SecretsManagerClient({
    maxAttempts: 2,
    requestHandler: { requestTimeout: 3_000, connectionTimeout: 1_000, throwOnRequestTimeout: true },
    ...definedOnly(clientConfig ?? {}),
  });
}

/** Runs one SDK call under `callTimeoutMs` and the caller's signal. */
export function awsCall<T>(
  secretId: string,
  action: string,
  signal: AbortSignal | undefined,
  timeoutMs: number,
  run: (abortSignal: AbortSignal) => Promise<T>,
): Promise<T> {
  return callWithDeadline({ ...AWS, secretId, action, signal, timeoutMs, mapError: (err) => toKeyStoreError(err, secretId, action) }, run);
}

/** Service errors no retry fixes, and their reason. */
const TERMINAL: ReadonlyMap<string, KeyStoreErrorReason> = new Map([
  ['ResourceNotFoundException', 'NOT_FOUND'],
  ['AccessDeniedException', 'ACCESS_DENIED'],
  ['DecryptionFailure', 'ACCESS_DENIED'],
  ['UnrecognizedClientException', 'ACCESS_DENIED'],
  ['InvalidSignatureException', 'ACCESS_DENIED'],
  ['IncompleteSignature', 'ACCESS_DENIED'],
  ['MissingAuthenticationToken', 'ACCESS_DENIED'],
  ['InvalidClientTokenId', 'ACCESS_DENIED'],
  ['NotAuthorized', 'ACCESS_DENIED'],
  ['OptInRequired', 'ACCESS_DENIED'],
  ['CredentialsProviderError', 'ACCESS_DENIED'],
  ['EncryptionFailure', 'ACCESS_DENIED'],
  ['InvalidRequestException', 'INVALID_CONFIG'],
  ['InvalidParameterException', 'INVALID_CONFIG'],
  ['ValidationException', 'INVALID_CONFIG'],
  ['UnknownOperationException', 'INVALID_CONFIG'],
  ['SerializationException', 'INVALID_CONFIG'],
  ['MalformedPolicyDocumentException', 'INVALID_CONFIG'],
  ['LimitExceededException', 'INVALID_CONFIG'],
  ['ResourceExistsException', 'CONFLICT'],
  ['PreconditionNotMetException', 'CONFLICT'],
]);

/** Errors a later attempt may not hit, and their reason. */
const RETRYABLE: ReadonlyMap<string, KeyStoreErrorReason> = new Map([
  ['ThrottlingException', 'THROTTLED'],
  ['Throttling', 'THROTTLED'],
  ['TooManyRequestsException', 'THROTTLED'],
  ['RequestLimitExceeded', 'THROTTLED'],
  ['ProvisionedThroughputExceededException', 'THROTTLED'],
  ['EC2ThrottledException', 'THROTTLED'],
  ['InternalServiceError', 'UNAVAILABLE'],
  ['InternalFailure', 'UNAVAILABLE'],
  ['ServiceUnavailable', 'UNAVAILABLE'],
  ['ExpiredTokenException', 'UNAVAILABLE'],
  ['RequestExpired', 'UNAVAILABLE'],
  ['RequestTimeout', 'TIMEOUT'],
  ['RequestTimeoutException', 'TIMEOUT'],
  ['TimeoutError', 'TIMEOUT'],
]);

/** What the SDK error looks like, structurally (any version of the SDK). */
interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  $fault?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/** A short, secret-free name for a failure: the AWS error name, a network code, or `UNKNOWN`. */
export function errorName(err: unknown): string {
  if (err === null || typeof err !== 'object') return 'UNKNOWN';
  const e = err as SdkErrorShape;
  if (typeof e.code === 'string' && NETWORK_ERROR_CODES.has(e.code)) return e.code;
  if (typeof e.name === 'string' && /^[A-Za-z0-9_.:-]{1,100}$/.test(e.name) && e.name !== 'Error') return e.name;
  return typeof e.code === 'string' && /^[A-Z0-9_]{1,64}$/.test(e.code) ? e.code : 'UNKNOWN';
}

/** The reason and retryability of a failure. */
export function classify(err: unknown): { reason: KeyStoreErrorReason; retryable: boolean } {
  const name = errorName(err);
  const retry = RETRYABLE.get(name);
  if (retry !== undefined) return { reason: retry, retryable: true };
  if (NETWORK_ERROR_CODES.has(name)) return { reason: 'UNAVAILABLE', retryable: true };
  const terminal = TERMINAL.get(name);
  if (terminal !== undefined) return { reason: terminal, retryable: false };
  const e = (err ?? {}) as SdkErrorShape;
  if (typeof e !== 'object') return { reason: 'UNAVAILABLE', retryable: true };
  if (e.$retryable !== undefined && e.$retryable !== null) return { reason: 'UNAVAILABLE', retryable: true };
  // A body that does not parse (truncated, or a proxy's HTML page) is a transport fault.
  if (name === 'SyntaxError') return { reason: 'UNAVAILABLE', retryable: true };
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number') {
    if (status === 429) return { reason: 'THROTTLED', retryable: true };
    if (status === 408) return { reason: 'TIMEOUT', retryable: true };
    if (status >= 500) return { reason: 'UNAVAILABLE', retryable: true };
    return {
      reason: status === 403 || status === 401 ? 'ACCESS_DENIED' : status === 404 ? 'NOT_FOUND' : 'INVALID_CONFIG',
      retryable: false,
    };
  }
  if (e.$fault === 'client') return { reason: 'INVALID_CONFIG', retryable: false };
  // No HTTP status at all: the request never got an answer (network, TLS, socket), so try again later.
  return { reason: 'UNAVAILABLE', retryable: true };
}

/** Whether a failure may go away on its own. */
export function isRetryable(err: unknown): boolean {
  return classify(err).retryable;
}

/** Wraps an SDK failure into a `KeyStoreError` (reason from the union, the AWS name as `code`). */
export function toKeyStoreError(err: unknown, secretId: string, action: string): KeyStoreError {
  if (err instanceof KeyStoreError) return err;
  const code = errorName(err);
  const { reason, retryable } = classify(err);
  const status = (err as SdkErrorShape | null)?.$metadata?.httpStatusCode;
  const where = typeof status === 'number' ? ` (HTTP ${status})` : '';
  return storeError(AWS, `AWS Secrets Manager ${action} for ${secretId} failed: ${code}${where}.`, {
    secretId,
    reason,
    retryable,
    code,
    cause: safeCause(err, code),
  });
}

/**
 * Modelled service errors (`$fault` set) and socket errors carry no secret and are kept as the
 * cause. Anything else — a deserialisation `SyntaxError` quotes the response body, which may be a
 * secret value — is replaced by a plain error with its name and request metadata only.
 */
function safeCause(err: unknown, name: string): unknown {
  const e = err as SdkErrorShape | null;
  const isService = (e?.$fault === 'client' || e?.$fault === 'server') && name !== 'SyntaxError';
  if (isService || NETWORK_ERROR_CODES.has(name) || name === 'AbortError') return err;
  const safe = errorSummary(name, `${name} (details withheld: the original message may quote a response body)`);
  const metadata = e?.$metadata;
  if (metadata !== undefined) Object.defineProperty(safe, '$metadata', { value: metadata, enumerable: true });
  return safe;
}

/** A failure of the store's own making (format, missing label): terminal unless said, no cause. */
export function awsError(message: string, secretId: string, reason: KeyStoreErrorReason, code?: string, retryable = false): KeyStoreError {
  return storeError(AWS, message, { secretId, reason, retryable, code });
}
