/**
 * Values as stores read them: one instant parser (one strictness), secret comparison, role order.
 *
 * @module
 */
import { KEY_ROLES, ROLE_RANK, type KeyRole } from '../keys/types.ts';
import { MAX_EPOCH_MS } from '../lib/validate.ts';

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

/**
 * Reads an instant, the one way every store does: epoch milliseconds (a finite number, or a string of
 * 1 to 16 digits) or an ISO-8601 / RFC 3339 date-time **with a zone** (`2026-12-01T00:00:00Z`,
 * `2026-12-01T01:00:00+01:00`; seconds and up to 9 fraction digits optional). A date-time without a
 * zone is refused (it would be read in the machine's local time), as are dates alone, `NaN`, and
 * anything outside what a `Date` holds. `undefined` when `value` is none of these: the store names the
 * field in its own error.
 */
export function parseInstant(value: unknown): number | undefined {
  let ms: number;
  if (typeof value === 'number') ms = value;
  else if (typeof value !== 'string') return undefined;
  else if (/^\d{1,16}$/.test(value)) ms = Number(value);
  else if (ISO_WITH_ZONE.test(value)) ms = Date.parse(value);
  else return undefined;
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_EPOCH_MS ? ms : undefined;
}

/** The roles in the order a verifier tries them: `active`, `pending`, `previous`. */
export const ROLE_ORDER: readonly KeyRole[] = KEY_ROLES;

/** A comparator by role ({@link ROLE_ORDER}), for `Array.prototype.sort` (stable: store order within a role). */
export function compareRoles(a: { readonly role: KeyRole }, b: { readonly role: KeyRole }): number {
  return ROLE_RANK[a.role] - ROLE_RANK[b.role];
}

/** The less privileged of two roles (`active` < `pending` < `previous`): a previous version's key never verifies as active. */
export function weakerRole(a: KeyRole, b: KeyRole): KeyRole {
  return ROLE_RANK[a] >= ROLE_RANK[b] ? a : b;
}

const encoder = new TextEncoder();

/**
 * Whether two stored values are the same secret, byte for byte (text compared as UTF-8), without an
 * early exit on the first differing byte.
 */
export function sameSecret(a: string | Uint8Array, b: string | Uint8Array): boolean {
  const x = typeof a === 'string' ? encoder.encode(a) : a;
  const y = typeof b === 'string' ? encoder.encode(b) : b;
  if (x.length !== y.length) return false;
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= (x[i] as number) ^ (y[i] as number);
  return diff === 0;
}
