import { KeyStoreError } from '@keyturn/core';
import type { SecretVersion } from '@keyturn/core';

export const signal = () => new AbortController().signal;

/** Resolves to the rejection of `p` (or fails the test if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<KeyStoreError> {
  const out = await p.then(
    (v) => ({ ok: true as const, v }),
    (e: unknown) => ({ ok: false as const, e }),
  );
  if (out.ok) throw new Error('expected a rejection');
  if (!(out.e instanceof KeyStoreError)) throw out.e;
  return out.e;
}

/** A compact view of versions for assertions. */
export const view = (versions: SecretVersion[]) =>
  versions.map((v) => ({ id: v.id, role: v.role, secret: v.secret, notBefore: v.notBefore, notAfter: v.notAfter }));
