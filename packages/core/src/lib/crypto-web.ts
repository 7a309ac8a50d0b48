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
 * Ed25519 (Standard Webhooks `v1a`) with `crypto.subtle.verify` / `sign` (`{ name: 'Ed25519' }`),
 * one imported `CryptoKey` per key-bytes object.
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
export function hmacSync(_algorithm: HmacAlgorithm, _key: Uint8Array, _prefix: string | undefined, _body: string | Uint8Array): Uint8Array {
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

// --- Ed25519 (Standard Webhooks v1a) ------------------------------------------------------------

/** Whether this backend can verify and sign Ed25519 synchronously. */
export const hasSyncEd25519 = false;

/** DER prefix of an Ed25519 private key in PKCS #8, before the 32-byte seed. */
const PKCS8_ED25519 = new Uint8Array([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]);
const ED25519 = { name: 'Ed25519' } as const;

/** Imported keys, one per key-bytes object (the verifier keeps one per key version). */
const edPublicKeys = new WeakMap<Uint8Array, Promise<CryptoKey>>();
const edPrivateKeys = new WeakMap<Uint8Array, Promise<CryptoKey>>();

function cachedImport(
  cache: WeakMap<Uint8Array, Promise<CryptoKey>>,
  bytes: Uint8Array,
  load: () => Promise<CryptoKey>,
): Promise<CryptoKey> {
  let pending = cache.get(bytes);
  if (pending === undefined) {
    pending = load();
    const mine = pending;
    pending.catch(() => {
      if (cache.get(bytes) === mine) cache.delete(bytes);
    });
    cache.set(bytes, pending);
  }
  return pending;
}

const unavailable = (error: unknown): never => {
  throw new TypeError(
    `Ed25519 is not available in this runtime's WebCrypto (Standard Webhooks v1a needs it): ${(error as Error)?.message ?? String(error)}`,
  );
};

function pkcs8(seed: Uint8Array): Uint8Array<ArrayBuffer> {
  const der = new Uint8Array(PKCS8_ED25519.length + seed.length);
  der.set(PKCS8_ED25519, 0);
  der.set(seed, PKCS8_ED25519.length);
  return der;
}

/** Imports the seed as a signing key; the PKCS #8 copy of it is wiped once the import settled. */
async function importPrivate(seed: Uint8Array, extractable: boolean): Promise<CryptoKey> {
  const der = pkcs8(seed);
  try {
    return await subtle().importKey('pkcs8', der, ED25519, extractable, ['sign']).catch(unavailable);
  } finally {
    der.fill(0);
  }
}

/** Not available on WebCrypto: always throws. Use {@link ed25519VerifyAsync}. */
export function ed25519VerifySync(
  _publicKey: Uint8Array,
  _prefix: string | undefined,
  _body: string | Uint8Array,
  _signature: Uint8Array,
): boolean {
  throw new TypeError('Synchronous Ed25519 is not available on WebCrypto runtimes: use `await verifier.verify()` / `signAsync()`.');
}

/** Whether `signature` is an Ed25519 signature of `prefix || body` by the 32-byte `publicKey` (`crypto.subtle.verify`). */
export async function ed25519VerifyAsync(
  publicKey: Uint8Array,
  prefix: string | undefined,
  body: string | Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  const key = await cachedImport(edPublicKeys, publicKey, () =>
    subtle().importKey('raw', publicKey.slice(), ED25519, false, ['verify']).catch(unavailable),
  );
  return subtle().verify(ED25519, key, signature as Uint8Array<ArrayBuffer>, signedBytes(prefix, body) as Uint8Array<ArrayBuffer>);
}

/** Not available on WebCrypto: always throws. Use {@link ed25519SignAsync}. */
export function ed25519SignSync(_seed: Uint8Array, _prefix: string | undefined, _body: string | Uint8Array): Uint8Array {
  throw new TypeError('Synchronous Ed25519 is not available on WebCrypto runtimes: use `signAsync()`.');
}

/** The 64-byte Ed25519 signature of `prefix || body` by the 32-byte private-key `seed`. */
export async function ed25519SignAsync(seed: Uint8Array, prefix: string | undefined, body: string | Uint8Array): Promise<Uint8Array> {
  const key = await cachedImport(edPrivateKeys, seed, () => importPrivate(seed, false));
  return new Uint8Array(await subtle().sign(ED25519, key, signedBytes(prefix, body) as Uint8Array<ArrayBuffer>));
}

/** Not available on WebCrypto: always throws. Use {@link ed25519PublicKeyAsync}. */
export function ed25519PublicKeySync(_seed: Uint8Array): Uint8Array {
  throw new TypeError('Synchronous Ed25519 is not available on WebCrypto runtimes.');
}

/** The 32-byte public key of a 32-byte private-key `seed` (imported extractable, exported as a JWK). */
export async function ed25519PublicKeyAsync(seed: Uint8Array): Promise<Uint8Array> {
  const key = await importPrivate(seed, true);
  const jwk = await subtle().exportKey('jwk', key);
  const x = (jwk.x ?? '').replace(/-/g, '+').replace(/_/g, '/');
  return Uint8Array.from(atob(x + '='.repeat((4 - (x.length % 4)) % 4)), (c) => c.charCodeAt(0));
}
