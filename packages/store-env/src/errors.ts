/**
 * The env stores' errors: one builder, the store's own code beside a reason from the union.
 *
 * @internal
 * @module
 */
import { KeyStoreError, type KeyStoreErrorReason } from '@keyturn/core';

/** The store's own codes and the reason each one is. */
const REASONS: Readonly<Record<string, KeyStoreErrorReason>> = {
  NOT_FOUND: 'NOT_FOUND',
  INVALID_NAME: 'INVALID_CONFIG',
  AMBIGUOUS: 'INVALID_CONFIG',
  ORPHAN_WINDOW: 'INVALID_CONFIG',
  INVALID_WINDOW: 'INVALID_CONFIG',
  INVALID_CONFIG: 'INVALID_CONFIG',
  FILE_REFERENCE: 'INVALID_CONFIG',
  EMPTY_VALUE: 'INVALID_FORMAT',
  WHITESPACE: 'INVALID_FORMAT',
  INVALID_DATE: 'INVALID_FORMAT',
  INVALID_FORMAT: 'INVALID_FORMAT',
  PARSE_ERROR: 'INVALID_FORMAT',
  BINARY_UNSUPPORTED: 'INVALID_FORMAT',
  CONTROL_CHARACTER: 'INVALID_FORMAT',
  KEY_CHANGED: 'CONFLICT',
  LOCKED: 'CONFLICT',
};

/** A terminal error of `store` with the store's own `code` (its reason from the table). */
export function envError(store: string, secretId: string, code: string, message: string, retryable = false): KeyStoreError {
  return new KeyStoreError(message, { retryable, store, secretId, reason: REASONS[code] ?? 'INVALID_CONFIG', code });
}

/** A file-system failure (`code` from Node: ENOENT, EACCES, ...), retryable unless it is a fact about the file. */
export function fsError(
  store: string,
  secretId: string,
  message: string,
  err: unknown,
  terminal: readonly string[] = ['ENOENT', 'EACCES', 'EISDIR'],
): KeyStoreError {
  const code = (err as { code?: unknown } | null)?.code;
  const errno = typeof code === 'string' ? code : undefined;
  const reason: KeyStoreErrorReason =
    errno === 'ENOENT'
      ? 'NOT_FOUND'
      : errno === 'EACCES' || errno === 'EPERM'
        ? 'ACCESS_DENIED'
        : errno !== undefined && terminal.includes(errno)
          ? 'INVALID_CONFIG'
          : 'UNAVAILABLE';
  return new KeyStoreError(`${message}${errno ? ` (${errno})` : ''}`, {
    retryable: errno === undefined || !terminal.includes(errno),
    store,
    secretId,
    reason,
    code: errno,
    cause: err,
  });
}

/** The error for an aborted load or write. */
export function abortedError(store: string, secretId: string, message: string, cause: unknown): KeyStoreError {
  return new KeyStoreError(message, { retryable: true, store, secretId, reason: 'ABORTED', cause });
}
