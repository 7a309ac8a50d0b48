/**
 * HMAC on `node:crypto` (Node, and Bun / Deno through their Node compatibility): a synchronous
 * path with no body transcoding — the prefix and the body are fed as separate `update()` calls.
 *
 * @internal
 * @module
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { HmacAlgorithm } from './crypto-types.ts';

/** Whether this backend can compute an HMAC synchronously. */
export const hasSyncHmac = true;

/** Name of the backend, for diagnostics. */
export const backendName = 'node:crypto';

/** HMAC of `prefix || body`. */
export function hmacSync(
  algorithm: HmacAlgorithm,
  key: Uint8Array,
  prefix: string | undefined,
  body: string | Uint8Array,
): Uint8Array {
  const h = createHmac(algorithm, key);
  if (prefix !== undefined) h.update(prefix);
  h.update(body);
  return h.digest();
}

/** Async variant; on Node it runs the sync path (WebCrypto would add a thread-pool round trip). */
export function hmacAsync(
  algorithm: HmacAlgorithm,
  key: Uint8Array,
  prefix: string | undefined,
  body: string | Uint8Array,
): Promise<Uint8Array> {
  return Promise.resolve(hmacSync(algorithm, key, prefix, body));
}

/** Constant-time equality of two byte arrays of the same length. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
