/**
 * Validation of numeric options and inputs. Every number keyturn accepts is checked once, where it
 * enters (at construction for options, per request for request fields): `NaN`, `Infinity`, strings
 * and out-of-range values are refused, never coerced or silently defaulted — a `NaN` compares false
 * with everything, so an unchecked one turns a check off instead of failing it.
 *
 * @internal
 * @module
 */

/** The largest delay `setTimeout` honours (2^31 − 1 ms, ≈ 24.8 days); larger ones fire at once. */
export const MAX_TIMER_MS = 2_147_483_647;
/** The largest epoch-ms value a `Date` can hold. */
export const MAX_EPOCH_MS = 8_640_000_000_000_000;
/** One hour, in ms. */
export const HOUR_MS = 3_600_000;
/** One day, in ms. */
export const DAY_MS = 86_400_000;

/** A short description of a rejected value that never prints a string (it could be anything). */
export function describeValue(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (value === null) return 'null';
  return `a ${typeof value}`;
}

/**
 * Returns `value`, or `fallback` when it is `undefined`; throws a `TypeError` naming `where` and
 * `name` unless it is a finite number in `[min, max]` (and an integer when `integer`).
 */
export function numberOption(
  where: string,
  name: string,
  value: unknown,
  fallback: number,
  min: number,
  max: number,
  integer = false,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new TypeError(
      `${where}: \`${name}\` must be a finite ${integer ? 'integer' : 'number'} from ${min} to ${max} (got ${describeValue(value)})`,
    );
  }
  return value;
}

/** A duration option in ms: finite, from `min` to `max` (default: the largest timer delay). */
export function durationOption(where: string, name: string, value: unknown, fallback: number, min = 0, max = MAX_TIMER_MS): number {
  return numberOption(where, name, value, fallback, min, max);
}

/** An HTTP status for a rejection: an integer from 400 to 599. */
export function rejectStatusOption(where: string, value: unknown, fallback: number): number {
  return numberOption(where, 'rejectStatus', value, fallback, 400, 599, true);
}

/** A boolean option: `true`, `false` or `undefined` (the fallback). */
export function booleanOption(where: string, name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`${where}: \`${name}\` must be true or false (got ${describeValue(value)})`);
  return value;
}

/**
 * Timestamp tolerances of a profile: how old (at least 1 s) and how far ahead (0 allowed) a signed
 * timestamp may be, each at most 7 days. Pass `receivedAt` for deliveries that waited in a queue
 * instead of widening the tolerance.
 */
export function toleranceOptions(
  where: string,
  pastMs: unknown,
  futureMs: unknown,
  pastDefault: number,
  futureDefault: number,
): { pastMs: number; futureMs: number } {
  return {
    pastMs: durationOption(where, 'toleranceMs', pastMs, pastDefault, 1_000, 7 * DAY_MS),
    futureMs: durationOption(where, 'futureToleranceMs', futureMs, futureDefault, 0, 7 * DAY_MS),
  };
}

/** Whether `value` is a usable epoch-ms number (finite, from 0 to the largest `Date`). One branch on the hot path. */
export function isEpochMs(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && value <= MAX_EPOCH_MS;
}
