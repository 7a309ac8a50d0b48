/**
 * Classifies AWS SDK failures into keyturn's retryable / terminal {@link KeyStoreError}s.
 *
 * @module
 */
import { KeyStoreError } from '@keyturn/core';

/** The store name used in errors, events and cache keys. */
export const STORE_NAME = 'aws-secrets-manager';

/** Service errors that no retry fixes: the secret, its key or the caller's permissions are wrong. */
const TERMINAL = new Set([
  'ResourceNotFoundException',
  'AccessDeniedException',
  'DecryptionFailure',
  'InvalidRequestException',
  'InvalidParameterException',
  'ValidationException',
  'ResourceExistsException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'InvalidClientTokenId',
  'NotAuthorized',
  'OptInRequired',
  'CredentialsProviderError',
  'UnknownOperationException',
  'SerializationException',
  'PreconditionNotMetException',
  'EncryptionFailure',
  'LimitExceededException',
  'MalformedPolicyDocumentException',
]);

/** Errors that a later attempt may not hit: throttling, service trouble, network, expired session. */
const RETRYABLE = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  'InternalServiceError',
  'InternalFailure',
  'ServiceUnavailable',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'ExpiredTokenException',
  'RequestExpired',
  'EC2ThrottledException',
]);

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
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
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return e.code;
  if (typeof e.name === 'string' && /^[A-Za-z0-9_.:-]{1,100}$/.test(e.name) && e.name !== 'Error') return e.name;
  return typeof e.code === 'string' && /^[A-Z0-9_]{1,64}$/.test(e.code) ? e.code : 'UNKNOWN';
}

/** Whether a failure may go away on its own. */
export function isRetryable(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return true;
  const e = err as SdkErrorShape;
  const name = errorName(err);
  if (RETRYABLE.has(name) || NETWORK_CODES.has(name)) return true;
  if (TERMINAL.has(name)) return false;
  if (e.$retryable !== undefined && e.$retryable !== null) return true;
  // A body that does not parse (truncated, or a proxy's HTML page) is a transport fault.
  if (name === 'SyntaxError') return true;
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number') return status >= 500 || status === 429 || status === 408;
  if (e.$fault === 'client') return false;
  // No HTTP status at all: the request never got an answer (network, TLS, socket), so try again later.
  return true;
}

/** Wraps an SDK failure into a {@link KeyStoreError}. The SDK error stays as `cause` (it holds no secret). */
export function toKeyStoreError(err: unknown, secretId: string, action: string): KeyStoreError {
  if (err instanceof KeyStoreError) return err;
  const reason = errorName(err);
  const retryable = isRetryable(err);
  const status = (err as SdkErrorShape | null)?.$metadata?.httpStatusCode;
  const where = typeof status === 'number' ? ` (HTTP ${status})` : '';
  return new KeyStoreError(`AWS Secrets Manager ${action} for ${secretId} failed: ${reason}${where}.`, {
    retryable,
    store: STORE_NAME,
    secretId,
    reason,
    cause: safeCause(err, reason),
  });
}

/**
 * Modelled service errors (`$fault` set) and socket errors carry no secret and are kept as the
 * cause. Anything else — a deserialisation `SyntaxError` quotes the response body, which may be a
 * secret value — is replaced by a plain error with its name and request metadata only.
 */
function safeCause(err: unknown, reason: string): unknown {
  const e = err as SdkErrorShape | null;
  const isService = (e?.$fault === 'client' || e?.$fault === 'server') && reason !== 'SyntaxError';
  if (isService || NETWORK_CODES.has(reason) || reason === 'AbortError') return err;
  const safe = new Error(`${reason} (details withheld: the original message may quote a response body)`);
  safe.name = reason;
  const metadata = e?.$metadata;
  if (metadata !== undefined) Object.defineProperty(safe, '$metadata', { value: metadata, enumerable: true });
  return safe;
}

/** A failure of the store's own making (format, missing label): terminal, no cause. */
export function storeError(message: string, secretId: string, reason: string, retryable = false): KeyStoreError {
  return new KeyStoreError(message, { retryable, store: STORE_NAME, secretId, reason });
}
