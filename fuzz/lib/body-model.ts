/**
 * Shared pieces of the body-reader targets: how a fuzz input describes a request body, and what
 * a correct reader must answer for it.
 */
import { deflateSync, gzipSync } from 'node:zlib';
import { BodyTooLargeError } from '@keyturn/core/adapters/node';
import { VerificationError } from '@keyturn/core';
import { check, describe } from './checks.ts';
import type { Input } from './input.ts';

/**
 * Limits the fuzzer picks from (`undefined`: the 1 MiB default). The last ones are not positive
 * integers: the readers must refuse them with the documented `TypeError`.
 */
export const LIMITS: readonly (number | undefined)[] = [
  undefined,
  1,
  2,
  7,
  16,
  64,
  255,
  1024,
  0,
  -1,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
];

/** Whether a limit is one the readers accept. */
export const validLimit = (limit: number | undefined): boolean => limit === undefined || (Number.isSafeInteger(limit) && limit > 0);

/** `Content-Encoding` values the fuzzer sends, and what the body on the wire is then. */
export const CODINGS = [undefined, 'gzip', 'deflate', 'x-gzip', 'identity', 'GZIP', 'br', 'gzip, gzip', 'gzip'] as const;

/**
 * A body as sent with `coding`: compressed for gzip/deflate; for the last entry ('gzip' declared
 * on bytes that are not gzip) the body is sent as is. `decoded` is what a correct reader returns.
 */
export function encodeBody(
  plain: Buffer,
  codingIndex: number,
): { wire: Buffer; coding: string | undefined; kind: 'identity' | 'compressed' | 'unsupported' | 'malformed' } {
  const coding = CODINGS[codingIndex % CODINGS.length];
  if (coding === undefined || coding === 'identity') return { wire: plain, coding, kind: 'identity' };
  if (codingIndex % CODINGS.length === CODINGS.length - 1)
    return { wire: plain, coding, kind: plain.length === 0 ? 'identity' : 'malformed' };
  if (coding === 'br' || coding === 'gzip, gzip') return { wire: plain, coding, kind: 'unsupported' };
  const wire = coding.toLowerCase().includes('gzip') ? gzipSync(plain) : deflateSync(plain);
  return { wire, coding, kind: 'compressed' };
}

/** A body as the input describes it. */
export interface BodyCase {
  readonly chunks: Uint8Array[];
  readonly total: number;
  readonly limit: number | undefined;
  /** `Content-Length`: absent, the true length, another number, or junk. */
  readonly contentLength: string | undefined;
  readonly declared: number | undefined;
}

/** Reads chunks, a limit and a Content-Length from the input. */
export function readBodyCase(input: Input): BodyCase {
  const limit = LIMITS[input.int(LIMITS.length)];
  const n = input.int(9);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < n && input.remaining > 0; i++) {
    const f = input.field();
    // A short field repeated makes a large chunk cheaply (to cross limits).
    const times = f.length > 0 && f[0]! >= 250 ? (f[0]! - 249) * 50 : 1;
    const chunk = times === 1 ? f.slice() : Buffer.concat(Array.from({ length: times }, () => f.subarray(1)));
    chunks.push(chunk);
  }
  const total = chunks.reduce((a, c) => a + c.length, 0);
  const cl = input.byte() % 5;
  const contentLength =
    cl === 0
      ? undefined
      : cl === 1
        ? String(total)
        : cl === 2
          ? String(input.byte() * 7)
          : cl === 3
            ? String(total + 1 + input.byte())
            : [' 5', '5 ', '-1', '1e3', '0x10', '', '99999999999999999999', '+3'][input.int(8)];
  const declared = contentLength !== undefined && /^\d{1,15}$/.test(contentLength) ? Number(contentLength) : undefined;
  return { chunks, total, limit, contentLength, declared };
}

/** The effective limit. */
export const effective = (c: BodyCase): number => c.limit ?? 1_048_576;

/** The reader must answer 413 (`BodyTooLargeError` with the limit). */
export function expectTooLarge(err: unknown, c: BodyCase, why: string): void {
  check(err instanceof BodyTooLargeError, () => `${why}: expected BodyTooLargeError, got ${describe(err)}`);
  check(
    err.status === 413 && err.limitBytes === effective(c),
    () => `BodyTooLargeError with status ${err.status}, limit ${err.limitBytes}`,
  );
}

/** The reader must answer with a `BodyError` of `code` (415 unsupported, 400 malformed coding). */
export function expectBodyError(err: unknown, code: string, status: number): void {
  const e = err as { name?: string; code?: string; status?: number };
  check(
    err instanceof Error && e.code === code && e.status === status,
    () => `expected BodyError ${code} (${status}), got ${describe(err)}`,
  );
}

/** The reader must answer `BODY_NOT_RAW`. */
export function expectNotRaw(err: unknown): void {
  check(
    err instanceof VerificationError && err.code === 'BODY_NOT_RAW' && err.status === 500,
    () => `expected BODY_NOT_RAW, got ${describe(err)}`,
  );
}

/** Settles `promise` or fails the property after `ms` (a hang is a finding). */
export async function withinTime<T>(promise: Promise<T>, ms: number, what: string): Promise<{ value?: T; error?: unknown }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`PROPERTY: ${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return { value: await Promise.race([promise, hang]) };
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('PROPERTY:')) throw error;
    return { error };
  } finally {
    clearTimeout(timer);
  }
}

/** Concatenation of chunks. */
export const concat = (chunks: readonly Uint8Array[]): Buffer =>
  Buffer.concat(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)));

/** `wire` cut into `n` pieces (at least one), as a transport would deliver it. */
export function rechunk(wire: Buffer, n: number): Buffer[] {
  const parts = Math.max(1, n);
  const size = Math.ceil(wire.length / parts) || 1;
  const out: Buffer[] = [];
  for (let i = 0; i < wire.length; i += size) out.push(wire.subarray(i, i + size));
  return out;
}

/**
 * What a correct reader answers for a body sent as `wire` (decoding to `plain`) under `limit`,
 * once the request was accepted for reading (no raw copy, not consumed).
 */
export function expectRead(
  result: { value?: Uint8Array; error?: unknown },
  c: BodyCase,
  encoded: ReturnType<typeof encodeBody>,
  plain: Buffer,
  declared: number | undefined,
): void {
  const limit = effective(c);
  if (encoded.kind === 'unsupported') return expectBodyError(result.error, 'UNSUPPORTED_CONTENT_ENCODING', 415);
  if (declared !== undefined && declared > limit) return expectTooLarge(result.error, c, 'declared Content-Length over the limit');
  const wireOver = encoded.wire.length > limit;
  if (encoded.kind === 'malformed') {
    if (wireOver && result.error instanceof BodyTooLargeError) return;
    return expectBodyError(result.error, 'MALFORMED_CONTENT_ENCODING', 400);
  }
  if (wireOver || plain.length > limit)
    return expectTooLarge(result.error, c, wireOver ? 'body over the limit as sent' : 'body over the limit decoded');
  check(result.error === undefined, () => `a valid body was rejected: ${describe(result.error)}`);
  check(Buffer.from(result.value as Uint8Array).equals(plain), `the reader returned other bytes than were sent (${encoded.kind})`);
}
