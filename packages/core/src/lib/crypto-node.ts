/**
 * HMAC and Ed25519 on `node:crypto` (Node, and Bun / Deno through their Node compatibility): a synchronous
 * path with no body transcoding.
 *
 * Two routes compute the same HMAC (RFC 2104):
 *
 * - **pads** (bodies up to {@link padsCrossover} bytes, Node only): the key's inner and outer pads
 *   (`K0 ⊕ ipad`, `K0 ⊕ opad`) are computed once per key-bytes object; a request costs two one-shot
 *   `crypto.hash` calls, `H(outer || H(inner || prefix || body))`, over a scratch buffer the module
 *   reuses. That skips creating an `Hmac` object and its key schedule per request, which is most of
 *   what a small body costs.
 * - **stream** (larger bodies, runtimes without `crypto.hash`, Bun, Deno): `createHmac`, with the
 *   prefix and the body fed as separate `update()` calls. Above the crossover, copying the body into
 *   the scratch buffer costs more than the pads save.
 *
 * The pads are key material, kept like the key bytes: private fields of an {@link HmacPads} that
 * prints as `[redacted]`, computed into buffers nobody else holds, never returned. The scratch
 * buffers hold a copy of a pad only while a digest is computed: the pad bytes are zeroed right after.
 *
 * Ed25519 (Standard Webhooks `v1a`) with `crypto.verify` / `crypto.sign`, one `KeyObject` per key.
 *
 * @internal
 * @module
 */
import * as nodeCrypto from 'node:crypto';
import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  sign as signMessage,
  timingSafeEqual,
  verify as verifySignature,
  type KeyObject,
} from 'node:crypto';
import type { HmacAlgorithm } from './crypto-types.ts';

/** Whether this backend can compute an HMAC synchronously. */
export const hasSyncHmac = true;

/** Name of the backend, for diagnostics. */
export const backendName = 'node:crypto';

/** `crypto.hash` (Node ≥ 21.7 / 20.12); read through the namespace so a runtime without it still links. */
type OneShotHash = (algorithm: string, data: Uint8Array, outputEncoding: 'buffer') => Buffer;
const oneShot = (nodeCrypto as { hash?: unknown }).hash as OneShotHash | undefined;

/**
 * Largest body (bytes, prefix included) hashed through the pads, per Node major: above it streaming
 * `createHmac` is as fast or faster. Measured with `pnpm bench` (the `crossover` section, pads route
 * against `createHmac` in alternating chunks, per body size) on the 2-core benchmark VM; see
 * docs/benchmarks.md. Majors not listed use {@link DEFAULT_CROSSOVER}.
 */
const CROSSOVER_BY_MAJOR: Readonly<Record<number, number>> = { 22: 4096, 24: 4096, 26: 4096 };
const DEFAULT_CROSSOVER = 4096;

function crossoverFor(): number {
  const versions = (globalThis as { process?: { versions?: Record<string, string | undefined> } }).process?.versions;
  // Bun and Deno implement node:crypto themselves: keep the plain createHmac route there.
  if (oneShot === undefined || versions === undefined || versions['bun'] !== undefined || versions['deno'] !== undefined) return 0;
  if ('Deno' in globalThis) return 0;
  const major = Number.parseInt(versions['node'] ?? '', 10);
  return CROSSOVER_BY_MAJOR[major] ?? DEFAULT_CROSSOVER;
}

/** Largest signed content (bytes) the pads route takes on this runtime; 0 when it is off. */
export const padsCrossover: number = crossoverFor();

const BLOCK: Readonly<Record<HmacAlgorithm, number>> = { sha256: 64, sha1: 64, sha512: 128 };
const DIGEST: Readonly<Record<HmacAlgorithm, number>> = { sha256: 32, sha1: 20, sha512: 64 };
const REDACTED = '[redacted]';

/**
 * Scratch for `inner pad || prefix || body`, grown on demand up to the largest block + crossover +
 * prefix allowance; and one `outer pad || inner digest` buffer per algorithm. Shared by every key:
 * JavaScript runs one digest at a time, and each call overwrites what it reads.
 */
let scratch: Buffer = Buffer.alloc(0);
const outerScratch: Partial<Record<HmacAlgorithm, Buffer>> = {};
/** Prefix bytes (worst case: 3 per UTF-16 unit) the pads route accepts on top of the crossover. */
const PREFIX_ALLOWANCE = 512;

function scratchFor(bytes: number): Buffer {
  if (scratch.length < bytes) scratch = Buffer.alloc(Math.max(bytes, Math.min(2 * scratch.length, 128 + padsCrossover + PREFIX_ALLOWANCE)));
  return scratch;
}

/** Writes `text` as UTF-8 at `offset` (space is guaranteed by the caller); returns the bytes written. */
function writeUtf8(target: Buffer, text: string, offset: number): number {
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return target.write(text, offset, 'utf8');
    target[offset + i] = c;
  }
  return n;
}

/**
 * The inner and outer pads of one key for one hash function (RFC 2104: a key longer than the block
 * is hashed first, a shorter one is zero-padded). Redacted everywhere it could print.
 */
export class HmacPads {
  readonly algorithm: HmacAlgorithm;
  readonly #inner: Uint8Array;
  readonly #outer: Uint8Array;

  constructor(algorithm: HmacAlgorithm, key: Uint8Array) {
    const block = BLOCK[algorithm];
    if (block === undefined) throw new TypeError(`Unsupported HMAC algorithm: ${String(algorithm)}`);
    this.algorithm = algorithm;
    const k0 = new Uint8Array(block);
    k0.set(key.length > block ? nodeCrypto.createHash(algorithm).update(key).digest() : key);
    const inner = new Uint8Array(block);
    const outer = new Uint8Array(block);
    for (let i = 0; i < block; i++) {
      inner[i] = (k0[i] as number) ^ 0x36;
      outer[i] = (k0[i] as number) ^ 0x5c;
    }
    k0.fill(0);
    this.#inner = inner;
    this.#outer = outer;
  }

  /**
   * HMAC of `prefix || body` through two one-shot hashes. The caller checks that the route is on
   * ({@link padsCrossover} > 0) and that `body` (bytes, or a string of UTF-16 length) fits.
   */
  mac(prefix: string | undefined, body: string | Uint8Array): Buffer {
    const hash = oneShot as OneShotHash;
    const algorithm = this.algorithm;
    const block = this.#inner.length;
    const prefixMax = prefix === undefined ? 0 : prefix.length * 3;
    const bodyMax = typeof body === 'string' ? body.length * 3 : body.length;
    const s = scratchFor(block + prefixMax + bodyMax);
    s.set(this.#inner, 0);
    let end = block;
    if (prefix !== undefined) end += writeUtf8(s, prefix, end);
    if (typeof body === 'string') end += s.write(body, end, 'utf8');
    else {
      s.set(body, end);
      end += body.length;
    }
    const innerDigest = hash(algorithm, s.subarray(0, end), 'buffer');
    s.fill(0, 0, block);
    const o = outerScratch[algorithm] ?? (outerScratch[algorithm] = Buffer.alloc(block + DIGEST[algorithm]));
    o.set(this.#outer, 0);
    o.set(innerDigest, block);
    const digest = hash(algorithm, o, 'buffer');
    o.fill(0, 0, block);
    return digest;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `HmacPads { algorithm: '${this.algorithm}', pads: ${REDACTED} }`;
  }
}

/** Per key-bytes object and hash function: its pads (collected with the key bytes). */
const padsCache: Readonly<Record<HmacAlgorithm, WeakMap<Uint8Array, HmacPads>>> = {
  sha256: new WeakMap(),
  sha1: new WeakMap(),
  sha512: new WeakMap(),
};

/** The pads of `key` for `algorithm`, computed once per key-bytes object. */
export function padsFor(algorithm: HmacAlgorithm, key: Uint8Array): HmacPads {
  const cache = padsCache[algorithm];
  if (cache === undefined) throw new TypeError(`Unsupported HMAC algorithm: ${String(algorithm)}`);
  let pads = cache.get(key);
  if (pads === undefined) {
    pads = new HmacPads(algorithm, key);
    cache.set(key, pads);
  }
  return pads;
}

/** HMAC of `prefix || body` with streaming `createHmac` (the route above the crossover). */
export function hmacStream(algorithm: HmacAlgorithm, key: Uint8Array, prefix: string | undefined, body: string | Uint8Array): Uint8Array {
  const h = createHmac(algorithm, key);
  if (prefix !== undefined) h.update(prefix);
  h.update(body);
  return h.digest();
}

/** HMAC of `prefix || body`: the pads route up to the crossover, streaming `createHmac` above it. */
export function hmacSync(algorithm: HmacAlgorithm, key: Uint8Array, prefix: string | undefined, body: string | Uint8Array): Uint8Array {
  // Strings count by UTF-16 length here (a cheap bound); the copy reserves 3 bytes per unit.
  if (body.length <= padsCrossover && (prefix === undefined || prefix.length <= PREFIX_ALLOWANCE / 3)) {
    return padsFor(algorithm, key).mac(prefix, body);
  }
  return hmacStream(algorithm, key, prefix, body);
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

// --- Ed25519 (Standard Webhooks v1a) ------------------------------------------------------------

/** DER prefixes of an Ed25519 private key (PKCS #8, before the 32-byte seed) and public key (SPKI). */
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

/** Imported keys, one per key-bytes object (the verifier keeps one per key version). */
const publicKeys = new WeakMap<Uint8Array, KeyObject>();
const privateKeys = new WeakMap<Uint8Array, KeyObject>();

/** Whether this backend can verify and sign Ed25519 synchronously. */
export const hasSyncEd25519 = true;

function publicKeyObject(raw: Uint8Array): KeyObject {
  let key = publicKeys.get(raw);
  if (key === undefined) {
    key = createPublicKey({ key: Buffer.concat([SPKI_ED25519, raw]), format: 'der', type: 'spki' });
    publicKeys.set(raw, key);
  }
  return key;
}

function privateKeyObject(seed: Uint8Array): KeyObject {
  let key = privateKeys.get(seed);
  if (key === undefined) {
    // The DER copy of the seed may sit in Buffer's shared pool: wiped once the KeyObject holds the key.
    const der = Buffer.concat([PKCS8_ED25519, seed]);
    try {
      key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    } finally {
      der.fill(0);
    }
    privateKeys.set(seed, key);
  }
  return key;
}

/** `prefix || body` as one buffer (Ed25519 signs the whole message at once). */
function message(prefix: string | undefined, body: string | Uint8Array): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return prefix === undefined || prefix.length === 0 ? b : Buffer.concat([Buffer.from(prefix, 'utf8'), b]);
}

/** Whether `signature` is an Ed25519 signature of `prefix || body` by the 32-byte `publicKey`. */
export function ed25519VerifySync(
  publicKey: Uint8Array,
  prefix: string | undefined,
  body: string | Uint8Array,
  signature: Uint8Array,
): boolean {
  return verifySignature(null, message(prefix, body), publicKeyObject(publicKey), signature);
}

/** {@link ed25519VerifySync}, as a promise. */
export function ed25519VerifyAsync(
  publicKey: Uint8Array,
  prefix: string | undefined,
  body: string | Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  return Promise.resolve(ed25519VerifySync(publicKey, prefix, body, signature));
}

/** The 64-byte Ed25519 signature of `prefix || body` by the 32-byte private-key `seed`. */
export function ed25519SignSync(seed: Uint8Array, prefix: string | undefined, body: string | Uint8Array): Uint8Array {
  return new Uint8Array(signMessage(null, message(prefix, body), privateKeyObject(seed)));
}

/** {@link ed25519SignSync}, as a promise. */
export function ed25519SignAsync(seed: Uint8Array, prefix: string | undefined, body: string | Uint8Array): Promise<Uint8Array> {
  return Promise.resolve(ed25519SignSync(seed, prefix, body));
}

/** The 32-byte public key of a 32-byte private-key `seed`. */
export function ed25519PublicKeySync(seed: Uint8Array): Uint8Array {
  const spki = createPublicKey(privateKeyObject(seed)).export({ format: 'der', type: 'spki' });
  return new Uint8Array(spki.subarray(SPKI_ED25519.length));
}

/** {@link ed25519PublicKeySync}, as a promise. */
export function ed25519PublicKeyAsync(seed: Uint8Array): Promise<Uint8Array> {
  return Promise.resolve(ed25519PublicKeySync(seed));
}
