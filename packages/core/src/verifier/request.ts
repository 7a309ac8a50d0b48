/**
 * Reading one request before any key is tried: the raw body, the clock and `receivedAt`, the signed
 * timestamp, the secret id; and the verifier's rejections (one builder, the profile's status).
 *
 * @internal
 * @module
 */
import { requestRejection, SERVER_SIDE_STATUS, VerificationError, type VerificationErrorCode } from '../errors.ts';
import { describeValue, isEpochMs, MAX_EPOCH_MS, rejectStatusOption, toleranceOptions } from '../lib/validate.ts';
import type { ParsedSignature, ProviderProfile } from '../providers/types.ts';

/** Longest secret id accepted (store names are far shorter: AWS 512, GCP 255). */
export const MAX_SECRET_ID_LENGTH = 1024;

/** What a rejection may carry besides its code and message. */
export interface RejectionExtra {
  hint?: string;
  keyId?: string;
  cause?: unknown;
}

/** Builds the verifier's rejections: request faults with the profile's status, server faults 5xx. */
export type Fail = (
  code: VerificationErrorCode,
  message: string,
  secretId: string | undefined,
  extra?: RejectionExtra,
) => VerificationError;

/** The rejection builder of one profile. */
export function rejections(provider: ProviderProfile): Fail {
  return (code, message, secretId, extra = {}) => {
    const serverSide = SERVER_SIDE_STATUS[code] !== undefined;
    const options = { provider: provider.name, secretId, status: serverSide ? undefined : provider.rejectStatus, ...extra };
    return serverSide ? new VerificationError(code, message, options) : requestRejection(code, message, options);
  };
}

/** Whether `id` is a usable secret id: a non-empty string of at most {@link MAX_SECRET_ID_LENGTH} characters. */
export function validSecretId(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_SECRET_ID_LENGTH;
}

const PARSED_OBJECT_HINT =
  'Pass the raw request body (a string or Buffer) exactly as received: use express.raw({ type: "*/*" }) ' +
  "or the framework's raw-body option before any JSON parser, or request.text() / arrayBuffer() on Fetch runtimes.";

/** The signed bytes of a request body, or `BODY_NOT_RAW`. */
export function rawBody(body: unknown, fail: Fail): string | Uint8Array {
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (body === undefined || body === null) {
    throw fail('BODY_NOT_RAW', 'No request body was captured.', undefined, { hint: PARSED_OBJECT_HINT });
  }
  throw fail('BODY_NOT_RAW', 'The body is a parsed object, not the raw bytes that were signed.', undefined, {
    hint: PARSED_OBJECT_HINT,
  });
}

/** The clock and `receivedAt` must be epoch ms: a `NaN` would turn the timestamp check off. */
export function checkTimes(t: number, at: unknown, fail: Fail): void {
  if (isEpochMs(t) && isEpochMs(at)) return;
  const what = isEpochMs(t) ? `receivedAt (${describeValue(at)})` : `the verifier's clock (now() returned ${describeValue(t)})`;
  throw fail('INVALID_INPUT', `${what} is not epoch ms, a finite number from 0 to ${MAX_EPOCH_MS}.`, undefined, {
    hint: 'Pass receivedAt as epoch milliseconds (Date.now() when the request arrived), or leave it out.',
  });
}

/** The signed timestamp against the profile's tolerance, at `at` (epoch ms). */
export function checkTimestamp(tolerance: ProviderProfile['timestampTolerance'], parsed: ParsedSignature, at: number, fail: Fail): void {
  if (tolerance === undefined || parsed.timestamp === undefined) return;
  const age = at - parsed.timestamp * 1000;
  if (age > tolerance.pastMs) {
    throw fail('TIMESTAMP_TOO_OLD', `The signed timestamp is older than ${tolerance.pastMs / 1000} s.`, undefined);
  }
  if (-age > tolerance.futureMs) {
    throw fail('TIMESTAMP_IN_FUTURE', `The signed timestamp is more than ${tolerance.futureMs / 1000} s in the future.`, undefined);
  }
}

/** Checks the numbers a provider profile brings (a hand-written one too): reject status and tolerances. */
export function checkProfile(provider: ProviderProfile): void {
  const where = `createVerifier(): the ${String(provider.name)} profile`;
  rejectStatusOption(where, provider.rejectStatus, 401);
  const tolerance = provider.timestampTolerance as { pastMs?: unknown; futureMs?: unknown } | undefined;
  if (tolerance !== undefined) {
    if (tolerance === null || typeof tolerance !== 'object') throw new TypeError(`${where}: \`timestampTolerance\` must be an object`);
    if (tolerance.pastMs === undefined || tolerance.futureMs === undefined) {
      throw new TypeError(`${where}: \`timestampTolerance\` needs pastMs and futureMs`);
    }
    toleranceOptions(where, tolerance.pastMs, tolerance.futureMs, 0, 0);
  }
}
