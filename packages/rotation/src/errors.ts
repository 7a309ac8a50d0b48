/**
 * Typed errors of the rotation workflows. None of them prints a secret: the one that must carry
 * a new secret (`STORE_WRITE_FAILED`) holds it in a redacting {@link SecretMaterial}.
 *
 * @module
 */
import type { SecretMaterial } from '@keyturn/core';

/** Every code a {@link RotationError} can carry. */
export const ROTATION_ERROR_CODES = [
  'STORE_NOT_WRITABLE',
  'STORE_READ_FAILED',
  'STORE_WRITE_FAILED',
  'STORE_CANNOT_RETIRE',
  'PROVIDER_ROTATE_FAILED',
  'PROVIDER_MAY_HAVE_ROTATED',
  'NOT_SAFE_TO_RETIRE',
  'FENCE_UNAVAILABLE',
] as const;

/**
 * A stable, machine-readable rotation failure:
 * - `PROVIDER_ROTATE_FAILED`: the provider refused or could not be reached before it acted; nothing changed;
 * - `PROVIDER_MAY_HAVE_ROTATED`: an answer was lost after the request reached the provider (dropped
 *   connection, timeout, 5xx, unreadable 2xx): the provider may sign with a secret nobody has seen,
 *   while the store still holds the old one. The message says what to do (rotate again);
 * - `FENCE_UNAVAILABLE`: a `fleet` was given but the rotation fence could not be announced to it (Redis
 *   or DynamoDB unreachable), so the provider was never called: nothing changed at the provider or in
 *   the store. Retryable as is once the fleet is reachable again (running it again is always safe);
 *   `requireFence: false` rotates without the fence instead (deliveries racing the store write may
 *   then be answered 401 by instances that have not reloaded).
 */
export type RotationErrorCode = (typeof ROTATION_ERROR_CODES)[number];

/**
 * What an operator needs to finish a rotation whose store write failed: the new secret (wrapped,
 * redacted everywhere) and the command that writes it.
 */
export interface RotationRecovery {
  /** The new secret, exactly as the provider returned it. `secret.reveal()` to write it somewhere safe. */
  readonly secret: SecretMaterial;
  /** Secret id the write was meant for. */
  readonly secretId: string;
  /** Name of the store that failed. */
  readonly store: string;
  /** The grace the previous key should get when the write is finished, in ms. */
  readonly graceMs: number;
  /**
   * The command that finishes the write, with `<secret-file>` standing for a file holding the
   * secret (for example the one `writeRecoveryFile` wrote). Never contains the secret.
   */
  readonly command: string;
}

/** Options of {@link RotationError}. */
export interface RotationErrorOptions {
  /** Secret id involved. */
  secretId?: string;
  /** Provider name (`dataspike`, `smartcar`). */
  provider?: string;
  /** Present when a new secret exists that no store holds yet. */
  recovery?: RotationRecovery;
  /** Store-write attempts made. */
  attempts?: number;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * Thrown by the rotation workflows.
 *
 * @example Never lose Dataspike's new secret
 * ```ts
 * try {
 *   await rotateDataspikeSecret({ ... });
 * } catch (err) {
 *   if (err instanceof RotationError && err.recovery) {
 *     await writeRecoveryFile('/root/ds-recovery.secret', err.recovery.secret);
 *     console.error(err.recovery.command.replace('<secret-file>', '/root/ds-recovery.secret'));
 *   }
 *   throw err;
 * }
 * ```
 */
export class RotationError extends Error {
  /** Stable code. */
  readonly code: RotationErrorCode;
  /** Secret id involved. */
  readonly secretId: string | undefined;
  /** Provider involved. */
  readonly provider: string | undefined;
  /** Set when the provider already issued a new secret that is not in the store. */
  readonly recovery: RotationRecovery | undefined;
  /** Store-write attempts made (for `STORE_WRITE_FAILED`). */
  readonly attempts: number | undefined;

  constructor(code: RotationErrorCode, message: string, options: RotationErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RotationError';
    this.code = code;
    this.secretId = options.secretId;
    this.provider = options.provider;
    this.recovery = options.recovery;
    this.attempts = options.attempts;
  }

  /** A log-safe plain object (the recovery secret prints as `[redacted secret]`). */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      secretId: this.secretId,
      provider: this.provider,
      attempts: this.attempts,
      recovery:
        this.recovery === undefined
          ? undefined
          : {
              secretId: this.recovery.secretId,
              store: this.recovery.store,
              graceMs: this.recovery.graceMs,
              command: this.recovery.command,
            },
    };
  }
}

/** Every code a {@link ProviderApiError} can carry. */
export type ProviderApiErrorCode =
  | 'UNAUTHORIZED'
  | 'NOT_FOUND'
  | 'BAD_REQUEST'
  | 'RATE_LIMITED'
  | 'SERVER_ERROR'
  | 'NETWORK'
  | 'TIMEOUT'
  | 'BAD_RESPONSE'
  | 'ABORTED';

/** Options of {@link ProviderApiError}. */
export interface ProviderApiErrorOptions {
  /** HTTP status, when a response arrived. */
  status?: number;
  /** Whether trying again may succeed. */
  retryable: boolean;
  /** Provider name. */
  provider: string;
  /** Seconds the server asked to wait (`Retry-After`). */
  retryAfterMs?: number;
  /** Whether the provider may have acted although no usable answer arrived. @default false */
  mayHaveRotated?: boolean;
  /** The underlying error. */
  cause?: unknown;
}

/** A failed provider management-API call (never carries the API key or a secret). */
export class ProviderApiError extends Error {
  /** Stable code. */
  readonly code: ProviderApiErrorCode;
  /** HTTP status, when a response arrived. */
  readonly status: number | undefined;
  /** Whether trying again may succeed. */
  readonly retryable: boolean;
  /** Provider name. */
  readonly provider: string;
  /** Wait the server asked for, in ms. */
  readonly retryAfterMs: number | undefined;
  /**
   * `true` when this call (or an earlier attempt of it) may have been carried out by the provider
   * although its answer was lost: a dropped connection or timeout after the request was sent, a 5xx,
   * a 2xx that could not be read. `false` when the provider certainly did nothing (refused key, 404,
   * 429, connection refused).
   */
  readonly mayHaveRotated: boolean;

  constructor(code: ProviderApiErrorCode, message: string, options: ProviderApiErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProviderApiError';
    this.code = code;
    this.status = options.status;
    this.retryable = options.retryable;
    this.provider = options.provider;
    this.retryAfterMs = options.retryAfterMs;
    this.mayHaveRotated = options.mayHaveRotated === true;
  }

  /** A log-safe plain object. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      status: this.status,
      retryable: this.retryable,
      provider: this.provider,
      mayHaveRotated: this.mayHaveRotated,
    };
  }
}
