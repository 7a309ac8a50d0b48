/**
 * Shared pieces of the body-reader targets: how a fuzz input describes a request body, and what
 * a correct reader must answer for it.
 */
import { BodyTooLargeError } from '@keyturn/core/adapters/node';
import { VerificationError } from '@keyturn/core';
import { check, describe } from './checks.ts';
import type { Input } from './input.ts';

/** Limits the fuzzer picks from (`undefined`: the 1 MiB default). */
export const LIMITS: readonly (number | undefined)[] = [undefined, 0, 1, 2, 7, 16, 64, 255, 1024];

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
    cl === 0 ? undefined : cl === 1 ? String(total) : cl === 2 ? String(input.byte() * 7) : cl === 3 ? String(total + 1 + input.byte()) : [' 5', '5 ', '-1', '1e3', '0x10', '', '99999999999999999999', '+3'][input.int(8)];
  const declared = contentLength !== undefined && /^\d{1,15}$/.test(contentLength) ? Number(contentLength) : undefined;
  return { chunks, total, limit, contentLength, declared };
}

/** The effective limit. */
export const effective = (c: BodyCase): number => c.limit ?? 1_048_576;

/** The reader must answer 413 (`BodyTooLargeError` with the limit). */
export function expectTooLarge(err: unknown, c: BodyCase, why: string): void {
  check(err instanceof BodyTooLargeError, () => `${why}: expected BodyTooLargeError, got ${describe(err)}`);
  check(err.status === 413 && err.limitBytes === effective(c), () => `BodyTooLargeError with status ${err.status}, limit ${err.limitBytes}`);
}

/** The reader must answer `BODY_NOT_RAW`. */
export function expectNotRaw(err: unknown): void {
  check(err instanceof VerificationError && err.code === 'BODY_NOT_RAW' && err.status === 500, () => `expected BODY_NOT_RAW, got ${describe(err)}`);
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
export const concat = (chunks: readonly Uint8Array[]): Buffer => Buffer.concat(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)));
