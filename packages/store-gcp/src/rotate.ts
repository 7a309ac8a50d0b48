/**
 * The write side: `rotate()` (add a version, then move the aliases in one etag-guarded update),
 * `retirePrevious()` (disable the previous version) and `disableRetiredVersions()` (clean-up).
 *
 * @module
 */
import type { RetirePreviousOptions, RetirePreviousResult, RotateOptions, RotateResult } from '@keyturn/core';
import { KeyStoreError } from '@keyturn/core';
import { finishRotation, sameSecret } from '@keyturn/core/store-kit';
import { gcpError, guarded, type RpcName, type SecretManagerClientLike } from './client.ts';
import { crc32c } from './crc32c.ts';
import type { SecretRef } from './names.ts';
import { PREVIOUS_WINDOW_ANNOTATION, versionMetaOf, type AliasNames, type Plan, type SecretMeta, type VersionMeta } from './roles.ts';

/** Annotation holding the idempotency token of the last `rotate()`. */
export const ROTATION_TOKEN_ANNOTATION = 'keyturn-rotation-token';

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

/** The store's reads, as the write side uses them. */
export interface Reader {
  resolve(secretId: string): SecretRef;
  clientFor(ref: SecretRef, secretId: string): Promise<SecretManagerClientLike>;
  call(
    client: SecretManagerClientLike,
    method: RpcName,
    request: Record<string, unknown>,
    routing: string,
    secretId: string,
    signal: AbortSignal | undefined,
  ): Promise<Record<string, unknown>[]>;
  route(name: string): string;
  versionId(ref: SecretRef, n: number): string;
  secretMeta(client: SecretManagerClientLike, ref: SecretRef, secretId: string, signal: AbortSignal | undefined): Promise<SecretMeta>;
  versionMeta(
    client: SecretManagerClientLike,
    ref: SecretRef,
    n: number,
    secretId: string,
    signal: AbortSignal | undefined,
  ): Promise<VersionMeta | undefined>;
  listEnabled(
    client: SecretManagerClientLike,
    ref: SecretRef,
    limit: number,
    secretId: string,
    signal: AbortSignal | undefined,
  ): Promise<VersionMeta[]>;
  plan(
    client: SecretManagerClientLike,
    ref: SecretRef,
    secretId: string,
    signal: AbortSignal | undefined,
  ): Promise<{ meta: SecretMeta; plans: Plan[] }>;
  payload(client: SecretManagerClientLike, versionName: string, secretId: string, signal: AbortSignal | undefined): Promise<Uint8Array>;
  forget(versionName: string): void;
  readonly mode: 'aliases' | 'versions';
  readonly aliases: AliasNames;
  readonly previousGraceMs: number;
  readonly now: () => number;
}

const MAX_PAYLOAD = 65_536;
/** How often `rotate()` re-reads the secret and retries the alias move after a stale etag, before giving up with a retryable `CONFLICT`. */
const ALIAS_MOVE_ATTEMPTS = 3;

const finish = (r: RotateResult): RotateResult =>
  finishRotation(
    r,
    `the previous version ${r.previousId} has no window end: it stays accepted until it is disabled or loses its role. ` +
      'Disable it (retirePrevious(), `keyturn keys retire`) once no sender uses it.',
  );

/** See {@link GcpSecretManagerStore.rotate}. */
export async function rotateSecret(
  r: Reader,
  secretId: string,
  newSecret: string | Uint8Array,
  options: RotateOptions = {},
): Promise<RotateResult> {
  const signal = options.signal;
  const ref = r.resolve(secretId);
  let data: Uint8Array;
  if (typeof newSecret === 'string') data = new TextEncoder().encode(newSecret);
  else if (newSecret instanceof Uint8Array) data = new Uint8Array(newSecret);
  else throw gcpError(secretId, 'INVALID_CONFIG', 'the new secret must be a string or bytes.', false, 'INVALID_ARGUMENT');
  if (data.length === 0 || data.length > MAX_PAYLOAD)
    throw gcpError(secretId, 'INVALID_CONFIG', 'the new secret must hold 1 to 65536 bytes.', false, 'INVALID_ARGUMENT');
  const grace = options.previousGraceMs ?? r.previousGraceMs;
  if (!Number.isFinite(grace) || grace < 0)
    throw gcpError(secretId, 'INVALID_CONFIG', '`previousGraceMs` must be a non-negative number of ms.', false, 'INVALID_ARGUMENT');
  const token = options.idempotencyToken;
  if (token !== undefined && !/^[\x21-\x7e]{1,200}$/.test(token))
    throw gcpError(
      secretId,
      'INVALID_CONFIG',
      '`idempotencyToken` must be 1 to 200 printable ASCII characters.',
      false,
      'INVALID_ARGUMENT',
    );
  const client = await r.clientFor(ref, secretId);
  const before = await r.secretMeta(client, ref, secretId, signal);
  if (token !== undefined && before.annotations[ROTATION_TOKEN_ANNOTATION] === token) {
    // A retried rotate() whose alias move went through: report what readers enforce, write nothing.
    const { plans } = await r.plan(client, ref, secretId, signal);
    const active = plans.find((p) => p.role === 'active') as Plan;
    const previous = plans.find((p) => p.role === 'previous');
    return finish({
      activeId: r.versionId(ref, active.meta.number),
      previousId: previous === undefined ? undefined : r.versionId(ref, previous.meta.number),
      previousNotAfter: previous?.notAfter,
    });
  }
  const aliasActive = r.mode === 'aliases' ? before.aliases.get(r.aliases.active) : undefined;
  const [newest, second] = await r.listEnabled(client, ref, 2, secretId, signal);
  // A version an earlier attempt of this rotation added (its alias move failed: a conflict, a lost
  // answer) is reused, never added a second time: in versions mode a duplicate would push the old
  // key out of the key set.
  let added: VersionMeta | undefined;
  if (newest !== undefined && newest.number !== aliasActive && (aliasActive === undefined || newest.number > aliasActive)) {
    if (sameSecret(await r.payload(client, r.versionId(ref, newest.number), secretId, signal), data)) added = newest;
  }
  let oldActive: number | undefined;
  if (added !== undefined) {
    oldActive = aliasActive ?? second?.number;
  } else {
    oldActive = aliasActive ?? newest?.number;
    const [response] = await r.call(
      client,
      'addSecretVersion',
      { parent: ref.name, payload: { data: Buffer.from(data), dataCrc32c: crc32c(data) } },
      `parent=${encodeURIComponent(ref.name)}`,
      secretId,
      signal,
    );
    added = versionMetaOf(response);
    if (added === undefined) throw gcpError(secretId, 'INTEGRITY', 'AddSecretVersion answered without a version name.', true, 'DATA_LOSS');
  }
  const addedN = added.number;
  const createdAt = added.createTime ?? r.now();

  // Move the aliases with one UpdateSecret guarded by the etag read just before it. A concurrent
  // change makes it fail (CONFLICT): read again, re-apply on top of what changed, try again.
  for (let attempt = 1; ; attempt++) {
    const current = await r.secretMeta(client, ref, secretId, signal);
    // The version active now becomes previous (after a concurrent rotation, that is theirs).
    const activeNow = r.mode === 'aliases' ? current.aliases.get(r.aliases.active) : undefined;
    const previousN = activeNow !== undefined && activeNow !== addedN ? activeNow : oldActive !== addedN ? oldActive : undefined;
    const notAfter = previousN === undefined ? undefined : createdAt + grace;
    const aliases: Record<string, string> = {};
    for (const [alias, n] of current.aliases) aliases[alias] = String(n);
    aliases[r.aliases.active] = String(addedN);
    if (previousN !== undefined) aliases[r.aliases.previous] = String(previousN);
    else delete aliases[r.aliases.previous];
    if (r.aliases.pending !== undefined) delete aliases[r.aliases.pending];
    const annotations: Record<string, string> = { ...current.annotations };
    if (notAfter !== undefined) annotations[PREVIOUS_WINDOW_ANNOTATION] = `${previousN}@${new Date(notAfter).toISOString()}`;
    else delete annotations[PREVIOUS_WINDOW_ANNOTATION];
    if (token !== undefined) annotations[ROTATION_TOKEN_ANNOTATION] = token;
    else delete annotations[ROTATION_TOKEN_ANNOTATION];
    const request = {
      secret: { name: ref.name, versionAliases: aliases, annotations, etag: current.etag },
      updateMask: { paths: ['version_aliases', 'annotations'] },
    };
    try {
      await guarded(
        () => r.call(client, 'updateSecret', request, `secret.name=${encodeURIComponent(ref.name)}`, secretId, signal),
        'updateSecret',
        secretId,
        current.etag,
        async () => (await r.secretMeta(client, ref, secretId, signal)).etag,
      );
    } catch (err) {
      if (err instanceof KeyStoreError && err.reason === 'CONFLICT' && err.retryable && attempt < ALIAS_MOVE_ATTEMPTS) continue;
      throw err;
    }
    return finish({
      activeId: r.versionId(ref, addedN),
      previousId: previousN === undefined ? undefined : r.versionId(ref, previousN),
      previousNotAfter: notAfter,
    });
  }
}

async function disable(
  r: Reader,
  client: SecretManagerClientLike,
  ref: SecretRef,
  v: VersionMeta,
  secretId: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  const name = r.versionId(ref, v.number);
  await guarded(
    () => r.call(client, 'disableSecretVersion', { name, etag: v.etag }, r.route(name), secretId, signal),
    'disableSecretVersion',
    secretId,
    v.etag,
    async () => (await r.versionMeta(client, ref, v.number, secretId, signal))?.etag ?? '',
  );
  r.forget(name);
}

/** See {@link GcpSecretManagerStore.retirePrevious}. */
export async function retirePreviousVersion(
  r: Reader,
  secretId: string,
  options: RetirePreviousOptions = {},
): Promise<RetirePreviousResult> {
  const { keyId, signal } = options;
  if (keyId !== undefined && (typeof keyId !== 'string' || keyId.length === 0))
    throw new TypeError('retirePrevious(): `keyId` must be a version resource name');
  const ref = r.resolve(secretId);
  const client = await r.clientFor(ref, secretId);
  const { plans } = await r.plan(client, ref, secretId, signal);
  const previous = plans.find((p) => p.role === 'previous');
  const previousId = previous === undefined ? undefined : r.versionId(ref, previous.meta.number);
  if (keyId !== undefined && keyId !== previousId) {
    const n = Number(/\/versions\/([1-9][0-9]*)$/.exec(keyId)?.[1] ?? NaN);
    const meta =
      keyId.startsWith(`${ref.name}/versions/`) && Number.isFinite(n)
        ? await r.versionMeta(client, ref, n, secretId, signal).catch(() => undefined)
        : undefined;
    if (meta !== undefined && meta.state !== 'ENABLED') return { retiredId: keyId }; // a retried call that went through
    const what = plans.some((p) => r.versionId(ref, p.meta.number) === keyId) ? 'holds another role' : 'is not the previous version';
    throw gcpError(
      secretId,
      'CONFLICT',
      `version ${keyId} ${what} (the previous version is ${previousId ?? 'none'}); nothing was retired.`,
      false,
      'KEY_CHANGED',
    );
  }
  if (previous === undefined) return { retiredId: undefined };
  await disable(r, client, ref, previous.meta, secretId, signal);
  return { retiredId: previousId };
}

/** See {@link GcpSecretManagerStore.disableRetiredVersions}. */
export async function disableRetired(r: Reader, secretId: string, options: DisableRetiredOptions = {}): Promise<DisableRetiredResult> {
  const signal = options.signal;
  const ref = r.resolve(secretId);
  const client = await r.clientFor(ref, secretId);
  const { plans } = await r.plan(client, ref, secretId, signal);
  const at = r.now();
  const active = plans.find((p) => p.role === 'active') as Plan;
  const keep = new Set<number>();
  for (const p of plans) if (p.role !== 'previous' || p.notAfter === undefined || at <= p.notAfter) keep.add(p.meta.number);
  const enabled = await r.listEnabled(client, ref, Number.MAX_SAFE_INTEGER, secretId, signal);
  const retired = enabled.filter((v) => v.number < active.meta.number && !keep.has(v.number));
  if (options.dryRun !== true) for (const v of retired) await disable(r, client, ref, v, secretId, signal);
  return {
    disabled: retired.map((v) => r.versionId(ref, v.number)),
    kept: [...keep].sort((a, b) => b - a).map((n) => r.versionId(ref, n)),
  };
}
