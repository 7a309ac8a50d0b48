/**
 * gRPC status codes (the same numbers over gRPC and the REST fallback, where google-gax maps the
 * JSON `error.status` back to them).
 *
 * @module
 */

/** gRPC status names, indexed by code. */
export const STATUS_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

/** A gRPC status name such as `NOT_FOUND`. */
export type StatusName = (typeof STATUS_NAMES)[number];

/** The numeric code of a status name. */
export function statusCode(name: StatusName): number {
  return STATUS_NAMES.indexOf(name);
}

/** The status name of a numeric code or name, or `undefined` when it is neither. */
export function statusName(code: unknown): StatusName | undefined {
  if (typeof code === 'number' && Number.isInteger(code)) return STATUS_NAMES[code];
  if (typeof code === 'string') return (STATUS_NAMES as readonly string[]).includes(code) ? (code as StatusName) : undefined;
  return undefined;
}
