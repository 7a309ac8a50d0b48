/**
 * The properties every fuzz target shares: only typed errors, nothing secret in an error.
 * A failed check throws a plain `Error` whose message starts with "PROPERTY:", which Jazzer.js
 * reports as a finding (crash) and the corpus replay test reports as a failure.
 */
import { inspect } from 'node:util';
import { KEY_STORE_ERROR_REASONS, KeyStoreError, VerificationError, type VerificationErrorCode } from '@keyturn/core';

/** Thrown when a property does not hold. */
export class PropertyViolation extends Error {
  constructor(message: string) {
    super(`PROPERTY: ${message}`);
    this.name = 'PropertyViolation';
  }
}

/** Fails the run unless `condition` holds. */
export function check(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new PropertyViolation(typeof message === 'function' ? message() : message);
}

/** A short, printable description of a thrown value. */
export function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return `non-Error ${typeof err}: ${String(err)}`;
}

/** `err` must be a `VerificationError` with one of `codes` (and `status`, when given). */
export function expectVerificationError(
  err: unknown,
  codes: readonly VerificationErrorCode[],
  expect: { status?: number; provider?: string } = {},
): VerificationError {
  if (err instanceof PropertyViolation) throw err;
  check(err instanceof VerificationError, () => `expected a VerificationError (${codes.join('|')}), got ${describe(err)}`);
  check(codes.includes(err.code), () => `unexpected code ${err.code} (allowed: ${codes.join('|')}): ${err.message}`);
  if (expect.status !== undefined)
    check(err.status === expect.status, () => `${err.code} has status ${err.status}, expected ${expect.status}`);
  if (expect.provider !== undefined)
    check(err.provider === expect.provider, () => `${err.code} names provider ${String(err.provider)}, expected ${expect.provider}`);
  return err;
}

/** `err` must be a `KeyStoreError` (optionally with one of `reasons`). */
export function expectKeyStoreError(err: unknown, store: string): KeyStoreError {
  if (err instanceof PropertyViolation) throw err;
  check(err instanceof KeyStoreError, () => `expected a KeyStoreError, got ${describe(err)}`);
  check(err.store === store, () => `KeyStoreError from store ${err.store}, expected ${store}`);
  check(typeof err.retryable === 'boolean', 'KeyStoreError.retryable is not a boolean');
  check(
    err.reason !== undefined && KEY_STORE_ERROR_REASONS.includes(err.reason),
    () => `KeyStoreError.reason ${String(err.reason)} is not one of KEY_STORE_ERROR_REASONS`,
  );
  return err;
}

/** `err` must be a `TypeError` (the documented rejection of a bad argument). */
export function expectTypeError(err: unknown): TypeError {
  if (err instanceof PropertyViolation) throw err;
  check(err instanceof TypeError, () => `expected a TypeError, got ${describe(err)}`);
  return err;
}

/** Every text an error exposes: message, hint, toJSON, util.inspect (with its cause chain). */
export function exposedText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const parts = [err.message, inspect(err, { depth: 5 })];
  const withJson = err as Error & { toJSON?: () => unknown; hint?: unknown };
  if (typeof withJson.toJSON === 'function') parts.push(JSON.stringify(withJson.toJSON()));
  if (typeof withJson.hint === 'string') parts.push(withJson.hint);
  let cause: unknown = (err as { cause?: unknown }).cause;
  for (let i = 0; i < 5 && cause instanceof Error; i++) {
    parts.push(cause.message);
    cause = (cause as { cause?: unknown }).cause;
  }
  return parts.join('\n');
}

/**
 * None of `secrets` may appear in anything `err` exposes. Secrets shorter than `minLength` are
 * skipped: a two-letter secret is a substring of ordinary English, not a leak.
 */
export function expectNoLeak(err: unknown, secrets: Iterable<string>, what = 'secret', minLength = 12): void {
  const text = exposedText(err);
  for (const s of secrets) {
    if (s.length < minLength) continue;
    check(!text.includes(s), () => `an error exposes a ${what} (${s.length} characters): ${describe(err)}`);
  }
}
