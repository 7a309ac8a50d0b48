/**
 * Lazy peer imports: a store loads its cloud SDK on its first call, never at import or creation, and a
 * missing SDK is a terminal `INVALID_CONFIG` error that says what to install.
 *
 * @module
 */
import { storeError, type StoreIdentity } from './errors.ts';

/** One peer dependency. */
export interface PeerImport extends StoreIdentity {
  /** The package (`@aws-sdk/client-secrets-manager`). */
  readonly name: string;
  /** `() => import('<name>')`, written out so bundlers see it. */
  readonly load: () => Promise<unknown>;
  /** Appended to the message (`' (or pass `client`)'`). */
  readonly hint?: string | undefined;
}

/** Imports a peer dependency, or throws `INVALID_CONFIG` naming it when it is not installed. */
export async function importPeer<T>(peer: PeerImport): Promise<T> {
  try {
    return (await peer.load()) as T;
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw storeError(
        peer,
        `The ${peer.label} store needs the peer dependency ${peer.name}: npm install ${peer.name}${peer.hint ?? ''}.`,
        {
          reason: 'INVALID_CONFIG',
          retryable: false,
          code,
        },
      );
    }
    throw err;
  }
}

/**
 * Memoises an async factory (a client built on first use). A failure is not kept, so a missing peer
 * dependency can be installed and the call retried.
 */
export function lazy<T>(build: () => Promise<T>): { get(): Promise<T>; peek(): Promise<T> | undefined; reset(): void } {
  let pending: Promise<T> | undefined;
  return {
    get() {
      pending ??= build().catch((err: unknown) => {
        pending = undefined;
        throw err;
      });
      return pending;
    },
    peek: () => pending,
    reset() {
      pending = undefined;
    },
  };
}
