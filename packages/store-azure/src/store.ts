/**
 * `azureKeyVaultStore()`: Azure Key Vault secret versions as keyturn key roles.
 *
 * @module
 */
import type { GetVersionsOptions, KeyStore, RotateOptions, RotateResult, SecretVersion } from '@keyturn/core';
import type { SecretClientOptions } from '@azure/keyvault-secrets';
import { msOption, versionValueCache } from '@keyturn/core/store-kit';
import {
  AzureKeyVaultError,
  buildClient,
  callWithDeadline,
  checkSecretName,
  listVersions,
  STORE_NAME,
  type SecretClientLike,
  type TokenCredentialLike,
} from './client.ts';
import { assignRoles, describeNoActive, type Roles, type VersionInfo } from './roles.ts';
import { retirePreviousVersion, rotateSecret, type RetirePreviousOptions, type RetirePreviousResult, type WriteContext } from './rotate.ts';

/** Options of {@link azureKeyVaultStore}. */
export interface AzureKeyVaultStoreOptions {
  /** The vault, `https://<name>.vault.azure.net` (required unless `client` is given). */
  vaultUrl?: string | undefined;
  /** Credential of the client the store builds. @default new DefaultAzureCredential() from `@azure/identity` */
  credential?: TokenCredentialLike | undefined;
  /** Options of the client the store builds (`retryOptions` defaults to `{ maxRetries: 0 }`: the verifier's cache retries). */
  clientOptions?: SecretClientOptions | undefined;
  /** A `SecretClient` to use as is (its own retry settings apply); `vaultUrl`, `credential`, `clientOptions` are then not allowed. */
  client?: SecretClientLike | undefined;
  /** Hard limit of one SDK call (all list pages, token acquisition and retries included), in ms. @default 10_000 */
  callTimeoutMs?: number | undefined;
  /** Leeway when choosing the active version: one starting (or expiring) within it already is (or still is) active, in ms. @default 5_000 */
  clockLeewayMs?: number | undefined;
  /** How long `rotate()` keeps the old version verifying (its `expires` = now + this), in ms; `Infinity` sets no `expires`. @default 86_400_000 (24 h) */
  previousGraceMs?: number | undefined;
  /** Clock for roles and `rotate()`, epoch ms. @default Date.now */
  now?: (() => number) | undefined;
}

/** The store: a `KeyStore` with its write side. */
export interface AzureKeyVaultStore extends KeyStore {
  /** `'azure-key-vault'`. */
  readonly name: string;
  /** Every version of the secret named `secretId` that may verify (see the role table in `docs/store-azure.md`). */
  getVersions(secretId: string, options: GetVersionsOptions): Promise<SecretVersion[]>;
  /** Adds `newSecret` as a new version (active at once) and sets the old active version's `expires` to now + grace. */
  rotate(secretId: string, newSecret: string | Uint8Array, options?: RotateOptions): Promise<RotateResult>;
  /** Disables the previous version (`keyId`, or the newest previous one). */
  retirePrevious(secretId: string, options?: RetirePreviousOptions): Promise<RetirePreviousResult>;
  /** Drops cached values; later calls fail. An injected client is left alone. */
  dispose(): void;
}

/** The defaults of {@link AzureKeyVaultStoreOptions}, in ms. */
export interface AzureStoreDefaults {
  /** Default {@link AzureKeyVaultStoreOptions.callTimeoutMs}. */
  readonly callTimeoutMs: 10_000;
  /** Default {@link AzureKeyVaultStoreOptions.clockLeewayMs}. */
  readonly clockLeewayMs: 5_000;
  /** Default {@link AzureKeyVaultStoreOptions.previousGraceMs}: 24 h. */
  readonly previousGraceMs: 86_400_000;
}

/** Store defaults, in ms. */
export const AZURE_STORE_DEFAULTS: AzureStoreDefaults = { callTimeoutMs: 10_000, clockLeewayMs: 5_000, previousGraceMs: 86_400_000 };

const MAX_CACHED_VALUES = 1_000;
const WHERE = 'azureKeyVaultStore()';

/**
 * Creates a `KeyStore` (from `@keyturn/core`) over Azure Key Vault. `secretId` is the secret's name.
 * Creating the store loads no SDK and touches no network; a warm load is one list of the versions'
 * attributes (values never change, so each is read once and cached).
 *
 * @example
 * ```ts
 * import { createVerifier, providers } from '@keyturn/core';
 * import { azureKeyVaultStore } from '@keyturn/store-azure';
 *
 * const verifier = createVerifier({
 *   provider: providers.dataspike(),
 *   keys: azureKeyVaultStore({ vaultUrl: 'https://my-vault.vault.azure.net' }),
 *   secretId: 'dataspike-webhook',
 * });
 * ```
 */
export function azureKeyVaultStore(options: AzureKeyVaultStoreOptions = {}): AzureKeyVaultStore {
  const callTimeoutMs = msOption(WHERE, 'callTimeoutMs', options.callTimeoutMs, AZURE_STORE_DEFAULTS.callTimeoutMs, { min: 1 });
  const leewayMs = msOption(WHERE, 'clockLeewayMs', options.clockLeewayMs, AZURE_STORE_DEFAULTS.clockLeewayMs);
  const previousGraceMs = msOption(WHERE, 'previousGraceMs', options.previousGraceMs, AZURE_STORE_DEFAULTS.previousGraceMs, {
    allowInfinity: true,
  });
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') throw new TypeError('azureKeyVaultStore(): `now` must be a function');
  const injected = options.client;
  if (injected !== undefined) {
    if (typeof (injected as { listPropertiesOfSecretVersions?: unknown }).listPropertiesOfSecretVersions !== 'function')
      throw new TypeError('azureKeyVaultStore(): `client` must be a SecretClient');
    if (options.vaultUrl !== undefined || options.credential !== undefined || options.clientOptions !== undefined) {
      throw new TypeError('azureKeyVaultStore(): pass `client`, or `vaultUrl` (with `credential`, `clientOptions`), not both');
    }
  } else if (typeof options.vaultUrl !== 'string' || !/^https:\/\/[^/?#\s]+\/?$/i.test(options.vaultUrl)) {
    throw new TypeError("azureKeyVaultStore(): `vaultUrl` must be the vault's https URL, e.g. https://my-vault.vault.azure.net");
  }

  let client: Promise<SecretClientLike> | undefined = injected === undefined ? undefined : Promise.resolve(injected);
  let disposed = false;
  const getClient = (): Promise<SecretClientLike> => {
    client ??= buildClient(options.vaultUrl as string, options.credential, options.clientOptions).catch((err: unknown) => {
      client = undefined; // a missing peer dependency can be installed and the call retried
      throw err;
    });
    return client;
  };
  // Version values never change: cached by name + version (the kit's cache wraps them: lru-cache's diagnostics channel publishes values).
  const values = versionValueCache(MAX_CACHED_VALUES);
  const key = (secretId: string, version: string) => `${secretId.toLowerCase()}/${version}`;

  const call: WriteContext['call'] = async (secretId, action, signal, run) => {
    if (disposed)
      throw new AzureKeyVaultError(`Azure Key Vault store was disposed; ${action} for ${secretId} refused.`, {
        retryable: false,
        secretId,
        reason: 'INVALID_CONFIG',
      });
    const c = await getClient();
    return callWithDeadline({ secretId, action, signal, timeoutMs: callTimeoutMs }, (abortSignal) => run(c, abortSignal));
  };

  async function versions(secretId: string, signal: AbortSignal | undefined): Promise<VersionInfo[]> {
    checkSecretName(secretId);
    try {
      return await call(secretId, 'listing versions', signal, (c, abortSignal) => listVersions(c, secretId, abortSignal));
    } catch (err) {
      if (err instanceof AzureKeyVaultError && err.reason === 'NOT_FOUND') return [];
      throw err;
    }
  }

  /** A version's value: cached, or read by version id. `undefined` when an optional version went away meanwhile. */
  async function readValue(secretId: string, version: string, signal: AbortSignal, required: boolean): Promise<string | undefined> {
    const cached = values.get(key(secretId, version));
    if (cached !== undefined) return cached.value as string;
    let value: string | undefined;
    try {
      value = (await call(secretId, 'reading a version', signal, (c, abortSignal) => c.getSecret(secretId, { version, abortSignal })))
        .value;
    } catch (err) {
      if (!required && err instanceof AzureKeyVaultError && (err.reason === 'NOT_FOUND' || err.reason === 'CONFLICT')) return undefined;
      throw err;
    }
    if (value === undefined || value.length === 0) {
      if (!required) return undefined;
      throw new AzureKeyVaultError(`Azure Key Vault: the active version ${version} of ${secretId} holds no value.`, {
        retryable: false,
        secretId,
        reason: 'INVALID_FORMAT',
      });
    }
    values.set(key(secretId, version), value, undefined);
    return value;
  }

  async function getVersions(secretId: string, opts: GetVersionsOptions): Promise<SecretVersion[]> {
    const signal = opts?.signal;
    const infos = await versions(secretId, signal);
    const roles = assignRoles(infos, now(), leewayMs);
    if (roles.active === undefined) throw await noActive(secretId, roles, signal);
    const wanted = [roles.active, ...roles.pending, ...roles.previous];
    const keep = new Set(wanted.map((r) => r.version));
    for (const v of infos) if (!keep.has(v.version)) values.delete(key(secretId, v.version));
    const secrets = await Promise.all(wanted.map((r) => readValue(secretId, r.version, signal, r.role === 'active')));
    const out: SecretVersion[] = [];
    wanted.forEach((r, i) => {
      const secret = secrets[i];
      if (secret !== undefined) out.push({ id: r.version, secret, role: r.role, notBefore: r.notBefore, notAfter: r.notAfter });
    });
    return out;
  }

  /** The terminal error for a secret with no usable version; a soft-deleted secret says so. */
  async function noActive(secretId: string, roles: Roles, signal: AbortSignal | undefined): Promise<AzureKeyVaultError> {
    let detail = describeNoActive(roles);
    if (roles.problem === 'NO_VERSIONS') {
      const deleted = await call(secretId, 'looking for a deleted secret', signal, (c, abortSignal) =>
        c.getDeletedSecret(secretId, { abortSignal }),
      ).catch(() => undefined);
      const purge = deleted?.properties.scheduledPurgeDate;
      if (deleted !== undefined)
        detail = `is soft-deleted${purge === undefined ? '' : ` (it can be recovered until ${purge.toISOString()})`}: recover it with \`az keyvault secret recover\``;
    }
    return new AzureKeyVaultError(`Azure Key Vault secret ${secretId} ${detail}.`, {
      retryable: false,
      secretId,
      reason: 'NOT_FOUND',
      code: roles.problem,
    });
  }

  const ctx: WriteContext = {
    call,
    versions,
    cachedValue: (secretId, version) => values.get(key(secretId, version))?.value as string | undefined,
    forget: (secretId, version) => void values.delete(key(secretId, version)),
    now,
    leewayMs,
    previousGraceMs,
  };

  return {
    name: STORE_NAME,
    getVersions,
    rotate: async (secretId, newSecret, rotateOptions) => rotateSecret(ctx, checkSecretName(secretId), newSecret, rotateOptions),
    retirePrevious: async (secretId, retireOptions) => retirePreviousVersion(ctx, checkSecretName(secretId), retireOptions),
    dispose() {
      disposed = true;
      values.clear();
    },
  };
}
