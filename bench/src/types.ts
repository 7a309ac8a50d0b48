/**
 * The case contract shared by every case module (and by the WebCrypto child process).
 *
 * @module
 */
import type { BodyFixture } from './bodies.ts';

/** A case, ready to time at one body size. */
export interface Prepared {
  /** The timed operation (sync, or returning a promise that is awaited). */
  readonly fn: () => unknown;
  /** Regenerates the request (fresh timestamps) right before a measurement. */
  refresh(): void;
  /** Throws unless a valid request is accepted and a tampered one rejected. */
  check(): Promise<void>;
  /** Releases servers and verifiers. */
  dispose?(): Promise<void>;
}

/** One benchmark case. */
export interface CaseDef {
  /** Stable id (used by `--only`, in JSON and in tables). */
  readonly id: string;
  /** Table section. */
  readonly group: 'floor' | 'keyturn' | 'fleet' | 'reject' | 'peer' | 'webcrypto' | 'cold';
  /** What is timed. */
  readonly what: string;
  /** The floor this case is paired with (itself for the noise row). */
  readonly floor: string;
  /** Sizes this case runs at (default: all). */
  readonly sizes?: readonly number[];
  /** Builds the case for one body. */
  prepare(body: BodyFixture): Promise<Prepared>;
}

/** Throws a correctness failure unless `ok`. */
export function assert(ok: unknown, message: string): asserts ok {
  if (!ok) throw new Error(`correctness check failed: ${message}`);
}
