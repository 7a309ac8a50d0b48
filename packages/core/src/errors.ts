/**
 * Typed errors. Every rejection carries a stable `code`; no message, property, `toJSON` or
 * `util.inspect` output ever contains a secret, an expected signature or the request body.
 *
 * @module
 */

/** Every code a {@link VerificationError} can carry. The list is part of the public contract. */
export const VERIFICATION_ERROR_CODES = [
  'MISSING_SIGNATURE',
  'MALFORMED_SIGNATURE',
  'TIMESTAMP_TOO_OLD',
  'TIMESTAMP_IN_FUTURE',
  'NO_MATCHING_KEY',
  'KEY_EXPIRED',
  'NO_KEYS',
  'KEYSTORE_UNAVAILABLE',
  'REPLAYED',
  'BODY_NOT_RAW',
  'INVALID_SECRET',
  'KEYSTORE_MISCONFIGURED',
  'COLD_LOAD_LIMITED',
  'INVALID_INPUT',
  'KEY_ROTATION_IN_PROGRESS',
] as const;

/** A stable, machine-readable rejection reason. */
export type VerificationErrorCode = (typeof VERIFICATION_ERROR_CODES)[number];

/**
 * The HTTP status a receiver should answer for a code when the provider profile does not decide.
 * Signature problems use the profile's `rejectStatus`; server-side problems answer 5xx so the
 * sender retries and no webhook is lost:
 *
 * - `KEYSTORE_UNAVAILABLE` (503): the store failed in a way a retry may fix (an outage, throttling, a timeout);
 * - `KEYSTORE_MISCONFIGURED` (500): the store answered, terminally: the secret does not exist, access is
 *   denied, or its configuration is invalid — an operator must act;
 * - `COLD_LOAD_LIMITED` (503): the verifier refused to load a secret it did not hold because too many
 *   cold loads found nothing lately (the cache's admission limit, a defence against made-up secret ids);
 * - `NO_KEYS` (503), `INVALID_SECRET` (500), `BODY_NOT_RAW` (500);
 * - `INVALID_INPUT` (500): the verify call itself is wrong (`receivedAt` or the clock not epoch ms, a
 *   `secretId` that is not a non-empty string) — a bug in the receiver, not in the request;
 * - `KEY_ROTATION_IN_PROGRESS` (503): no key matched while a rotation fence stands for the secret (the
 *   sender may already sign with a key the store write has not delivered yet): retry, it is not a forgery
 *   verdict. A fence never makes a signature match.
 */
export const SERVER_SIDE_STATUS: Readonly<Partial<Record<VerificationErrorCode, number>>> = {
  KEYSTORE_UNAVAILABLE: 503,
  KEYSTORE_MISCONFIGURED: 500,
  COLD_LOAD_LIMITED: 503,
  NO_KEYS: 503,
  INVALID_SECRET: 500,
  BODY_NOT_RAW: 500,
  INVALID_INPUT: 500,
  KEY_ROTATION_IN_PROGRESS: 503,
};

/** Options accepted by {@link VerificationError}. */
export interface VerificationErrorOptions {
  /** Provider profile name, for logs. */
  provider?: string;
  /** Secret id the verification ran against. */
  secretId?: string;
  /** HTTP status to answer with. Defaults to 401, or the server-side status of the code. */
  status?: number;
  /** A fix-it hint for the operator (never contains request data). */
  hint?: string;
  /** The underlying error (for example a {@link KeyStoreError}). */
  cause?: unknown;
  /** Key id involved (for `KEY_EXPIRED`: the out-of-window key that matched). Never secret. */
  keyId?: string;
}

/**
 * Thrown (or returned by `safeVerify`) when a webhook is rejected.
 *
 * @example Branch on the code
 * ```ts
 * try {
 *   await verifier.verify({ body, headers });
 * } catch (err) {
 *   if (err instanceof VerificationError && err.code === 'KEY_EXPIRED') alertSenderOnOldKey(err.keyId);
 *   throw err;
 * }
 * ```
 */
export class VerificationError extends Error {
  /** Stable code; switch on this, never on the message. */
  readonly code: VerificationErrorCode;
  /** HTTP status the receiver should answer with. */
  readonly status: number;
  /** Provider profile name. */
  readonly provider: string | undefined;
  /** Secret id the verification ran against. */
  readonly secretId: string | undefined;
  /** Operator hint, when there is a known fix. */
  readonly hint: string | undefined;
  /** For `KEY_EXPIRED`: the id of the out-of-window key that matched. */
  readonly keyId: string | undefined;

  constructor(code: VerificationErrorCode, message: string, options: VerificationErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VerificationError';
    this.code = code;
    this.status = options.status ?? SERVER_SIDE_STATUS[code] ?? 401;
    this.provider = options.provider;
    this.secretId = options.secretId;
    this.hint = options.hint;
    this.keyId = options.keyId;
  }

  /**
   * A log-safe plain object (no secrets, no body, no signatures). `cause` summarises the underlying
   * error: a {@link KeyStoreError}'s own `toJSON()` (store, reason, retryable and its secret-free
   * message), or only the `name` of any other error (a third-party message could quote anything).
   */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      status: this.status,
      message: this.message,
      provider: this.provider,
      secretId: this.secretId,
      keyId: this.keyId,
      hint: this.hint,
      cause: summariseCause(this.cause),
    };
  }
}

/** What `toJSON()` shows of a cause: never a third-party message. */
function summariseCause(cause: unknown): Record<string, unknown> | undefined {
  if (cause === undefined || cause === null) return undefined;
  if (cause instanceof KeyStoreError) return cause.toJSON();
  if (cause instanceof VerificationError) return { name: cause.name, code: cause.code };
  if (cause instanceof Error) return { name: cause.name };
  return { name: typeof cause };
}

/**
 * Builds a rejection caused by the request itself (missing, malformed, stale, forged, replayed)
 * without capturing stack frames: the stack of such an error says nothing useful, and capturing it
 * costs more than the checks that produced it, so a flood of bad requests would cost more than good
 * ones. Server-side errors (store outages, bad secrets) keep their stacks.
 *
 * @internal
 */
export function requestRejection(code: VerificationErrorCode, message: string, options: VerificationErrorOptions = {}): VerificationError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new VerificationError(code, message, options);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * Why a store call failed: one of a fixed set that callers can branch on. The cloud's own code
 * (`ResourceNotFoundException`, `PERMISSION_DENIED`, `SecretNotFound`, `ENOENT`, ...) is in
 * {@link KeyStoreError.code}.
 *
 * | reason | meaning | usually |
 * | --- | --- | --- |
 * | `NOT_FOUND` | the secret (or its active version) does not exist | terminal |
 * | `ACCESS_DENIED` | the credentials may not read (or write) it | terminal |
 * | `THROTTLED` | the service asked to slow down | retryable |
 * | `UNAVAILABLE` | no usable answer: 5xx, network, an unreadable body | retryable |
 * | `TIMEOUT` | the call took longer than its deadline | retryable |
 * | `ABORTED` | the caller's signal aborted the call | retryable |
 * | `INVALID_CONFIG` | the store, its options or the secret id are wrong | terminal |
 * | `INVALID_FORMAT` | the stored value does not fit the store's format | terminal |
 * | `INTEGRITY` | the answer failed a check (checksum, wrong version) | retryable |
 * | `CONFLICT` | the secret changed under a write, or the write would undo one | either |
 */
export type KeyStoreErrorReason =
  | 'NOT_FOUND'
  | 'ACCESS_DENIED'
  | 'THROTTLED'
  | 'UNAVAILABLE'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'INVALID_CONFIG'
  | 'INVALID_FORMAT'
  | 'INTEGRITY'
  | 'CONFLICT';

/** Every {@link KeyStoreErrorReason}. */
export const KEY_STORE_ERROR_REASONS: readonly KeyStoreErrorReason[] = [
  'NOT_FOUND',
  'ACCESS_DENIED',
  'THROTTLED',
  'UNAVAILABLE',
  'TIMEOUT',
  'ABORTED',
  'INVALID_CONFIG',
  'INVALID_FORMAT',
  'INTEGRITY',
  'CONFLICT',
];

/** Options accepted by {@link KeyStoreError}. */
export interface KeyStoreErrorOptions {
  /** Whether retrying later may succeed (throttling, 5xx, network, integrity). */
  retryable: boolean;
  /** Store name (`env`, `aws-secrets-manager`, ...). */
  store: string;
  /** Secret id that failed to load. */
  secretId?: string | undefined;
  /**
   * Why it failed (see {@link KeyStoreErrorReason}). A string outside the union (a store written
   * against an older keyturn) is kept as `code`, and `reason` is then `undefined`.
   */
  reason?: KeyStoreErrorReason | undefined;
  /** The cloud's (or the OS's) own, secret-free code: `ResourceNotFoundException`, `PERMISSION_DENIED`, `ENOENT`, ... */
  code?: string | undefined;
  /** The original error (never one that quotes a secret: stores pass a summary then). */
  cause?: unknown;
}

/**
 * What a {@link KeyStore} throws when it cannot load versions. Stores classify their failures:
 * `retryable` errors (throttling, 5xx, network, checksum mismatch) let the cache serve the last
 * good key set and reach the sender as `KEYSTORE_UNAVAILABLE` (503); terminal ones (not found,
 * access denied, bad configuration) are misconfigurations, reported at once as
 * `KEYSTORE_MISCONFIGURED` (500). A store never turns an error into "no keys".
 *
 * The message must be secret-free and say what is wrong (`env: SMARTCAR_AMT (or SMARTCAR_AMT_FILE) is
 * not set`): the verifier quotes it in its own message and in `toJSON()`.
 */
export class KeyStoreError extends Error {
  /** Whether retrying later may succeed. */
  readonly retryable: boolean;
  /** Store name. */
  readonly store: string;
  /** Secret id that failed. */
  readonly secretId: string | undefined;
  /** Why it failed: one of {@link KEY_STORE_ERROR_REASONS}. */
  readonly reason: KeyStoreErrorReason | undefined;
  /** The cloud's own code, when there is one. */
  readonly code: string | undefined;

  constructor(message: string, options: KeyStoreErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KeyStoreError';
    this.retryable = options.retryable;
    this.store = options.store;
    this.secretId = options.secretId;
    const reason = options.reason as string | undefined;
    const known = reason === undefined || (KEY_STORE_ERROR_REASONS as readonly string[]).includes(reason);
    this.reason = known ? (reason as KeyStoreErrorReason | undefined) : undefined;
    this.code = options.code ?? (known ? undefined : reason);
  }

  /** A log-safe plain object. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      store: this.store,
      secretId: this.secretId,
      retryable: this.retryable,
      reason: this.reason,
      code: this.code,
    };
  }
}

/** True when `err` is a {@link VerificationError}, optionally with the given code. */
export function isVerificationError(err: unknown, code?: VerificationErrorCode): err is VerificationError {
  return err instanceof VerificationError && (code === undefined || err.code === code);
}

/**
 * Thrown when `result.event` is read and the verified body is not JSON (not UTF-8, or not valid
 * JSON): the signature did match, so the webhook is genuine; only its body is not what the event
 * type describes. Never thrown by `verify()` itself: the body is parsed on first access. Log-safe:
 * no byte of the body is in it (nor the parser's message, which would quote one).
 *
 * @example
 * ```ts
 * try {
 *   handle(result.event);
 * } catch (err) {
 *   if (err instanceof EventParseError) return res.status(422).end(); // signed, but not JSON
 *   throw err;
 * }
 * ```
 */
export class EventParseError extends Error {
  /** Always `EVENT_NOT_JSON`. */
  readonly code = 'EVENT_NOT_JSON' as const;
  /** Provider profile name. */
  readonly provider: string;
  /** Secret id the webhook verified against. */
  readonly secretId: string;
  /** Id of the key that verified it. */
  readonly keyId: string;
  /** Length of the verified body, in bytes (UTF-16 units for a string body). */
  readonly bodyLength: number;

  constructor(options: { provider: string; secretId: string; keyId: string; bodyLength: number; reason: 'utf8' | 'json' }) {
    super(
      options.reason === 'utf8'
        ? `The verified ${options.provider} body is not UTF-8 text, so it is not JSON (${options.bodyLength} bytes).`
        : `The verified ${options.provider} body is not valid JSON (${options.bodyLength} long).`,
    );
    this.name = 'EventParseError';
    this.provider = options.provider;
    this.secretId = options.secretId;
    this.keyId = options.keyId;
    this.bodyLength = options.bodyLength;
  }

  /** A log-safe plain object. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      provider: this.provider,
      secretId: this.secretId,
      keyId: this.keyId,
      bodyLength: this.bodyLength,
    };
  }
}
