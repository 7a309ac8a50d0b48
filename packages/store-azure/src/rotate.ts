/**
 * The write side: `rotate()` adds a version and gives the old active one an `expires`;
 * `retirePrevious()` disables a previous version.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { RetirePreviousOptions, RetirePreviousResult, RotateOptions, RotateResult } from '@keyturn/core';
import { finishRotation } from '@keyturn/core/store-kit';
import { AzureKeyVaultError, type SecretClientLike } from './client.ts';
import { assignRoles, newestFirst, REPLACES_TAG, type VersionInfo } from './roles.ts';

/** Tag on a version written by `rotate()`: a digest of the call's idempotency token. */
export const ROTATION_TOKEN_TAG = 'keyturn-rotation-token';

/** Options of {@link AzureKeyVaultStore.retirePrevious} (core's `RetirePreviousOptions`). */
export type { RetirePreviousOptions, RetirePreviousResult };

/** What the write side needs from the store. */
export interface WriteContext {
  /** Runs one SDK call with the store's deadline and the caller's signal. */
  call<T>(
    secretId: string,
    action: string,
    signal: AbortSignal | undefined,
    run: (client: SecretClientLike, abortSignal: AbortSignal) => Promise<T>,
  ): Promise<T>;
  /** Every version's attributes (an empty list when the secret does not exist). */
  versions(secretId: string, signal: AbortSignal | undefined): Promise<VersionInfo[]>;
  /** The active version's value, when it is cheap to know (cached). */
  cachedValue(secretId: string, version: string): string | undefined;
  /** Drops a cached value. */
  forget(secretId: string, version: string): void;
  /** The store's clock, epoch ms. */
  now(): number;
  /** The store's leeway for choosing the active version, in ms. */
  readonly leewayMs: number;
  /** The store's default grace, in ms (`Infinity`: no end). */
  readonly previousGraceMs: number;
}

/**
 * `setSecret` (the new version is active at once), then `expires = now + grace` on the version that was
 * active — never later than an `expires` it already had. A retried call with the same idempotency
 * token finds its version (by tag) and only finishes the second step.
 */
export async function rotateSecret(
  ctx: WriteContext,
  secretId: string,
  newSecret: string | Uint8Array,
  options: RotateOptions = {},
): Promise<RotateResult> {
  return finish(secretId, await write(ctx, secretId, newSecret, options));
}

/** Says whether the previous version was left without a window end (it then verifies until disabled). */
function finish(secretId: string, r: RotateResult): RotateResult {
  return finishRotation(
    r,
    `the previous version ${r.previousId} of ${secretId} has no expires: it stays accepted while it is enabled. ` +
      'Disable it (retirePrevious(), or `az keyvault secret set-attributes --enabled false`) once no sender uses it, or rotate with a finite previousGraceMs.',
  );
}

async function write(ctx: WriteContext, secretId: string, newSecret: string | Uint8Array, options: RotateOptions): Promise<RotateResult> {
  const text = secretText(newSecret);
  const grace = options.previousGraceMs ?? ctx.previousGraceMs;
  if (typeof grace !== 'number' || Number.isNaN(grace) || grace < 0)
    throw new TypeError('rotate(): `previousGraceMs` must be a non-negative number of ms (or Infinity)');
  const token = options.idempotencyToken === undefined ? undefined : tokenDigest(options.idempotencyToken);
  const { signal } = options;
  const infos = await ctx.versions(secretId, signal);
  const roles = assignRoles(infos, ctx.now(), ctx.leewayMs);
  const done = token === undefined ? undefined : newestFirst(infos.filter((v) => v.tags?.[ROTATION_TOKEN_TAG] === token))[0];

  let activeId: string;
  let oldId: string | undefined;
  if (done !== undefined) {
    activeId = done.version;
    oldId = done.tags?.[REPLACES_TAG];
  } else if (roles.active !== undefined && ctx.cachedValue(secretId, roles.active.version) === text) {
    // Already the active value (a repeated call): writing again would demote the real previous key.
    return { activeId: roles.active.version, previousId: roles.previous[0]?.version, previousNotAfter: roles.previous[0]?.notAfter };
  } else {
    oldId = roles.active?.version;
    const old = infos.find((v) => v.version === oldId);
    const tags: Record<string, string> = {};
    for (const [k, v] of Object.entries(old?.tags ?? {})) if (k !== ROTATION_TOKEN_TAG && k !== REPLACES_TAG) tags[k] = v;
    if (oldId !== undefined) tags[REPLACES_TAG] = oldId;
    if (token !== undefined) tags[ROTATION_TOKEN_TAG] = token;
    const created = await ctx.call(secretId, 'writing the new version', signal, (c, abortSignal) =>
      c.setSecret(secretId, text, { tags, abortSignal, ...(oldContentType(infos, oldId) ?? {}) }),
    );
    if (created.properties.version === undefined) {
      throw new AzureKeyVaultError(`Azure Key Vault: setSecret for ${secretId} answered without a version id.`, {
        retryable: true,
        secretId,
        reason: 'UNAVAILABLE',
      });
    }
    activeId = created.properties.version;
  }
  if (oldId === undefined || oldId === activeId) return { activeId, previousId: undefined, previousNotAfter: undefined };

  const old = infos.find((v) => v.version === oldId);
  const target = grace === Infinity ? undefined : ctx.now() + grace;
  if (target === undefined || (old?.expires !== undefined && old.expires <= target)) {
    // No grace end asked for (the previous version keeps verifying until it is disabled), or an earlier one is already set.
    return { activeId, previousId: oldId, previousNotAfter: old?.expires };
  }
  const updated = await ctx.call(secretId, "setting the previous version's expiry", signal, (c, abortSignal) =>
    c.updateSecretProperties(secretId, oldId, { expiresOn: new Date(target), abortSignal }),
  );
  return { activeId, previousId: oldId, previousNotAfter: updated.expiresOn?.getTime() };
}

/**
 * Disables a previous version: `keyId`, or else the newest previous one. A version that is already
 * disabled counts as retired (so a retried call succeeds); the active version is never disabled.
 */
export async function retirePreviousVersion(
  ctx: WriteContext,
  secretId: string,
  options: RetirePreviousOptions = {},
): Promise<RetirePreviousResult> {
  const { keyId, signal } = options;
  if (keyId !== undefined && (typeof keyId !== 'string' || keyId.length === 0))
    throw new TypeError('retirePrevious(): `keyId` must be a version id');
  const infos = await ctx.versions(secretId, signal);
  const roles = assignRoles(infos, ctx.now(), ctx.leewayMs);
  let target = roles.previous[0]?.version;
  if (keyId !== undefined) {
    if (infos.some((v) => v.version === keyId && !v.enabled)) return { retiredId: keyId };
    if (!roles.previous.some((v) => v.version === keyId)) {
      const what = roles.active?.version === keyId ? 'is the active version' : 'is not a previous version';
      throw new AzureKeyVaultError(`Azure Key Vault: version ${keyId} of ${secretId} ${what}; nothing was retired.`, {
        retryable: false,
        secretId,
        reason: 'CONFLICT',
      });
    }
    target = keyId;
  }
  if (target === undefined) return { retiredId: undefined };
  const version = target;
  await ctx.call(secretId, 'disabling the previous version', signal, (c, abortSignal) =>
    c.updateSecretProperties(secretId, version, { enabled: false, abortSignal }),
  );
  ctx.forget(secretId, version);
  return { retiredId: version };
}

/** Key Vault holds text: bytes must be UTF-8. */
function secretText(secret: string | Uint8Array): string {
  if (typeof secret === 'string') {
    if (secret.length === 0) throw new TypeError('rotate(): `newSecret` is empty');
    return secret;
  }
  if (!(secret instanceof Uint8Array)) throw new TypeError('rotate(): `newSecret` must be a string or bytes');
  if (secret.length === 0) throw new TypeError('rotate(): `newSecret` is empty');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(secret);
  } catch {
    throw new TypeError('rotate(): Key Vault secrets are text; encode binary secrets (base64, hex) before storing them');
  }
}

function tokenDigest(token: string): string {
  if (typeof token !== 'string' || token.length === 0) throw new TypeError('rotate(): `idempotencyToken` must be a non-empty string');
  return createHash('sha256').update(token).digest('hex').slice(0, 32);
}

function oldContentType(infos: readonly VersionInfo[], oldId: string | undefined): { contentType: string } | undefined {
  const ct = infos.find((v) => v.version === oldId)?.contentType;
  return ct === undefined ? undefined : { contentType: ct };
}
