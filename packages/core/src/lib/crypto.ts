/**
 * The crypto backend, chosen by export condition through the `#crypto` subpath import:
 * `node:crypto` on Node (and runtimes with Node compatibility), WebCrypto elsewhere. HMAC for every
 * profile; Ed25519 for Standard Webhooks `v1a`.
 *
 * @internal
 * @module
 */
export { hasSyncHmac, hmacSync, hmacAsync, equalBytes, backendName } from '#crypto';
export {
  hasSyncEd25519,
  ed25519VerifySync,
  ed25519VerifyAsync,
  ed25519SignSync,
  ed25519SignAsync,
  ed25519PublicKeySync,
  ed25519PublicKeyAsync,
} from '#crypto';
export type { HmacAlgorithm } from './crypto-types.ts';
export { DIGEST_LENGTH } from './crypto-types.ts';
