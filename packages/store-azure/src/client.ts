/**
 * Calls to Azure Key Vault through `@azure/keyvault-secrets` (loaded on first use), each bounded by a
 * deadline and the caller's abort signal, and the mapping of every failure onto a typed, secret-free
 * {@link AzureKeyVaultError}.
 *
 * @module
 */
import { KeyStoreError, type KeyStoreErrorReason } from '@keyturn/core';
import {
  callWithDeadline as kitDeadline,
  errorSummary,
  firstLine,
  importPeer as kitImportPeer,
  NETWORK_ERROR_CODES,
  type StoreIdentity,
} from '@keyturn/core/store-kit';
import type { SecretClient, SecretClientOptions, SecretProperties } from '@azure/keyvault-secrets';
import type { VersionInfo } from './roles.ts';

/** The store name used in errors, events and cache keys. */
export const STORE_NAME = 'azure-key-vault';

/**
 * Why a store call failed: core's `KeyStoreErrorReason` (the same union for every store). Key Vault's
 * own code is in {@link AzureKeyVaultError.code}.
 */
export type AzureKeyVaultErrorReason = KeyStoreErrorReason;

/** Options of {@link AzureKeyVaultError}. */
export interface AzureKeyVaultErrorOptions {
  /** Whether a later attempt may succeed. */
  readonly retryable: boolean;
  /** The secret name. */
  readonly secretId?: string | undefined;
  /** Why it failed. */
  readonly reason: AzureKeyVaultErrorReason;
  /** Key Vault's `error.code` (or its inner code), a network code, or the SDK error name. */
  readonly code?: string | undefined;
  /** HTTP status of the answer, when there was one. */
  readonly status?: number | undefined;
  /** The `Retry-After` of a throttled answer, in ms. */
  readonly retryAfterMs?: number | undefined;
  /** A secret-free summary of the underlying error. */
  readonly cause?: unknown;
}

/** A {@link KeyStoreError} from the Azure Key Vault store, with the service's own code beside the reason. */
export class AzureKeyVaultError extends KeyStoreError {
  /** Why it failed (one of a fixed set). */
  declare readonly reason: AzureKeyVaultErrorReason;
  /** Key Vault's error code (`SecretNotFound`, `Forbidden`, `Throttled`, ...), or a network code. */
  declare readonly code: string | undefined;
  /** HTTP status, when the service answered. */
  readonly status: number | undefined;
  /** How long the service asked to wait (429 `Retry-After`), in ms. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: AzureKeyVaultErrorOptions) {
    super(message, {
      retryable: options.retryable,
      store: STORE_NAME,
      secretId: options.secretId,
      reason: options.reason,
      code: options.code,
      cause: options.cause,
    });
    this.name = 'AzureKeyVaultError';
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }

  /** A log-safe plain object. */
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), status: this.status, retryAfterMs: this.retryAfterMs };
  }
}

/** How the store names itself in errors (its errors are {@link AzureKeyVaultError}s). */
const AZURE: StoreIdentity = {
  store: STORE_NAME,
  label: 'Azure Key Vault',
  error: (message, o) =>
    new AzureKeyVaultError(message, {
      retryable: o.retryable,
      secretId: o.secretId,
      reason: o.reason ?? 'UNAVAILABLE',
      code: o.code,
      cause: o.cause,
    }),
};

/** The part of `SecretClient` (`@azure/keyvault-secrets` 4.x) the store uses; any object with these methods works. */
export type SecretClientLike = Pick<
  SecretClient,
  'getSecret' | 'listPropertiesOfSecretVersions' | 'setSecret' | 'updateSecretProperties' | 'getDeletedSecret'
>;

/** The credential a `SecretClient` takes (any `@azure/identity` credential). */
export type TokenCredentialLike = ConstructorParameters<typeof SecretClient>[1];

type SecretsModule = typeof import('@azure/keyvault-secrets');
type IdentityModule = { DefaultAzureCredential: new () => TokenCredentialLike };

/** Builds the client on first use: `@azure/keyvault-secrets` (and `@azure/identity` without a credential) is imported then, not before. */
export async function buildClient(
  vaultUrl: string,
  credential: TokenCredentialLike | undefined,
  clientOptions: SecretClientOptions | undefined,
): Promise<SecretClientLike> {
  const sdk = await importPeer<SecretsModule>('@azure/keyvault-secrets', () => import('@azure/keyvault-secrets'));
  let cred = credential;
  if (cred === undefined) {
    const identity = await importPeer<IdentityModule>(
      '@azure/identity',
      () => import('@azure/identity') as Promise<IdentityModule>,
      ' (or pass `credential`)',
    );
    cred = new identity.DefaultAzureCredential();
  }
  // Retries belong to the verifier's cache (backoff, stale-if-error): the client answers at once.
  return new sdk.SecretClient(vaultUrl, cred, { retryOptions: { maxRetries: 0 }, ...clientOptions });
}

function importPeer<T>(name: string, load: () => Promise<unknown>, hint = ''): Promise<T> {
  return kitImportPeer<T>({ ...AZURE, name, load, hint });
}

/** A secret id must be a Key Vault secret name; anything else is a terminal `INVALID_CONFIG` error. */
export function checkSecretName(secretId: unknown): string {
  if (typeof secretId !== 'string' || !/^[0-9a-zA-Z-]{1,127}$/.test(secretId)) {
    throw new AzureKeyVaultError('Azure Key Vault secret ids are secret names: 1–127 letters, digits and hyphens (no version, no URL).', {
      retryable: false,
      secretId: typeof secretId === 'string' ? secretId.slice(0, 127) : undefined,
      reason: 'INVALID_CONFIG',
    });
  }
  return secretId;
}

/** Settings of {@link callWithDeadline}. */
export interface CallContext {
  /** The secret name (for messages). */
  readonly secretId: string;
  /** What is being done (`listing versions`, `reading a version`, ...). */
  readonly action: string;
  /** The caller's signal. */
  readonly signal: AbortSignal | undefined;
  /** Hard limit of this call, retries included, in ms. */
  readonly timeoutMs: number;
}

/**
 * Runs one SDK call under `AbortSignal.any([caller, timeout])`. The call rejects as soon as either
 * fires, even where the SDK does not pass the signal on (its list pages after the first).
 */
export function callWithDeadline<T>(ctx: CallContext, run: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
  return kitDeadline({ ...AZURE, ...ctx, mapError: (err) => toStoreError(err, ctx.secretId, ctx.action) }, run) as Promise<T>;
}

/** Lists every version's attributes (all pages), as the role mapping reads them. */
export async function listVersions(client: SecretClientLike, name: string, abortSignal: AbortSignal): Promise<VersionInfo[]> {
  const out: VersionInfo[] = [];
  for await (const p of client.listPropertiesOfSecretVersions(name, { abortSignal })) {
    if (typeof p.version === 'string' && p.version.length > 0) out.push(infoOf(p));
  }
  return out;
}

function infoOf(p: SecretProperties): VersionInfo {
  return {
    version: p.version as string,
    enabled: p.enabled !== false,
    notBefore: p.notBefore?.getTime(),
    expires: p.expiresOn?.getTime(),
    createdOn: p.createdOn?.getTime(),
    tags: p.tags,
    contentType: p.contentType,
  };
}

/** TLS failures: the endpoint is not who it claims to be, or not trusted — configuration, not an outage. */
const TLS_CODES =
  /^(?:ERR_TLS_CERT_ALTNAME_INVALID|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(?:_LOCALLY)?|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|ERR_SSL_.*)$/;

interface RestErrorShape {
  name?: unknown;
  code?: unknown;
  statusCode?: unknown;
  message?: unknown;
  details?: { error?: { code?: unknown; innerError?: { code?: unknown } } };
  response?: { headers?: { get?: (name: string) => string | undefined } };
}

/** The status → (reason, retryable) table for answers from the service. */
function byStatus(status: number, inner: string | undefined): { reason: AzureKeyVaultErrorReason; retryable: boolean } {
  if (status === 401 || status === 403) {
    // A version disabled between listing and reading it: the next load sees the new state.
    if (inner === 'SecretDisabled') return { reason: 'CONFLICT', retryable: true };
    return { reason: 'ACCESS_DENIED', retryable: false };
  }
  if (status === 404) return { reason: 'NOT_FOUND', retryable: false };
  if (status === 409) return { reason: 'CONFLICT', retryable: inner !== 'ObjectIsDeletedButRecoverable' };
  if (status === 408) return { reason: 'TIMEOUT', retryable: true };
  if (status === 429) return { reason: 'THROTTLED', retryable: true };
  if (status >= 500) return { reason: 'UNAVAILABLE', retryable: true };
  return { reason: 'INVALID_CONFIG', retryable: false };
}

/**
 * Maps an SDK failure to an {@link AzureKeyVaultError}. The SDK error is never kept as the cause (its
 * request may carry a secret being written, its response a secret being read): the cause is a plain
 * summary with the error's name, code and status.
 */
export function toStoreError(err: unknown, secretId: string, action: string): AzureKeyVaultError {
  if (err instanceof AzureKeyVaultError) return err;
  if (err instanceof KeyStoreError) {
    return new AzureKeyVaultError(err.message, {
      retryable: err.retryable,
      secretId,
      reason: err.retryable ? 'UNAVAILABLE' : 'INVALID_CONFIG',
      code: err.reason,
    });
  }
  const e = (err ?? {}) as RestErrorShape;
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const message = typeof e.message === 'string' ? e.message : String(err);
  const status = typeof e.statusCode === 'number' ? e.statusCode : undefined;
  const outer = typeof e.details?.error?.code === 'string' ? e.details.error.code : typeof e.code === 'string' ? e.code : undefined;
  const inner = typeof e.details?.error?.innerError?.code === 'string' ? e.details.error.innerError.code : undefined;
  const where = `Azure Key Vault: ${action} for ${secretId}`;

  if (/^(?:Authentication(?:Required)?Error|CredentialUnavailableError|AggregateAuthenticationError)$/.test(name)) {
    // Token acquisition: a client the identity provider refuses (invalid_client, unknown tenant, ...) is
    // configuration; the token endpoint's own outage (5xx, 429, no answer) is not.
    const refused =
      /\b(?:invalid_client|unauthorized_client|invalid_tenant|invalid_scope|invalid_grant|invalid_request|unsupported_grant_type)\b/.test(
        message,
      );
    const transient = status !== undefined ? status >= 500 || status === 429 : name === 'AuthenticationRequiredError' && !refused;
    return new AzureKeyVaultError(
      `${where} failed: the credential could not get a token (${name}${status === undefined ? '' : `, HTTP ${status}`}). Check the credential's tenant, client id and secret, or managed identity.`,
      {
        retryable: transient,
        secretId,
        reason: transient ? 'UNAVAILABLE' : name === 'CredentialUnavailableError' ? 'INVALID_CONFIG' : 'ACCESS_DENIED',
        code: name,
        status,
        cause: summary(name, firstLine(message)),
      },
    );
  }
  if (status !== undefined && status < 400) {
    // A success status the SDK could not use (a truncated or foreign body). Its message quotes the
    // body — possibly a secret value — so nothing of it is kept.
    return new AzureKeyVaultError(`${where} failed: the answer (HTTP ${status}) could not be read (${outer ?? name}).`, {
      retryable: true,
      secretId,
      reason: 'UNAVAILABLE',
      code: outer ?? name,
      status,
      cause: summary(name, 'details withheld: the original message quotes the response body', outer, status),
    });
  }
  if (status !== undefined) {
    const { reason, retryable } = byStatus(status, inner);
    const retryAfter = retryAfterMs(e.response?.headers?.get?.('retry-after'));
    const code = inner !== undefined && inner !== outer ? `${outer ?? 'Error'}/${inner}` : outer;
    return new AzureKeyVaultError(`${where} failed: ${code ?? 'HTTP error'} (HTTP ${status})${hint(reason, inner)}.`, {
      retryable,
      secretId,
      reason,
      code,
      status,
      retryAfterMs: retryAfter,
      cause: summary(name, firstLine(message), outer, status),
    });
  }
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code !== undefined && TLS_CODES.test(code)) {
    return new AzureKeyVaultError(`${where} failed: the TLS certificate was refused (${code}); check vaultUrl and the trusted CAs.`, {
      retryable: false,
      secretId,
      reason: 'INVALID_CONFIG',
      code,
      cause: summary(name, code),
    });
  }
  if (/challenge (?:resource|origin)|must use HTTPS|invalid scope/i.test(message)) {
    // keyvault-common refused the 401 challenge: the vault URL's domain is not the challenge resource's.
    return new AzureKeyVaultError(
      `${where} failed: the vault's authentication challenge does not match vaultUrl (${firstLine(message)}).`,
      {
        retryable: false,
        secretId,
        reason: 'INVALID_CONFIG',
        code: 'ChallengeMismatch',
        cause: summary(name, firstLine(message)),
      },
    );
  }
  // No answer at all (socket, DNS, an unparsable body): a later attempt may get one.
  return new AzureKeyVaultError(`${where} failed: ${code ?? name} (no answer from the service).`, {
    retryable: true,
    secretId,
    reason: 'UNAVAILABLE',
    code: code ?? name,
    cause: summary(name, code !== undefined && NETWORK_ERROR_CODES.has(code) ? code : name),
  });
}

function hint(reason: AzureKeyVaultErrorReason, inner: string | undefined): string {
  if (inner === 'ObjectIsDeletedButRecoverable') return ': the secret is soft-deleted; recover it (or purge it) first';
  if (reason === 'ACCESS_DENIED')
    return ': grant Key Vault Secrets User (read) or Secrets Officer (rotate), or the matching access policy (see docs/store-azure.md)';
  if (reason === 'NOT_FOUND') return ': check the secret name and vaultUrl';
  return '';
}

/** `Retry-After` as seconds or an HTTP date, in ms. */
function retryAfterMs(header: string | undefined): number | undefined {
  if (header === undefined || header.length === 0) return undefined;
  if (/^\d{1,6}$/.test(header)) return Number(header) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** A plain, secret-free stand-in for the SDK error. */
const summary = errorSummary;
