/**
 * Reading `*_FILE` secrets, shared by `envKeyStore` and `envFileKeyStore`.
 *
 * @internal
 * @module
 */
import type { KeyStoreError } from '@keyturn/core';
import { abortedError, fsError } from './errors.ts';

/** How a `*_FILE` secret is read. */
export interface SecretFileRead {
  /** Store name for errors (`env`, `env-file`). */
  readonly store: string;
  /** Secret id being loaded. */
  readonly secretId: string;
  /** The variable that named the file (never the secret). */
  readonly variable: string;
  /** Reads the file. */
  readonly read: () => Promise<Uint8Array>;
  /** The load's abort signal. */
  readonly signal: AbortSignal | undefined;
  /** Remove exactly one trailing `\n` (or `\r\n`) from a text (UTF-8) file. */
  readonly stripNewline: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads a `*_FILE` secret, classifying failures (missing or unreadable files are terminal). */
export async function readSecretFile(r: SecretFileRead): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await r.read();
  } catch (err) {
    if (r.signal?.aborted) throw abortedLoad(r.store, r.secretId, r.signal.reason);
    throw fsError(r.store, r.secretId, `${r.store}: cannot read the file named by ${r.variable}`, err);
  }
  return r.stripNewline ? withoutFinalNewline(bytes) : bytes;
}

/**
 * `bytes` without one final `\n` or `\r\n` — what `echo secret > file`, editors and most Kubernetes
 * secrets add — when the file is text (UTF-8). Exactly one: `"tok\n\n"` keeps a newline, which the
 * reader then refuses as whitespace. A binary (non-UTF-8) file is returned byte for byte: a final `0x0a`
 * may be part of its key.
 */
export function withoutFinalNewline(bytes: Uint8Array): Uint8Array {
  const n = bytes.length;
  if (n === 0 || bytes[n - 1] !== 10) return bytes;
  try {
    utf8.decode(bytes);
  } catch {
    return bytes;
  }
  return bytes.subarray(0, n >= 2 && bytes[n - 2] === 13 ? n - 2 : n - 1);
}

/** The error for an aborted load. */
export function abortedLoad(store: string, secretId: string, cause: unknown): KeyStoreError {
  return abortedError(store, secretId, `${store}: the load was aborted`, cause);
}
