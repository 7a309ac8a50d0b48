/**
 * Helpers of the write side (`rotate`, `retirePrevious`).
 *
 * @module
 */
import type { RotateResult } from '../keys/types.ts';
import { describeValue } from '../lib/validate.ts';

/**
 * Completes a `rotate()` result: `previousUnbounded` is `true` when a previous version was kept with no
 * window end (it verifies until something retires it), with `warning` in `warnings`; else `false`.
 */
export function finishRotation(result: RotateResult, warning: string): RotateResult {
  if (result.previousId === undefined || result.previousNotAfter !== undefined)
    return { ...result, previousUnbounded: false, warnings: [] };
  return { ...result, previousUnbounded: true, warnings: [warning] };
}

/**
 * A duration option in ms: `fallback` when `undefined`, else a number from `min` to the largest timer
 * delay, or `Infinity` when `allowInfinity` (a grace with no end). A `TypeError` naming `where` otherwise.
 */
export function msOption(
  where: string,
  name: string,
  value: unknown,
  fallback: number,
  options: { min?: number; allowInfinity?: boolean } = {},
): number {
  if (value === undefined) return fallback;
  const min = options.min ?? 0;
  const ok =
    typeof value === 'number' && value >= min && (Number.isFinite(value) || (options.allowInfinity === true && value === Infinity));
  if (!ok) {
    throw new TypeError(
      `${where}: \`${name}\` must be a number of ms from ${min}${options.allowInfinity === true ? ' (or Infinity)' : ''} (got ${describeValue(value)})`,
    );
  }
  return value as number;
}

/** A copy of `o` without its `undefined` fields (so they do not override defaults when spread). */
export function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The new secret of a `rotate()` call: a non-empty string or bytes (a `TypeError` otherwise). */
export function checkNewSecret(newSecret: unknown): string | Uint8Array {
  if (typeof newSecret !== 'string' && !(newSecret instanceof Uint8Array))
    throw new TypeError('rotate(): `newSecret` must be a string or bytes');
  if (newSecret.length === 0) throw new TypeError('rotate(): `newSecret` is empty');
  return newSecret;
}
