/**
 * The Google Cloud Secret Manager key store (wiring: options, clients per location, the reads a load
 * makes, the payload cache).
 *
 * @module
 */
import type {
  GetVersionsOptions,
  KeyStore,
  RetirePreviousOptions,
  RetirePreviousResult,
  RotateOptions,
  RotateResult,
  SecretVersion,
} from '@keyturn/core';
import { KeyStoreError } from '@keyturn/core';
import { lazy, msOption, versionValueCache } from '@keyturn/core/store-kit';
import { buildClient, gcpError, rpc, STORE_NAME, type RpcName, type SecretManagerClientLike } from './client.ts';
import { crc32c } from './crc32c.ts';
import { resolveSecretName, type SecretRef } from './names.ts';
import {
  aliasTargets,
  numberOf,
  planByAliases,
  planByVersions,
  secretMetaOf,
  versionMetaOf,
  versionNumberOf,
  type AliasNames,
  type Plan,
  type SecretMeta,
  type VersionMeta,
} from './roles.ts';
import {
  disableRetired,
  retirePreviousVersion,
  rotateSecret,
  type DisableRetiredOptions,
  type DisableRetiredResult,
  type Reader,
} from './rotate.ts';

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

/** The GCP Secret Manager key store: a `KeyStore` with its write side and an explicit clean-up call. */
export interface GcpSecretManagerStore extends KeyStore {
  /** `'gcp-secret-manager'`. */
  readonly name: string;
  /** Every version of `secretId` that may verify now, as bytes (`Uint8Array`): exactly the payload stored. */
  getVersions(secretId: string, options: GetVersionsOptions): Promise<SecretVersion[]>;
  /**
   * Adds `newSecret` as a new version (with its CRC32C), then moves the aliases in one `UpdateSecret`
   * guarded by the secret's etag: active alias → new version, previous alias → the old active one,
   * pending alias removed; the previous window is recorded in the `keyturn-previous-not-after`
   * annotation. A concurrent change (stale etag) re-reads and re-applies the move up to 3 times, then
   * throws a retryable `CONFLICT`. A retried call reuses the version an earlier attempt added.
   * `previousUnbounded` is `true` only when no window could be computed (never with a finite grace).
   */
  rotate(secretId: string, newSecret: string | Uint8Array, options?: RotateOptions): Promise<RotateResult>;
  /**
   * Disables the previous version (etag-guarded; `keyId` = its resource name, refused with `CONFLICT`
   * when that is no longer the previous version). A version already disabled counts as retired.
   */
  retirePrevious(secretId: string, options?: RetirePreviousOptions): Promise<RetirePreviousResult>;
  /**
   * Disables ENABLED versions older than the active one that no longer hold a role: everything
   * older than previous, and previous itself once its window has ended. Never runs on its own.
   */
  disableRetiredVersions(secretId: string, options?: DisableRetiredOptions): Promise<DisableRetiredResult>;
  /** Closes the clients the store built (never an injected one). */
  dispose(): Promise<void>;
}

const WHERE = 'gcpSecretManagerStore()';
const MAX_CACHED_PAYLOADS = 1_000;

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
  if (mode !== 'aliases' && mode !== 'versions') throw new TypeError(`${WHERE}: \`mode\` must be 'aliases' or 'versions'`);
  const previousGraceMs = msOption(WHERE, 'previousGraceMs', options.previousGraceMs, 86_400_000);
  const callTimeoutMs = msOption(WHERE, 'callTimeoutMs', options.callTimeoutMs, 5_000, { min: 1 });
  const aliases: AliasNames = {
    active: options.aliases?.active ?? 'current',
    previous: options.aliases?.previous ?? 'previous',
    pending: options.aliases?.pending === false ? undefined : (options.aliases?.pending ?? 'next'),
  };
  for (const [role, alias] of Object.entries(aliases)) {
    if (alias !== undefined && (typeof alias !== 'string' || alias === '' || alias === 'latest'))
      throw new TypeError(`${WHERE}: the ${role} alias must be a non-empty name other than "latest"`);
  }
  const now = options.now ?? Date.now;
  const injected = options.client;
  const built = new Map<string, ReturnType<typeof lazy<SecretManagerClientLike>>>();
  /** Payloads by version resource name: versions are immutable, so each is fetched once. */
  const payloads = versionValueCache(MAX_CACHED_PAYLOADS);
  let disposed = false;
  const clientProject = options.clientOptions?.projectId;
  const defaultProject = options.projectId ?? (typeof clientProject === 'string' ? clientProject : undefined);

  function resolve(secretId: string): SecretRef {
    const ref = resolveSecretName(secretId, defaultProject);
    if (typeof ref === 'string') throw gcpError(secretId, 'INVALID_CONFIG', `invalid secret id: ${ref}.`, false, 'INVALID_ARGUMENT');
    return ref;
  }

  async function clientFor(ref: SecretRef, secretId: string): Promise<SecretManagerClientLike> {
    if (disposed) throw gcpError(secretId, 'INVALID_CONFIG', 'the store was disposed.', false, 'DISPOSED');
    if (injected !== undefined) return injected;
    const key = ref.location ?? '';
    let client = built.get(key);
    if (client === undefined) built.set(key, (client = lazy(() => buildClient(ref, options.clientOptions, options.projectId))));
    return client.get();
  }

  const route = (name: string): string => `name=${encodeURIComponent(name)}`;
  const versionId = (ref: SecretRef, n: number): string => `${ref.name}/versions/${n}`;
  const call = (
    client: SecretManagerClientLike,
    method: RpcName,
    request: Record<string, unknown>,
    routing: string,
    secretId: string,
    signal: AbortSignal | undefined,
  ) => rpc(client, method, request, routing, secretId, signal, callTimeoutMs);

  const reader: Reader = {
    resolve,
    clientFor,
    call,
    route,
    versionId,
    mode,
    aliases,
    previousGraceMs,
    now,
    async secretMeta(client, ref, secretId, signal) {
      const [secret] = await call(client, 'getSecret', { name: ref.name }, route(ref.name), secretId, signal);
      return secretMetaOf(secret);
    },
    async versionMeta(client, ref, n, secretId, signal) {
      const name = versionId(ref, n);
      const [version] = await call(client, 'getSecretVersion', { name }, route(name), secretId, signal);
      return versionMetaOf(version);
    },
    async listEnabled(client, ref, limit, secretId, signal) {
      const out: VersionMeta[] = [];
      let pageToken = '';
      for (let page = 0; page < 10_000; page++) {
        const request: Record<string, unknown> = {
          parent: ref.name,
          filter: 'state:ENABLED',
          pageSize: Math.min(Math.max(limit - out.length, 1), 25_000),
        };
        if (pageToken !== '') request.pageToken = pageToken;
        const [versions, , raw] = await call(
          client,
          'listSecretVersions',
          request,
          `parent=${encodeURIComponent(ref.name)}`,
          secretId,
          signal,
        );
        for (const v of (Array.isArray(versions) ? versions : []) as unknown[]) {
          const meta = versionMetaOf(v);
          // The filter is the service's; check it anyway: a DISABLED or DESTROYED version never counts.
          if (meta !== undefined && meta.state === 'ENABLED') out.push(meta);
        }
        const next = (raw as { nextPageToken?: unknown } | undefined)?.nextPageToken;
        if (out.length >= limit || typeof next !== 'string' || next === '') break;
        pageToken = next;
      }
      return out.sort((a, b) => b.number - a.number).slice(0, limit);
    },
    async plan(client, ref, secretId, signal) {
      if (mode === 'versions') {
        const [meta, enabled] = await Promise.all([
          reader.secretMeta(client, ref, secretId, signal),
          reader.listEnabled(client, ref, 2, secretId, signal),
        ]);
        return { meta, plans: planByVersions(secretId, meta, enabled, previousGraceMs) };
      }
      const meta: SecretMeta = await reader.secretMeta(client, ref, secretId, signal);
      const wanted = aliasTargets(secretId, meta, aliases);
      const metas = await Promise.all(
        wanted.map(async ([role, n]) => {
          try {
            return await reader.versionMeta(client, ref, n, secretId, signal);
          } catch (err) {
            // A previous or pending version that vanished is dropped; only the active one is required.
            if (role !== 'active' && err instanceof KeyStoreError && err.reason === 'NOT_FOUND') return undefined;
            throw err;
          }
        }),
      );
      return { meta, plans: planByAliases(secretId, meta, aliases, wanted, metas, previousGraceMs) };
    },
    async payload(client, name, secretId, signal) {
      const cached = payloads.get(name);
      if (cached !== undefined) return cached.value as Uint8Array;
      const [response] = await call(client, 'accessSecretVersion', { name }, route(name), secretId, signal);
      const r = (response ?? {}) as { name?: unknown; payload?: { data?: unknown; dataCrc32c?: unknown } | null };
      const data = toBytes(r.payload?.data);
      if (data === undefined) throw gcpError(secretId, 'INTEGRITY', `the payload of ${name} is missing.`, true, 'DATA_LOSS');
      const answered = versionNumberOf(r.name);
      if (answered !== undefined && answered !== versionNumberOf(name))
        throw gcpError(secretId, 'INTEGRITY', `asked for ${name} but the service answered with version ${answered}.`, true, 'DATA_LOSS');
      const expected = numberOf(r.payload?.dataCrc32c);
      // Retryable, and never cached: the next load fetches the payload again.
      if (expected !== undefined && expected !== crc32c(data))
        throw gcpError(
          secretId,
          'INTEGRITY',
          `the payload of ${name} failed its CRC32C check (corrupted in transit or at rest).`,
          true,
          'CRC32C_MISMATCH',
        );
      payloads.set(name, data, undefined);
      return data;
    },
    forget: (name) => payloads.delete(name),
  };

  async function getVersions(secretId: string, getOptions: GetVersionsOptions): Promise<SecretVersion[]> {
    const signal = getOptions?.signal;
    const ref = resolve(secretId);
    const client = await clientFor(ref, secretId);
    const { plans } = await reader.plan(client, ref, secretId, signal);
    const secrets = await Promise.all(plans.map((p: Plan) => reader.payload(client, versionId(ref, p.meta.number), secretId, signal)));
    // Keep only the payloads still in use for this secret: retired versions leave the process.
    const used = new Set(plans.map((p) => versionId(ref, p.meta.number)));
    payloads.prune((key) => key.startsWith(`${ref.name}/versions/`) && !used.has(key));
    return plans.map((p, i) => ({
      id: versionId(ref, p.meta.number),
      secret: secrets[i] as Uint8Array,
      role: p.role,
      ...(p.notAfter === undefined ? {} : { notAfter: p.notAfter }),
    }));
  }

  return {
    name: STORE_NAME,
    getVersions,
    rotate: (secretId, newSecret, rotateOptions) => rotateSecret(reader, secretId, newSecret, rotateOptions),
    retirePrevious: (secretId, retireOptions) => retirePreviousVersion(reader, secretId, retireOptions),
    disableRetiredVersions: (secretId, disableOptions) => disableRetired(reader, secretId, disableOptions),
    async dispose() {
      if (disposed) return;
      disposed = true;
      payloads.clear();
      const clients = [...built.values()];
      built.clear();
      // A client the store built is closed; one never asked for is never built.
      await Promise.all(clients.map(async (c) => (await c.peek()?.catch(() => undefined))?.close?.().catch(() => undefined)));
    },
  };
}

function toBytes(value: unknown): Uint8Array | undefined {
  if (value instanceof Uint8Array) return new Uint8Array(value); // a copy, detached from Buffer pools
  if (typeof value === 'string') return new Uint8Array(Buffer.from(value, 'base64'));
  return undefined;
}
