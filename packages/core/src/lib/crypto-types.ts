/**
 * @internal
 * @module
 */

/** HMAC hash functions a profile may use. */
export type HmacAlgorithm = 'sha256' | 'sha1' | 'sha512';

/** Digest length in bytes per algorithm. */
export const DIGEST_LENGTH: Readonly<Record<HmacAlgorithm, number>> = { sha256: 32, sha1: 20, sha512: 64 };
