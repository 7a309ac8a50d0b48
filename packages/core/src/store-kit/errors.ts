/**
 * Store errors: one way to build them, a secret-free stand-in for an SDK error, and the socket codes
 * that mean "no answer, try again".
 *
 * @module
 */
import { KeyStoreError, type KeyStoreErrorOptions, type KeyStoreErrorReason } from '../errors.ts';

/** Builds a store's errors: `KeyStoreError` itself, or the store's own subclass. */
export type StoreErrorFactory = (message: string, options: KeyStoreErrorOptions) => KeyStoreError;

/** The default {@link StoreErrorFactory}. */
export const keyStoreError: StoreErrorFactory = (message, options) => new KeyStoreError(message, options);

/** What a store says about itself in errors. */
export interface StoreIdentity {
  /** Store name, as in `KeyStore.name` (`aws-secrets-manager`). */
  readonly store: string;
  /** How messages name the service (`AWS Secrets Manager`). */
  readonly label: string;
  /** Builds the errors. @default new KeyStoreError */
  readonly error?: StoreErrorFactory | undefined;
}

/** The fields of one error besides its message. */
export interface StoreErrorFields {
  /** Secret the call was for. */
  readonly secretId?: string | undefined;
  /** Why. */
  readonly reason: KeyStoreErrorReason;
  /** Whether a later attempt may succeed. */
  readonly retryable: boolean;
  /** The cloud's own code. */
  readonly code?: string | undefined;
  /** A secret-free cause. */
  readonly cause?: unknown;
}

/** An error of `store` (`message` is used as is: name the service in it). */
export function storeError(id: StoreIdentity, message: string, fields: StoreErrorFields): KeyStoreError {
  const { secretId, reason, retryable, code, cause } = fields;
  return (id.error ?? keyStoreError)(message, { store: id.store, secretId, reason, retryable, code, cause });
}

/** A terminal error (retrying cannot fix it). */
export function terminalError(
  id: StoreIdentity,
  secretId: string | undefined,
  reason: KeyStoreErrorReason,
  message: string,
  code?: string,
): KeyStoreError {
  return storeError(id, message, { secretId, reason, retryable: false, code });
}

/** `<label>: <action> for <secretId> was aborted.` — retryable, the signal's reason (summarised) as cause. */
export function abortedError(
  id: StoreIdentity,
  secretId: string | undefined,
  action: string,
  signal: AbortSignal | undefined,
): KeyStoreError {
  const reason: unknown = signal?.reason;
  return storeError(id, `${id.label}: ${action}${secretId === undefined ? '' : ` for ${secretId}`} was aborted.`, {
    secretId,
    reason: 'ABORTED',
    retryable: true,
    cause: reason instanceof Error ? errorSummary(reason.name, reason.message) : undefined,
  });
}

/** `<label>: <action> for <secretId> took longer than <ms> ms.` — retryable. */
export function timeoutError(id: StoreIdentity, secretId: string | undefined, action: string, timeoutMs: number): KeyStoreError {
  return storeError(id, `${id.label}: ${action}${secretId === undefined ? '' : ` for ${secretId}`} took longer than ${timeoutMs} ms.`, {
    secretId,
    reason: 'TIMEOUT',
    retryable: true,
  });
}

/**
 * A plain, secret-free stand-in for an SDK error, to keep as `cause`: SDK errors can quote a response
 * body (a secret being read) or hold the request (a secret being written). Only `name`, a message the
 * store chose, and `code` / `statusCode` when given are kept.
 */
export function errorSummary(name: string, message: string, code?: string, status?: number): Error {
  const safe = new Error(message);
  safe.name = name;
  if (code !== undefined) Object.defineProperty(safe, 'code', { value: code, enumerable: true });
  if (status !== undefined) Object.defineProperty(safe, 'statusCode', { value: status, enumerable: true });
  return safe;
}

/** Socket- and DNS-level failure codes (Node, undici): the request got no answer; a later one may. */
export const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
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
  'REQUEST_SEND_ERROR',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** The first line of a message, at most 300 characters (for summaries). */
export function firstLine(message: string): string {
  return (message.split('\n')[0] ?? '').slice(0, 300);
}
