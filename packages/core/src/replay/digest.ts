/**
 * SHA-256 of the signed content (prefix + raw body), the replay key of deliveries without an event id.
 * `node:crypto` when the runtime has it (synchronous, no thread-pool round trip); `crypto.subtle` elsewhere.
 *
 * @internal
 * @module
 */
import { encodeHex } from '../lib/encoding.ts';

interface NodeHash {
  update(data: string | Uint8Array): NodeHash;
  digest(encoding: 'hex'): string;
}
interface NodeCrypto {
  createHash(algorithm: 'sha256'): NodeHash;
}

// `process.getBuiltinModule` (Node >= 20.16, Bun, Deno) keeps `node:crypto` out of the static import
// graph, so this module bundles for browsers and workers unchanged.
const nodeCrypto: NodeCrypto | undefined = (() => {
  try {
    const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    const mod = p?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined;
    return typeof mod?.createHash === 'function' ? mod : undefined;
  } catch {
    return undefined;
  }
})();

/** Whether {@link sha256HexSync} is available on this runtime. */
export const hasSyncDigest = nodeCrypto !== undefined;

/** Hex SHA-256 of `prefix || body` (UTF-8 for strings). Throws if the runtime has no `node:crypto`. */
export function sha256HexSync(prefix: string | undefined, body: string | Uint8Array): string {
  if (nodeCrypto === undefined) throw new TypeError('No synchronous SHA-256 on this runtime');
  const h = nodeCrypto.createHash('sha256');
  if (prefix !== undefined) h.update(prefix);
  h.update(body);
  return h.digest('hex');
}

/** Hex SHA-256 of `prefix || body`, on any runtime. */
export async function sha256Hex(prefix: string | undefined, body: string | Uint8Array): Promise<string> {
  if (nodeCrypto !== undefined) return sha256HexSync(prefix, body);
  return sha256HexSubtle(prefix, body);
}

/** The `crypto.subtle` path of {@link sha256Hex} (runtimes without `node:crypto`). */
export async function sha256HexSubtle(prefix: string | undefined, body: string | Uint8Array): Promise<string> {
  const enc = new TextEncoder();
  const head = prefix === undefined ? new Uint8Array(0) : enc.encode(prefix);
  const tail = typeof body === 'string' ? enc.encode(body) : body;
  const data = new Uint8Array(head.length + tail.length);
  data.set(head, 0);
  data.set(tail, head.length);
  return encodeHex(new Uint8Array(await crypto.subtle.digest('SHA-256', data)));
}
