/**
 * The verifier: one provider profile + one key source (static keys or a store behind the cache).
 * Exports only; the parts live in `verifier/` (public types, request checks, key matching, challenge,
 * usage, and `createVerifier` itself).
 *
 * @module
 */
export { createVerifier } from './verifier/create.ts';
export type {
  AnswerChallengeOptions,
  EventOf,
  KeyUsageReport,
  RawBody,
  SafeVerifyFailure,
  SafeVerifyResult,
  SafeVerifySuccess,
  SecretIdOption,
  StaticKeys,
  StaticKeysVerifierOptions,
  StoreVerifierOptions,
  Verifier,
  VerifierOptions,
  VerifierOptionsBase,
  VerifyRequest,
  VerifyResult,
} from './verifier/types.ts';
