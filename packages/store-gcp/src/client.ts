/**
 * Calls to Secret Manager through `@google-cloud/secret-manager` (loaded on first use): the client
 * types the store needs, one RPC with its own deadline, no client-side retries and cancellation on
 * abort, etag-guarded writes, and the mapping of every failure onto a typed `KeyStoreError`
 * (reason from the union, the gRPC status as `code`).
 *
 * @module
 */
import { KeyStoreError } from '@keyturn/core';
import { abortedError, importPeer, storeError, type KeyStoreErrorReason, type StoreIdentity } from '@keyturn/core/store-kit';
import { clientOptionsFor, type SecretRef } from './names.ts';
import { statusName, type StatusName } from './status.ts';

/** The store name used in errors, events and cache keys. */
export const STORE_NAME = 'gcp-secret-manager';

/** How the store names itself in errors. */
export const GCP: StoreIdentity = { store: STORE_NAME, label: 'GCP Secret Manager' };

/** The cancel hook google-gax puts on the promise of an unwrapped (`innerApiCalls`) call. */
export interface CancellableCall {
  /** Cancels the RPC (the store calls it when the verifier's signal aborts). */
  cancel?: () => void;
}

/** A call as `@google-cloud/secret-manager` returns it: a promise of `[response, ...]`, sometimes cancellable. */
export type ClientCall = Promise<readonly unknown[]> & CancellableCall;

/** The `retry` part of {@link StoreCallOptions} (google-gax `RetryOptions`). */
export interface StoreCallRetry {
  /** gRPC status codes to retry: always empty, so the client never retries on its own. */
  retryCodes: number[];
}

/** The `otherArgs` part of {@link StoreCallOptions}. */
export interface StoreCallOtherArgs {
  /** Request headers: `x-goog-request-params` routing (the resource name). */
  headers: Record<string, string>;
}

/** Per-call options the store passes (google-gax `CallOptions`). */
export interface StoreCallOptions {
  /** Deadline of this one call, in ms. */
  timeout: number;
  /** Retries off: the verifier's cache decides when to try again. */
  retry: StoreCallRetry;
  /** One page per call. */
  autoPaginate: false;
  /** Routing header, for calls made through `innerApiCalls`. */
  otherArgs: StoreCallOtherArgs;
}

/** One client method as the store calls it. */
export type ClientMethod = (request: Record<string, unknown>, options: StoreCallOptions) => ClientCall;

/**
 * The part of `SecretManagerServiceClient` (v1, `@google-cloud/secret-manager` 6.x or 7.x) the store
 * uses. Any object with these methods works, so tests and wrappers can stand in for the client.
 */
export interface SecretManagerClientLike {
  /** `GetSecret`: the secret's version aliases and annotations (every load in `mode: 'aliases'`). */
  getSecret: ClientMethod;
  /** `UpdateSecret`: moves the aliases and records the window annotation (`rotate()`). */
  updateSecret: ClientMethod;
  /** `GetSecretVersion`: one version's state and create time. */
  getSecretVersion: ClientMethod;
  /** `ListSecretVersions`: the ENABLED versions, newest first (`mode: 'versions'`, `rotate()`, retiring). */
  listSecretVersions: ClientMethod;
  /** `AccessSecretVersion`: a version's payload, checked against its CRC32C. */
  accessSecretVersion: ClientMethod;
  /** `AddSecretVersion`: the new version written by `rotate()`. */
  addSecretVersion: ClientMethod;
  /** `DisableSecretVersion`: retires versions (`retirePrevious()`, `disableRetiredVersions()`). */
  disableSecretVersion: ClientMethod;
  /** Loads the transport; called before the first request. */
  initialize?: () => Promise<unknown>;
  /** Closes the channel (called by `dispose()` only for clients the store built). */
  close?: () => Promise<void>;
  /**
   * The client's unwrapped calls. When present, the store calls these so that an aborted signal
   * cancels the RPC itself (the public methods drop google-gax's `cancel()`).
   */
  innerApiCalls?: { readonly [name: string]: unknown };
}

/** The RPCs the store makes. */
export type RpcName =
  | 'getSecret'
  | 'updateSecret'
  | 'getSecretVersion'
  | 'listSecretVersions'
  | 'accessSecretVersion'
  | 'addSecretVersion'
  | 'disableSecretVersion';

/** A store error: `GCP Secret Manager: <message>`. */
export function gcpError(
  secretId: string,
  reason: KeyStoreErrorReason,
  message: string,
  retryable: boolean,
  code?: string,
  cause?: unknown,
): KeyStoreError {
  return storeError(GCP, `GCP Secret Manager: ${message}`, { secretId, reason, retryable, code, cause });
}

/** Builds a client for one location on first use (`@google-cloud/secret-manager` is imported then). */
export async function buildClient(
  ref: SecretRef,
  clientOptions: Readonly<Record<string, unknown>> | undefined,
  projectId: string | undefined,
): Promise<SecretManagerClientLike> {
  const mod = await importPeer<Record<string, unknown>>({
    ...GCP,
    name: '@google-cloud/secret-manager',
    load: () => import('@google-cloud/secret-manager'),
    hint: ' (or pass `client`)',
  });
  const Client = (mod.SecretManagerServiceClient ?? (mod.default as Record<string, unknown> | undefined)?.SecretManagerServiceClient) as
    | (new (
        opts: Record<string, unknown>,
      ) => SecretManagerClientLike)
    | undefined;
  if (Client === undefined)
    throw gcpError(
      ref.name,
      'INVALID_CONFIG',
      '@google-cloud/secret-manager has no SecretManagerServiceClient.',
      false,
      'CLIENT_UNAVAILABLE',
    );
  return new Client(clientOptionsFor(ref.location, clientOptions ?? {}, projectId));
}

/** Status → reason; the terminal ones are listed in {@link TERMINAL}. */
const REASONS: Partial<Record<StatusName, KeyStoreErrorReason>> = {
  CANCELLED: 'ABORTED',
  INVALID_ARGUMENT: 'INVALID_CONFIG',
  DEADLINE_EXCEEDED: 'TIMEOUT',
  NOT_FOUND: 'NOT_FOUND',
  ALREADY_EXISTS: 'CONFLICT',
  PERMISSION_DENIED: 'ACCESS_DENIED',
  UNAUTHENTICATED: 'ACCESS_DENIED',
  RESOURCE_EXHAUSTED: 'THROTTLED',
  FAILED_PRECONDITION: 'CONFLICT',
  ABORTED: 'CONFLICT',
  OUT_OF_RANGE: 'INVALID_CONFIG',
  UNIMPLEMENTED: 'INVALID_CONFIG',
  DATA_LOSS: 'INTEGRITY',
};

/** Failures that retrying cannot fix. Everything else (UNAVAILABLE, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED, INTERNAL, network) is retryable. */
const TERMINAL = new Set<StatusName>([
  'NOT_FOUND',
  'PERMISSION_DENIED',
  'FAILED_PRECONDITION',
  'INVALID_ARGUMENT',
  'UNAUTHENTICATED',
  'ALREADY_EXISTS',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
]);

const HINTS: Partial<Record<StatusName, string>> = {
  NOT_FOUND: 'check the project and secret name (and the location of a regional secret)',
  PERMISSION_DENIED: 'grant roles/secretmanager.viewer and roles/secretmanager.secretAccessor on the secret (see docs/store-gcp.md)',
  FAILED_PRECONDITION: 'the version is disabled or destroyed',
  UNAUTHENTICATED: 'the client has no valid credentials',
  DEADLINE_EXCEEDED: 'the call exceeded callTimeoutMs',
  ABORTED: 'the call was aborted by the service (concurrency); retry',
};

/** Maps a client failure (a gRPC status, or none) onto a `KeyStoreError`. */
export function mapError(err: unknown, method: string, secretId: string): KeyStoreError {
  if (err instanceof KeyStoreError) return err;
  const status = statusName((err as { code?: unknown } | null)?.code);
  if (status === undefined || status === 'OK') {
    return gcpError(
      secretId,
      'UNAVAILABLE',
      `${method} failed before the service answered (network or client error).`,
      true,
      'TRANSPORT_ERROR',
      err,
    );
  }
  const hint = HINTS[status];
  return gcpError(
    secretId,
    REASONS[status] ?? 'UNAVAILABLE',
    `${method} failed with ${status}${hint === undefined ? '' : `: ${hint}`}.`,
    !TERMINAL.has(status),
    status,
    err,
  );
}

/** One RPC with its own deadline (`timeoutMs`), no client-side retries, and cancellation on abort. */
export async function rpc(
  client: SecretManagerClientLike,
  method: RpcName,
  request: Record<string, unknown>,
  routing: string,
  secretId: string,
  signal: AbortSignal | undefined,
  timeoutMs: number,
): Promise<Record<string, unknown>[]> {
  const aborted = (): KeyStoreError => abortedError(GCP, secretId, method, signal);
  if (signal?.aborted === true) throw aborted();
  if (typeof client.initialize === 'function') {
    try {
      await client.initialize();
    } catch (err) {
      throw mapError(err, method, secretId);
    }
    if (isAborted(signal)) throw aborted();
  }
  const callOptions: StoreCallOptions = {
    timeout: timeoutMs,
    retry: { retryCodes: [] },
    autoPaginate: false,
    otherArgs: { headers: { 'x-goog-request-params': routing } },
  };
  const inner = client.innerApiCalls?.[method] as ClientMethod | undefined;
  let pending: ClientCall;
  try {
    pending = typeof inner === 'function' ? inner(request, callOptions) : client[method](request, callOptions);
  } catch (err) {
    throw mapError(err, method, secretId);
  }
  return new Promise((resolvePromise, reject) => {
    const onAbort = (): void => {
      pending.cancel?.();
      reject(aborted());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    pending.then(
      (result) => {
        signal?.removeEventListener('abort', onAbort);
        resolvePromise(result as Record<string, unknown>[]);
      },
      (err: unknown) => {
        signal?.removeEventListener('abort', onAbort);
        reject(mapError(err, method, secretId));
      },
    );
  });
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/**
 * An etag-guarded write (`UpdateSecret`, `DisableSecretVersion`). Google documents that a stale etag
 * fails with FAILED_PRECONDITION (HTTP 400), the same status as a real precondition (a destroyed
 * version); the resource is read again to tell them apart: when its etag moved on, the failure is a
 * retryable `CONFLICT` (re-read and retry); when it did not, the original terminal error stands.
 * ABORTED (what other servers answer) with an etag sent is a retryable `CONFLICT` too.
 */
export async function guarded(
  write: () => Promise<Record<string, unknown>[]>,
  method: string,
  secretId: string,
  sentEtag: string,
  currentEtag: () => Promise<string>,
): Promise<Record<string, unknown>[]> {
  try {
    return await write();
  } catch (err) {
    if (!(err instanceof KeyStoreError) || sentEtag === '' || (err.code !== 'FAILED_PRECONDITION' && err.code !== 'ABORTED')) throw err;
    let etagNow: string | undefined;
    try {
      etagNow = await currentEtag();
    } catch {
      etagNow = undefined; // cannot tell: a conflict is the safer reading (retrying re-reads everything)
    }
    if (err.code === 'FAILED_PRECONDITION' && etagNow === sentEtag) throw err;
    const what = method === 'updateSecret' ? 'the secret' : 'the version';
    throw gcpError(
      secretId,
      'CONFLICT',
      `${method} was refused: ${what} changed concurrently (stale etag, ${err.code}); read it again and retry.`,
      true,
      'STALE_ETAG',
      err.cause ?? err,
    );
  }
}
