/**
 * The Google Cloud Secret Manager key store.
 *
 * @module
 */
import { timingSafeEqual } from 'node:crypto';
import { KeyStoreError, SecretMaterial } from '@keyturn/core';
import type { GetVersionsOptions, KeyRole, KeyStore, RotateOptions, RotateResult, SecretVersion } from '@keyturn/core';
import { crc32c } from './crc32c.ts';
import { clientOptionsFor, resolveSecretName, type SecretRef } from './names.ts';
import { statusName, type StatusName } from './status.ts';

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
  /** `DisableSecretVersion`: retires versions past their window (`disableRetiredVersions()`). */
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

/** Alias names that map to roles in `mode: 'aliases'`. */
export interface GcpAliasNames {
  /** Alias of the active version. @default 'current' */
  active?: string | undefined;
  /** Alias of the previous version. @default 'previous' */
  previous?: string | undefined;
  /** Alias of the pending version (`false`: never report a pending version). @default 'next' */
  pending?: string | false | undefined;
}

/** Options of {@link gcpSecretManagerStore}. */
export interface GcpSecretManagerStoreOptions {
  /** A `SecretManagerServiceClient` to use for every secret. The store never closes it. */
  client?: SecretManagerClientLike | undefined;
  /**
   * Options for the client the store builds lazily when no `client` is given (credentials,
   * `fallback: true` for REST, ...). Regional secrets get `apiEndpoint:
   * secretmanager.<location>.rep.googleapis.com` unless an endpoint is set here.
   */
  clientOptions?: Readonly<Record<string, unknown>> | undefined;
  /** Project of short secret names (`'webhook'` → `projects/<projectId>/secrets/webhook`). @default clientOptions.projectId */
  projectId?: string | undefined;
  /**
   * How versions get their roles:
   * - `'aliases'`: `GetSecret`'s version aliases (`current` → active, `previous` → previous,
   *   `next` → pending);
   * - `'versions'`: the newest ENABLED version is active, the one before it is previous until the
   *   newer one's create time + `previousGraceMs`.
   * @default 'aliases'
   */
  mode?: 'aliases' | 'versions' | undefined;
  /** Alias names (`mode: 'aliases'`). */
  aliases?: GcpAliasNames | undefined;
  /**
   * How long the previous version keeps verifying after the active one was created, in ms, unless
   * `rotate()` recorded a window on the secret.
   * @default 86_400_000 (24 h)
   */
  previousGraceMs?: number | undefined;
  /** Deadline of every single RPC, in ms (the client's own defaults can hold a call for 10 minutes). @default 5_000 */
  callTimeoutMs?: number | undefined;
  /** Clock for `disableRetiredVersions()` and rotation windows, epoch ms. @default Date.now */
  now?: (() => number) | undefined;
}

/** Options of {@link GcpSecretManagerStore.disableRetiredVersions}. */
export interface DisableRetiredOptions {
  /** Aborts the calls. */
  signal?: AbortSignal | undefined;
  /** Report what would be disabled without disabling anything. @default false */
  dryRun?: boolean | undefined;
}

/** What {@link GcpSecretManagerStore.disableRetiredVersions} did (version ids only). */
export interface DisableRetiredResult {
  /** Versions disabled (or, with `dryRun`, that would be). */
  readonly disabled: string[];
  /** Versions that still hold a role and were kept. */
  readonly kept: string[];
}

/** The GCP Secret Manager key store: a `KeyStore` plus an explicit clean-up call. */
export interface GcpSecretManagerStore extends KeyStore {
  /** `'gcp-secret-manager'`. */
  readonly name: string;
  /**
   * Every version of `secretId` that may verify now. Secrets are returned as bytes (`Uint8Array`),
   * exactly the payload stored; the provider profile decodes them.
   */
  getVersions(secretId: string, options: GetVersionsOptions): Promise<SecretVersion[]>;
  /**
   * Adds `newSecret` as a new version (with its CRC32C), then moves the aliases in one
   * `UpdateSecret` guarded by the secret's etag: active alias → new version, previous alias → the
   * old active one, pending alias removed; the previous window is recorded in the
   * `keyturn-previous-not-after` annotation. Call `verifier.invalidate(secretId)` afterwards.
   *
   * A concurrent change makes the guarded update fail with a stale etag (FAILED_PRECONDITION, as
   * Google documents): the store reads the secret again and re-applies the move, up to 3 times, then
   * throws a retryable `KeyStoreError` with reason `CONFLICT`. A retried call reuses the version an
   * earlier attempt added (same payload, newer than the active one) instead of adding another.
   * `previousUnbounded` is `true` only when no window could be computed (never with a finite grace).
   */
  rotate(secretId: string, newSecret: string | Uint8Array, options?: RotateOptions): Promise<RotateResult>;
  /**
   * Disables ENABLED versions older than the active one that no longer hold a role: everything
   * older than previous, and previous itself once its window has ended. Never runs on its own.
   */
  disableRetiredVersions(secretId: string, options?: DisableRetiredOptions): Promise<DisableRetiredResult>;
  /** Closes the clients the store built (never an injected one). */
  dispose(): Promise<void>;
}

const STORE = 'gcp-secret-manager';
const DEFAULT_GRACE_MS = 86_400_000;
const DEFAULT_TIMEOUT_MS = 5_000;
const MAX_PAYLOAD = 65_536;
/** Annotation holding the previous version's window: `<version number>@<ISO 8601 time>`. */
export const PREVIOUS_WINDOW_ANNOTATION = 'keyturn-previous-not-after';
/** Annotation holding the idempotency token of the last `rotate()`. */
export const ROTATION_TOKEN_ANNOTATION = 'keyturn-rotation-token';

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

/** How often `rotate()` re-reads the secret and retries the alias move after a stale etag, before giving up with a retryable `CONFLICT`. */
const ALIAS_MOVE_ATTEMPTS = 3;

interface SecretMeta {
  aliases: Map<string, number>;
  annotations: Record<string, string>;
  etag: string;
  expireTime: number | undefined;
}

interface VersionMeta {
  number: number;
  createTime: number | undefined;
  state: string;
  etag: string;
}

interface Plan {
  role: KeyRole;
  meta: VersionMeta;
  notAfter: number | undefined;
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function numberOf(value: unknown): number | undefined {
  if (value === null || value === undefined) return undefined;
  const n = Number(typeof value === 'object' ? String(value) : value);
  return Number.isFinite(n) ? n : undefined;
}

function timeOf(value: unknown): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  }
  if (typeof value !== 'object') return undefined;
  const t = value as { seconds?: unknown; nanos?: unknown };
  const seconds = numberOf(t.seconds) ?? 0;
  const nanos = numberOf(t.nanos) ?? 0;
  return seconds * 1000 + Math.floor(nanos / 1_000_000);
}

function stateOf(value: unknown): string {
  if (typeof value === 'number') return (['STATE_UNSPECIFIED', 'ENABLED', 'DISABLED', 'DESTROYED'] as const)[value] ?? 'STATE_UNSPECIFIED';
  return typeof value === 'string' ? value : 'STATE_UNSPECIFIED';
}

function versionNumberOf(name: unknown): number | undefined {
  if (typeof name !== 'string') return undefined;
  const m = /\/versions\/([1-9][0-9]*)$/.exec(name);
  return m === null ? undefined : Number(m[1]);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function toBytes(value: unknown): Uint8Array | undefined {
  if (value instanceof Uint8Array) return new Uint8Array(value); // a copy, detached from Buffer pools
  if (typeof value === 'string') return new Uint8Array(Buffer.from(value, 'base64'));
  return undefined;
}

/**
 * A key store backed by Google Cloud Secret Manager.
 *
 * @example Aliases current / previous / next on a secret, verified with Dataspike
 * ```ts
 * import { createVerifier, providers } from '@keyturn/core';
 * import { gcpSecretManagerStore } from '@keyturn/store-gcp';
 *
 * const verifier = createVerifier({
 *   provider: providers.dataspike(),
 *   keys: gcpSecretManagerStore({ projectId: 'my-project' }),
 *   secretId: 'dataspike-webhook',
 * });
 * ```
 */
export function gcpSecretManagerStore(options: GcpSecretManagerStoreOptions = {}): GcpSecretManagerStore {
  const mode = options.mode ?? 'aliases';
  if (mode !== 'aliases' && mode !== 'versions') throw new TypeError("gcpSecretManagerStore(): `mode` must be 'aliases' or 'versions'");
  const previousGraceMs = options.previousGraceMs ?? DEFAULT_GRACE_MS;
  if (!Number.isFinite(previousGraceMs) || previousGraceMs < 0) {
    throw new TypeError('gcpSecretManagerStore(): `previousGraceMs` must be a non-negative number of ms');
  }
  const callTimeoutMs = options.callTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(callTimeoutMs) || callTimeoutMs <= 0) {
    throw new TypeError('gcpSecretManagerStore(): `callTimeoutMs` must be a positive number of ms');
  }
  const aliasNames = {
    active: options.aliases?.active ?? 'current',
    previous: options.aliases?.previous ?? 'previous',
    pending: options.aliases?.pending === false ? undefined : (options.aliases?.pending ?? 'next'),
  };
  for (const [role, alias] of Object.entries(aliasNames)) {
    if (alias !== undefined && (typeof alias !== 'string' || alias === '' || alias === 'latest')) {
      throw new TypeError(`gcpSecretManagerStore(): the ${role} alias must be a non-empty name other than "latest"`);
    }
  }
  const now = options.now ?? Date.now;
  const injected = options.client;
  const built = new Map<string, Promise<SecretManagerClientLike>>();
  /** Payloads by version resource name: versions are immutable, so each is fetched once. */
  const payloads = new Map<string, SecretMaterial>();
  let disposed = false;

  const fail = (secretId: string, reason: string, message: string, retryable: boolean, cause?: unknown): KeyStoreError =>
    new KeyStoreError(`GCP Secret Manager: ${message}`, { store: STORE, secretId, reason, retryable, cause });

  const clientProject = options.clientOptions?.projectId;
  const defaultProject = options.projectId ?? (typeof clientProject === 'string' ? clientProject : undefined);

  function resolve(secretId: string): SecretRef {
    const ref = resolveSecretName(secretId, defaultProject);
    if (typeof ref === 'string') throw fail(secretId, 'INVALID_ARGUMENT', `invalid secret id: ${ref}.`, false);
    return ref;
  }

  async function clientFor(ref: SecretRef, secretId: string): Promise<SecretManagerClientLike> {
    if (disposed) throw fail(secretId, 'DISPOSED', 'the store was disposed.', false);
    if (injected !== undefined) return injected;
    const key = ref.location ?? '';
    let pending = built.get(key);
    if (pending === undefined) {
      pending = (async () => {
        let mod: Record<string, unknown>;
        try {
          mod = (await import('@google-cloud/secret-manager')) as Record<string, unknown>;
        } catch (err) {
          throw fail(secretId, 'CLIENT_UNAVAILABLE', 'cannot load @google-cloud/secret-manager; install it (a peer dependency) or pass `client`.', false, err);
        }
        const Client = (mod.SecretManagerServiceClient ?? (mod.default as Record<string, unknown> | undefined)?.SecretManagerServiceClient) as
          | (new (opts: Record<string, unknown>) => SecretManagerClientLike)
          | undefined;
        if (Client === undefined) throw fail(secretId, 'CLIENT_UNAVAILABLE', '@google-cloud/secret-manager has no SecretManagerServiceClient.', false);
        return new Client(clientOptionsFor(ref.location, options.clientOptions ?? {}, options.projectId));
      })();
      built.set(key, pending);
      pending.catch(() => built.delete(key));
    }
    return pending;
  }

  /** One RPC with its own deadline, no client-side retries, and cancellation on abort. */
  async function call(
    client: SecretManagerClientLike,
    method: 'getSecret' | 'updateSecret' | 'getSecretVersion' | 'listSecretVersions' | 'accessSecretVersion' | 'addSecretVersion' | 'disableSecretVersion',
    request: Record<string, unknown>,
    routing: string,
    secretId: string,
    signal: AbortSignal | undefined,
  ): Promise<Record<string, unknown>[]> {
    const aborted = (): KeyStoreError => fail(secretId, 'CANCELLED', `${method} was aborted.`, true, signal?.reason);
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
      timeout: callTimeoutMs,
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

  function mapError(err: unknown, method: string, secretId: string): KeyStoreError {
    if (err instanceof KeyStoreError) return err;
    const status = statusName((err as { code?: unknown } | null)?.code);
    if (status === undefined || status === 'OK') {
      return fail(secretId, 'TRANSPORT_ERROR', `${method} failed before the service answered (network or client error).`, true, err);
    }
    const hint = HINTS[status];
    return fail(secretId, status, `${method} failed with ${status}${hint === undefined ? '' : `: ${hint}`}.`, !TERMINAL.has(status), err);
  }

  /**
   * An etag-guarded write (`UpdateSecret`, `DisableSecretVersion`). Google documents that a stale etag
   * fails with FAILED_PRECONDITION (HTTP 400), the same status as a real precondition (a destroyed
   * version); the resource is read again to tell them apart: when its etag moved on, the failure is a
   * retryable `CONFLICT` (re-read and retry); when it did not, the original terminal error stands.
   * ABORTED (what other servers answer) with an etag sent is a `CONFLICT` too.
   */
  async function guarded(
    client: SecretManagerClientLike,
    method: 'updateSecret' | 'disableSecretVersion',
    request: Record<string, unknown>,
    routing: string,
    secretId: string,
    signal: AbortSignal | undefined,
    sentEtag: string,
    currentEtag: () => Promise<string>,
  ): Promise<Record<string, unknown>[]> {
    try {
      return await call(client, method, request, routing, secretId, signal);
    } catch (err) {
      if (!(err instanceof KeyStoreError) || sentEtag === '' || (err.reason !== 'FAILED_PRECONDITION' && err.reason !== 'ABORTED')) throw err;
      let etagNow: string | undefined;
      try {
        etagNow = await currentEtag();
      } catch {
        etagNow = undefined; // cannot tell: a conflict is the safer reading (retrying re-reads everything)
      }
      if (err.reason === 'FAILED_PRECONDITION' && etagNow === sentEtag) throw err;
      const what = method === 'updateSecret' ? 'the secret' : 'the version';
      throw fail(secretId, 'CONFLICT', `${method} was refused: ${what} changed concurrently (stale etag, ${err.reason}); read it again and retry.`, true, err.cause ?? err);
    }
  }

  const routeName = (name: string): string => `name=${encodeURIComponent(name)}`;

  async function getSecretMeta(client: SecretManagerClientLike, ref: SecretRef, secretId: string, signal?: AbortSignal): Promise<SecretMeta> {
    const [secret] = await call(client, 'getSecret', { name: ref.name }, routeName(ref.name), secretId, signal);
    const s = (secret ?? {}) as Record<string, unknown>;
    const aliases = new Map<string, number>();
    for (const [alias, value] of Object.entries((s.versionAliases ?? {}) as Record<string, unknown>)) {
      const n = numberOf(value);
      if (n !== undefined && n > 0) aliases.set(alias, n);
    }
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries((s.annotations ?? {}) as Record<string, unknown>)) annotations[k] = String(v);
    return { aliases, annotations, etag: typeof s.etag === 'string' ? s.etag : '', expireTime: timeOf(s.expireTime) };
  }

  function toMeta(raw: unknown): VersionMeta | undefined {
    const v = (raw ?? {}) as Record<string, unknown>;
    const number = versionNumberOf(v.name);
    if (number === undefined) return undefined;
    return { number, createTime: timeOf(v.createTime), state: stateOf(v.state), etag: typeof v.etag === 'string' ? v.etag : '' };
  }

  async function getVersionMeta(client: SecretManagerClientLike, ref: SecretRef, n: number, secretId: string, signal?: AbortSignal): Promise<VersionMeta | undefined> {
    const name = `${ref.name}/versions/${n}`;
    const [version] = await call(client, 'getSecretVersion', { name }, routeName(name), secretId, signal);
    return toMeta(version);
  }

  /** ENABLED versions, newest first, stopping once `limit` are known (pages may be short). */
  async function listEnabled(client: SecretManagerClientLike, ref: SecretRef, limit: number, secretId: string, signal?: AbortSignal): Promise<VersionMeta[]> {
    const out: VersionMeta[] = [];
    let pageToken = '';
    for (let page = 0; page < 10_000; page++) {
      const request: Record<string, unknown> = { parent: ref.name, filter: 'state:ENABLED', pageSize: Math.min(Math.max(limit - out.length, 1), 25_000) };
      if (pageToken !== '') request.pageToken = pageToken;
      const [versions, , raw] = await call(client, 'listSecretVersions', request, `parent=${encodeURIComponent(ref.name)}`, secretId, signal);
      for (const v of (Array.isArray(versions) ? versions : []) as unknown[]) {
        const meta = toMeta(v);
        // The filter is the service's; check it anyway: a DISABLED or DESTROYED version never counts.
        if (meta !== undefined && meta.state === 'ENABLED') out.push(meta);
      }
      const next = (raw as { nextPageToken?: unknown } | undefined)?.nextPageToken;
      if (out.length >= limit || typeof next !== 'string' || next === '') break;
      pageToken = next;
    }
    return out.sort((a, b) => b.number - a.number).slice(0, limit);
  }

  /** The previous window: the annotation `rotate()` wrote, if it names this version; else active create time + grace. */
  function previousNotAfter(meta: SecretMeta, previous: number, active: VersionMeta): number | undefined {
    const recorded = /^([1-9][0-9]*)@(.+)$/.exec(meta.annotations[PREVIOUS_WINDOW_ANNOTATION] ?? '');
    if (recorded !== null && Number(recorded[1]) === previous) {
      const at = Date.parse(recorded[2] as string);
      if (!Number.isNaN(at)) return at;
    }
    return active.createTime === undefined ? undefined : active.createTime + previousGraceMs;
  }

  const cap = (notAfter: number | undefined, expireTime: number | undefined): number | undefined =>
    expireTime === undefined ? notAfter : notAfter === undefined ? expireTime : Math.min(notAfter, expireTime);

  /** Decides roles and windows without reading payloads. */
  async function plan(client: SecretManagerClientLike, ref: SecretRef, secretId: string, signal?: AbortSignal): Promise<{ meta: SecretMeta; plans: Plan[] }> {
    if (mode === 'versions') {
      const [meta, enabled] = await Promise.all([
        getSecretMeta(client, ref, secretId, signal),
        listEnabled(client, ref, 2, secretId, signal),
      ]);
      const [active, previous] = enabled;
      if (active === undefined) {
        throw fail(secretId, 'NO_ACTIVE_VERSION', 'the secret has no ENABLED version.', false);
      }
      const plans: Plan[] = [{ role: 'active', meta: active, notAfter: cap(undefined, meta.expireTime) }];
      if (previous !== undefined) {
        plans.push({ role: 'previous', meta: previous, notAfter: cap(previousNotAfter(meta, previous.number, active), meta.expireTime) });
      }
      return { meta, plans };
    }
    const meta = await getSecretMeta(client, ref, secretId, signal);
    const activeN = meta.aliases.get(aliasNames.active);
    if (activeN === undefined) {
      throw fail(secretId, 'NO_ACTIVE_VERSION', `the secret has no "${aliasNames.active}" alias (set it, or use mode: 'versions').`, false);
    }
    const wanted: Array<[KeyRole, number]> = [['active', activeN]];
    const pendingN = aliasNames.pending === undefined ? undefined : meta.aliases.get(aliasNames.pending);
    if (pendingN !== undefined && pendingN !== activeN) wanted.push(['pending', pendingN]);
    const previousN = meta.aliases.get(aliasNames.previous);
    if (previousN !== undefined && previousN !== activeN && previousN !== pendingN) wanted.push(['previous', previousN]);
    const metas = await Promise.all(
      wanted.map(async ([role, n]) => {
        try {
          return await getVersionMeta(client, ref, n, secretId, signal);
        } catch (err) {
          // A previous or pending version that vanished is dropped; only the active one is required.
          if (role !== 'active' && err instanceof KeyStoreError && err.reason === 'NOT_FOUND') return undefined;
          throw err;
        }
      }),
    );
    const active = metas[0];
    if (active === undefined || active.state !== 'ENABLED') {
      throw fail(
        secretId,
        'FAILED_PRECONDITION',
        `the "${aliasNames.active}" alias points at version ${activeN}, which is ${active?.state ?? 'missing'}.`,
        false,
      );
    }
    const plans: Plan[] = [];
    wanted.forEach(([role, n], i) => {
      const m = metas[i];
      if (m === undefined || m.state !== 'ENABLED') return; // DISABLED / DESTROYED never count
      const notAfter = role === 'previous' ? previousNotAfter(meta, n, active) : undefined;
      plans.push({ role, meta: m, notAfter: cap(notAfter, meta.expireTime) });
    });
    return { meta, plans };
  }

  async function payloadOf(client: SecretManagerClientLike, versionName: string, secretId: string, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const cached = payloads.get(versionName);
    if (cached !== undefined) return new Uint8Array(cached.reveal() as Uint8Array);
    const [response] = await call(client, 'accessSecretVersion', { name: versionName }, routeName(versionName), secretId, signal);
    const r = (response ?? {}) as { name?: unknown; payload?: { data?: unknown; dataCrc32c?: unknown } | null };
    const data = toBytes(r.payload?.data);
    if (data === undefined) throw fail(secretId, 'DATA_LOSS', `the payload of ${versionName} is missing.`, true);
    const answered = versionNumberOf(r.name);
    if (answered !== undefined && answered !== versionNumberOf(versionName)) {
      throw fail(secretId, 'DATA_LOSS', `asked for ${versionName} but the service answered with version ${answered}.`, true);
    }
    const expected = numberOf(r.payload?.dataCrc32c);
    if (expected !== undefined && expected !== crc32c(data)) {
      // Retryable, and never cached: the next load fetches the payload again.
      throw fail(secretId, 'CRC32C_MISMATCH', `the payload of ${versionName} failed its CRC32C check (corrupted in transit or at rest).`, true);
    }
    payloads.set(versionName, new SecretMaterial(new Uint8Array(data)));
    return data;
  }

  const versionId = (ref: SecretRef, n: number): string => `${ref.name}/versions/${n}`;

  async function getVersions(secretId: string, getOptions: GetVersionsOptions): Promise<SecretVersion[]> {
    const signal = getOptions?.signal;
    const ref = resolve(secretId);
    const client = await clientFor(ref, secretId);
    const { plans } = await plan(client, ref, secretId, signal);
    const secrets = await Promise.all(plans.map((p) => payloadOf(client, versionId(ref, p.meta.number), secretId, signal)));
    // Keep only the payloads still in use for this secret: memory stays bounded and retired
    // versions leave the process.
    const used = new Set(plans.map((p) => versionId(ref, p.meta.number)));
    for (const key of payloads.keys()) {
      if (key.startsWith(`${ref.name}/versions/`) && !used.has(key)) payloads.delete(key);
    }
    return plans.map((p, i) => ({
      id: versionId(ref, p.meta.number),
      secret: secrets[i] as Uint8Array,
      role: p.role,
      ...(p.notAfter === undefined ? {} : { notAfter: p.notAfter }),
    }));
  }

  async function rotate(secretId: string, newSecret: string | Uint8Array, rotateOptions: RotateOptions = {}): Promise<RotateResult> {
    const signal = rotateOptions.signal;
    const ref = resolve(secretId);
    let data: Uint8Array;
    if (typeof newSecret === 'string') data = new TextEncoder().encode(newSecret);
    else if (newSecret instanceof Uint8Array) data = new Uint8Array(newSecret);
    else throw fail(secretId, 'INVALID_ARGUMENT', 'the new secret must be a string or bytes.', false);
    if (data.length === 0 || data.length > MAX_PAYLOAD) {
      throw fail(secretId, 'INVALID_ARGUMENT', 'the new secret must hold 1 to 65536 bytes.', false);
    }
    const grace = rotateOptions.previousGraceMs ?? previousGraceMs;
    if (!Number.isFinite(grace) || grace < 0) throw fail(secretId, 'INVALID_ARGUMENT', '`previousGraceMs` must be a non-negative number of ms.', false);
    const token = rotateOptions.idempotencyToken;
    if (token !== undefined && !/^[\x21-\x7e]{1,200}$/.test(token)) {
      throw fail(secretId, 'INVALID_ARGUMENT', '`idempotencyToken` must be 1 to 200 printable ASCII characters.', false);
    }
    const client = await clientFor(ref, secretId);
    const before = await getSecretMeta(client, ref, secretId, signal);
    if (token !== undefined && before.annotations[ROTATION_TOKEN_ANNOTATION] === token) {
      // A retried rotate() whose alias move went through: report what readers enforce, write nothing.
      const { plans } = await plan(client, ref, secretId, signal);
      const active = plans.find((p) => p.role === 'active') as Plan;
      const previous = plans.find((p) => p.role === 'previous');
      return finish({
        activeId: versionId(ref, active.meta.number),
        previousId: previous === undefined ? undefined : versionId(ref, previous.meta.number),
        previousNotAfter: previous?.notAfter,
      });
    }
    const aliasActive = mode === 'aliases' ? before.aliases.get(aliasNames.active) : undefined;
    const [newest, second] = await listEnabled(client, ref, 2, secretId, signal);
    // A version an earlier attempt of this rotation added (its alias move failed: a conflict, a lost
    // answer) is reused, never added a second time: in versions mode a duplicate would push the old
    // key out of the key set.
    let added: VersionMeta | undefined;
    if (newest !== undefined && newest.number !== aliasActive && (aliasActive === undefined || newest.number > aliasActive)) {
      if (sameBytes(await payloadOf(client, versionId(ref, newest.number), secretId, signal), data)) added = newest;
    }
    let oldActive: number | undefined;
    if (added !== undefined) {
      oldActive = aliasActive ?? second?.number;
    } else {
      oldActive = aliasActive ?? newest?.number;
      const [response] = await call(
        client,
        'addSecretVersion',
        { parent: ref.name, payload: { data: Buffer.from(data), dataCrc32c: crc32c(data) } },
        `parent=${encodeURIComponent(ref.name)}`,
        secretId,
        signal,
      );
      added = toMeta(response);
      if (added === undefined) throw fail(secretId, 'DATA_LOSS', 'AddSecretVersion answered without a version name.', true);
    }
    const addedN = added.number;
    const createdAt = added.createTime ?? now();

    // Move the aliases with one UpdateSecret guarded by the etag read just before it. A concurrent
    // change makes it fail (CONFLICT): read again, re-apply on top of what changed, try again.
    for (let attempt = 1; ; attempt++) {
      const current = await getSecretMeta(client, ref, secretId, signal);
      // The version active now becomes previous (after a concurrent rotation, that is theirs).
      const activeNow = mode === 'aliases' ? current.aliases.get(aliasNames.active) : undefined;
      const previousN = activeNow !== undefined && activeNow !== addedN ? activeNow : oldActive !== addedN ? oldActive : undefined;
      const notAfter = previousN === undefined ? undefined : createdAt + grace;
      const aliases: Record<string, string> = {};
      for (const [alias, n] of current.aliases) aliases[alias] = String(n);
      aliases[aliasNames.active] = String(addedN);
      if (previousN !== undefined) aliases[aliasNames.previous] = String(previousN);
      else delete aliases[aliasNames.previous];
      if (aliasNames.pending !== undefined) delete aliases[aliasNames.pending];
      const annotations: Record<string, string> = { ...current.annotations };
      if (notAfter !== undefined) annotations[PREVIOUS_WINDOW_ANNOTATION] = `${previousN}@${new Date(notAfter).toISOString()}`;
      else delete annotations[PREVIOUS_WINDOW_ANNOTATION];
      if (token !== undefined) annotations[ROTATION_TOKEN_ANNOTATION] = token;
      else delete annotations[ROTATION_TOKEN_ANNOTATION];
      try {
        await guarded(
          client,
          'updateSecret',
          {
            secret: { name: ref.name, versionAliases: aliases, annotations, etag: current.etag },
            updateMask: { paths: ['version_aliases', 'annotations'] },
          },
          `secret.name=${encodeURIComponent(ref.name)}`,
          secretId,
          signal,
          current.etag,
          async () => (await getSecretMeta(client, ref, secretId, signal)).etag,
        );
      } catch (err) {
        if (err instanceof KeyStoreError && err.reason === 'CONFLICT' && attempt < ALIAS_MOVE_ATTEMPTS) continue;
        throw err;
      }
      return finish({
        activeId: versionId(ref, addedN),
        previousId: previousN === undefined ? undefined : versionId(ref, previousN),
        previousNotAfter: notAfter,
      });
    }
  }

  /** Says whether the previous version was left without a window end (it then verifies until disabled). */
  function finish(r: RotateResult): RotateResult {
    if (r.previousId === undefined || r.previousNotAfter !== undefined) return { ...r, previousUnbounded: false, warnings: [] };
    return {
      ...r,
      previousUnbounded: true,
      warnings: [
        `the previous version ${r.previousId} has no window end: it stays accepted until it is disabled or loses its role. ` +
          'Disable it (disableRetiredVersions(), `keyturn keys retire`) once no sender uses it.',
      ],
    };
  }

  async function disableRetiredVersions(secretId: string, disableOptions: DisableRetiredOptions = {}): Promise<DisableRetiredResult> {
    const signal = disableOptions.signal;
    const ref = resolve(secretId);
    const client = await clientFor(ref, secretId);
    const { plans } = await plan(client, ref, secretId, signal);
    const at = now();
    const active = plans.find((p) => p.role === 'active') as Plan;
    const keep = new Set<number>();
    for (const p of plans) {
      if (p.role !== 'previous' || p.notAfter === undefined || at <= p.notAfter) keep.add(p.meta.number);
    }
    const enabled = await listEnabled(client, ref, Number.MAX_SAFE_INTEGER, secretId, signal);
    const retired = enabled.filter((v) => v.number < active.meta.number && !keep.has(v.number));
    if (disableOptions.dryRun !== true) {
      for (const v of retired) {
        const name = versionId(ref, v.number);
        await guarded(client, 'disableSecretVersion', { name, etag: v.etag }, routeName(name), secretId, signal, v.etag, async () => (await getVersionMeta(client, ref, v.number, secretId, signal))?.etag ?? '');
        payloads.delete(name);
      }
    }
    return {
      disabled: retired.map((v) => versionId(ref, v.number)),
      kept: [...keep].sort((a, b) => b - a).map((n) => versionId(ref, n)),
    };
  }

  async function dispose(): Promise<void> {
    if (disposed) return;
    disposed = true;
    payloads.clear();
    const clients = [...built.values()];
    built.clear();
    await Promise.all(
      clients.map(async (p) => {
        try {
          await (await p).close?.();
        } catch {
          // A client that failed to build or close has nothing left to release.
        }
      }),
    );
  }

  return {
    name: STORE,
    getVersions,
    rotate,
    disableRetiredVersions,
    dispose,
  };
}
