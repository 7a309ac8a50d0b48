/**
 * The parts of the shared core that every adapter subpath exports (`export * from './common.ts'`).
 *
 * @internal
 * @module
 */
export {
  BODY_ERROR_CODES,
  BodyError,
  BodyTooLargeError,
  DEFAULT_BODY_TIMEOUT_MS,
  DEFAULT_MAX_BODY_BYTES,
  SUPPORTED_CONTENT_ENCODINGS,
  UNSUPPORTED_ENCODING_HINT,
} from './shared.ts';
export type { AdapterOptions, AdapterError, BodyErrorCode, ChallengeSignaturePolicy } from './shared.ts';
