/**
 * The one exit-code table of `keyturn`: the `EXIT` constants, the help text and the docs' table all
 * come from {@link EXIT_TABLE}. Verification errors are 10 + their index in `VERIFICATION_ERROR_CODES`.
 *
 * @module
 */
import { VERIFICATION_ERROR_CODES, type VerificationErrorCode } from '@keyturn/core';
import type { RotationErrorCode } from '@keyturn/rotation';

/** One row of the exit-code table. */
export interface ExitCodeRow {
  /** The `EXIT` key. */
  readonly name: keyof ExitCodes;
  /** The exit status. */
  readonly code: number;
  /** What it means (one line). */
  readonly meaning: string;
  /** The rotation error codes that exit with it. */
  readonly rotation?: readonly RotationErrorCode[];
}

/** The `keyturn` exit codes (the table in docs/rotation.md, "Exit codes"). */
export interface ExitCodes {
  /** Success (`status --check`: safe to retire). */
  readonly OK: 0;
  /** Unexpected error. */
  readonly ERROR: 1;
  /** Usage error: bad or missing flags. */
  readonly USAGE: 2;
  /** Not safe to retire (`status --check`, `keys retire` refused). */
  readonly NOT_SAFE: 3;
  /** 10 + index in `VERIFICATION_ERROR_CODES` (10 … 23); see {@link verificationExitCode}. */
  readonly VERIFICATION_BASE: 10;
  /** The store write failed after the provider rotated: the recovery file is kept and its command printed. */
  readonly STORE_WRITE_FAILED: 30;
  /** The provider's rotate call failed before the provider acted: nothing changed. */
  readonly PROVIDER_ROTATE_FAILED: 31;
  /** Store error: cannot read, not found, access denied, … */
  readonly STORE_ERROR: 32;
  /** The store cannot do that (a custom store without `rotate()` / `retirePrevious()`). */
  readonly STORE_UNSUPPORTED: 33;
  /**
   * The provider's answer was lost after the request reached it: it may sign with a secret the store
   * does not hold. The message says what to do (rotate again).
   */
  readonly PROVIDER_MAY_HAVE_ROTATED: 34;
  /** `--usage-url`: the instance could not be reached (connection refused, DNS, timeout). */
  readonly USAGE_UNREACHABLE: 35;
  /** `--usage-url`: the instance refused the request (HTTP 401 / 403): credentials missing or wrong. */
  readonly USAGE_UNAUTHORIZED: 36;
  /** `--usage-url`: any other HTTP error or a redirect. */
  readonly USAGE_HTTP_ERROR: 37;
  /** `--usage` / `--usage-url`: the answer is not JSON or not a keyturn usage snapshot. */
  readonly USAGE_INVALID: 38;
  /**
   * `rotate dataspike` with a fleet (`--redis-url`, `--dynamodb-table`): the rotation fence could not be
   * announced (the fleet is unreachable), so Dataspike was never called: nothing changed. Run it again
   * once the fleet is reachable, or pass `--allow-unfenced`.
   */
  readonly FENCE_UNAVAILABLE: 39;
}

/** Every exit code, in order. */
export const EXIT_TABLE: readonly ExitCodeRow[] = [
  { name: 'OK', code: 0, meaning: 'ok' },
  { name: 'ERROR', code: 1, meaning: 'error' },
  { name: 'USAGE', code: 2, meaning: 'usage' },
  { name: 'NOT_SAFE', code: 3, meaning: 'not safe to retire', rotation: ['NOT_SAFE_TO_RETIRE'] },
  { name: 'VERIFICATION_BASE', code: 10, meaning: `verification codes (10-${9 + VERIFICATION_ERROR_CODES.length})` },
  { name: 'STORE_WRITE_FAILED', code: 30, meaning: 'store write failed (recovery file kept)', rotation: ['STORE_WRITE_FAILED'] },
  { name: 'PROVIDER_ROTATE_FAILED', code: 31, meaning: 'provider rotate failed (nothing changed)', rotation: ['PROVIDER_ROTATE_FAILED'] },
  { name: 'STORE_ERROR', code: 32, meaning: 'store error', rotation: ['STORE_READ_FAILED'] },
  { name: 'STORE_UNSUPPORTED', code: 33, meaning: 'store cannot do that', rotation: ['STORE_NOT_WRITABLE', 'STORE_CANNOT_RETIRE'] },
  {
    name: 'PROVIDER_MAY_HAVE_ROTATED',
    code: 34,
    meaning: 'the provider may have rotated (answer lost: rotate again)',
    rotation: ['PROVIDER_MAY_HAVE_ROTATED'],
  },
  { name: 'USAGE_UNREACHABLE', code: 35, meaning: '--usage-url unreachable' },
  { name: 'USAGE_UNAUTHORIZED', code: 36, meaning: '--usage-url refused (401, 403)' },
  { name: 'USAGE_HTTP_ERROR', code: 37, meaning: '--usage-url HTTP error' },
  { name: 'USAGE_INVALID', code: 38, meaning: 'not a usage snapshot' },
  {
    name: 'FENCE_UNAVAILABLE',
    code: 39,
    meaning: 'fleet unreachable, rotation fence not set (nothing changed)',
    rotation: ['FENCE_UNAVAILABLE'],
  },
];

/** Exit codes, documented in the CLI README and in docs/rotation.md. */
export const EXIT: ExitCodes = Object.fromEntries(EXIT_TABLE.map((r) => [r.name, r.code])) as unknown as ExitCodes;

/** Exit code of a verification error code (10 … 23). */
export function verificationExitCode(code: VerificationErrorCode): number {
  return EXIT.VERIFICATION_BASE + VERIFICATION_ERROR_CODES.indexOf(code);
}

/** Exit code of a rotation error code. */
export function rotationExitCode(code: RotationErrorCode): number {
  return EXIT_TABLE.find((r) => r.rotation?.includes(code))?.code ?? EXIT.ERROR;
}

/** `MISSING_SIGNATURE 10, MALFORMED_SIGNATURE 11, …`: the verification exit codes, for help text. */
export function verificationExitHelp(): string {
  return VERIFICATION_ERROR_CODES.map((c) => `${c} ${verificationExitCode(c)}`).join(', ');
}

/** The exit codes as help lines (`Exit codes: 0 ok, 1 error, …`), wrapped at about 100 columns. */
export function exitCodeHelp(): string {
  const parts = EXIT_TABLE.map((r) =>
    r.name === 'VERIFICATION_BASE' ? r.meaning.replace(/^verification codes \((.*)\)$/, '$1 verification codes') : `${r.code} ${r.meaning}`,
  );
  const lines: string[] = [];
  let line = 'Exit codes:';
  for (const [i, p] of parts.entries()) {
    const piece = ` ${p}${i === parts.length - 1 ? '.' : ','}`;
    if (line.length + piece.length > 100) {
      lines.push(line);
      line = piece.trimStart();
    } else line += piece;
  }
  lines.push(line);
  return lines.join('\n');
}

/** A failure with its own exit code, printed as one `error:` line (no usage text). */
export class CliError extends Error {
  /** The exit code (see {@link EXIT}). */
  readonly exitCode: number;

  constructor(message: string, exitCode: number) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** A bad command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
