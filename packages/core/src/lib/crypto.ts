/**
 * The crypto backend, chosen by export condition through the `#crypto` subpath import:
 * `node:crypto` on Node (and runtimes with Node compatibility), WebCrypto elsewhere.
 *
 * @internal
 * @module
 */
export { hasSyncHmac, hmacSync, hmacAsync, equalBytes, backendName } from '#crypto';
export type { HmacAlgorithm } from './crypto-types.ts';
export { DIGEST_LENGTH } from './crypto-types.ts';
