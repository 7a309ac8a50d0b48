/**
 * HMAC on WebCrypto (`crypto.subtle`), for runtimes without `node:crypto`: Cloudflare Workers
 * (workerd), Vercel Edge (edge-light), browsers and web workers.
 *
 * WebCrypto is async-only, so `hasSyncHmac` is `false` and the verifier takes its async path.
 * Imported `CryptoKey`s are cached in a `WeakMap` keyed by the key-bytes object: the verifier
 * keeps one key-bytes object per key version across reloads, so there is one `importKey` per key
 * version (and hash), and a retired version's `CryptoKey` is collected with its bytes.
 *
 * The body is never transcoded: bytes are hashed as they are; strings are UTF-8 encoded, prefix
 * and body separately, exactly as the `node:crypto` backend feeds them to `update()`.
 *
 * @internal
 * @module
 */
import type { HmacAlgorithm } from './crypto-types.ts';

/** Whether this backend can compute an HMAC synchronously. */
export const hasSyncHmac = false;

/** Name of the backend, for diagnostics. */
export const backendName = 'webcrypto';

const HASH_NAMES: Readonly<Record<HmacAlgorithm, string>> = { sha256: 'SHA-256', sha1: 'SHA-1', sha512: 'SHA-512' };

/** Per key-bytes object: one imported key per hash function (a profile uses one). */
const keyCache = new WeakMap<Uint8Array, Partial<Record<HmacAlgorithm, Promise<CryptoKey>>>>();

const encoder = new TextEncoder();

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (s === undefined) {
    throw new TypeError('WebCrypto (globalThis.crypto.subtle) is not available on this runtime; keyturn needs it or node:crypto.');
  }
  return s;
}

/** The imported `CryptoKey` for `key`, imported once per key-bytes object and hash. */
function importedKey(algorithm: HmacAlgorithm, key: Uint8Array): Promise<CryptoKey> {
  let perHash = keyCache.get(key);
  if (perHash === undefined) {
    perHash = {};
    keyCache.set(key, perHash);
  }
  let pending = perHash[algorithm];
  if (pending === undefined) {
    const hash = HASH_NAMES[algorithm];
    if (hash === undefined) return Promise.reject(new TypeError(`Unsupported HMAC algorithm: ${String(algorithm)}`));
    // Copy the bytes: importKey must not see later mutations, and a Node Buffer may be a view into a pool.
    pending = subtle().importKey('raw', key.slice(), { name: 'HMAC', hash }, false, ['sign']);
    const slot = perHash;
    // A failed import is not cached: the next call tries again.
    pending.catch(() => {
      if (slot[algorithm] === pending) delete slot[algorithm];
    });
    perHash[algorithm] = pending;
  }
  return pending;
}

/** `prefix || body` as one byte array, without transcoding the body. */
function signedBytes(prefix: string | undefined, body: string | Uint8Array): Uint8Array {
  const bodyBytes = typeof body === 'string' ? encoder.encode(body) : body;
  if (prefix === undefined || prefix.length === 0) return bodyBytes;
  const prefixBytes = encoder.encode(prefix);
  const out = new Uint8Array(prefixBytes.length + bodyBytes.length);
  out.set(prefixBytes, 0);
  out.set(bodyBytes, prefixBytes.length);
  return out;
}

/** Not available on WebCrypto: always throws. Use {@link hmacAsync}. */
export function hmacSync(
  _algorithm: HmacAlgorithm,
  _key: Uint8Array,
  _prefix: string | undefined,
  _body: string | Uint8Array,
): Uint8Array {
  throw new TypeError('Synchronous HMAC is not available on WebCrypto runtimes: use `await verifier.verify()` / `signAsync()`.');
}

/** HMAC of `prefix || body` with `crypto.subtle.sign`. */
export async function hmacAsync(
  algorithm: HmacAlgorithm,
  key: Uint8Array,
  prefix: string | undefined,
  body: string | Uint8Array,
): Promise<Uint8Array> {
  const cryptoKey = await importedKey(algorithm, key);
  const data = signedBytes(prefix, body);
  // A view (Buffer, subarray) is signed over exactly its own range.
  const digest = await subtle().sign('HMAC', cryptoKey, data as Uint8Array<ArrayBuffer>);
  return new Uint8Array(digest);
}

/** Constant-time equality of two byte arrays (no early exit; lengths are public digest lengths). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}
