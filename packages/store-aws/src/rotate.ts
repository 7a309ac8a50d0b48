/**
 * The write side: `rotate()` writes a new version with an idempotency token (the window recorded in a
 * tag, or in the key-set document), `retirePrevious()` takes the previous label off (the store's own
 * label names, and the key-set format).
 *
 * @module
 */
import { createHash, randomUUID } from 'node:crypto';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { KeyRole, RetirePreviousOptions, RetirePreviousResult, RotateOptions, RotateResult } from '@keyturn/core';
import { checkNewSecret, finishRotation, msOption } from '@keyturn/core/store-kit';
import { awsError, type AwsSdk } from './client.ts';
import { formatKeySet, type AwsSecretFormat } from './formats.ts';
import { graceFor, keysOf, latest, type LabelMap, type Labels, type VersionValue } from './roles.ts';

/**
 * The secret tag in which `rotate()` records, per new `VersionId`, the grace it was asked for:
 * `<VersionId>=<ms>` entries separated by spaces (`Infinity` for no end). Readers give the
 * `AWSPREVIOUS` version `CreatedDate(AWSCURRENT) + <ms>` when the tag names the current version,
 * so the window `rotate()` reports is the one every reader enforces, whatever their own
 * `previousGraceMs`. `DescribeSecret` returns tags, so reading it costs no extra call.
 */
export const AWS_PREVIOUS_GRACE_TAG = 'keyturn:previous-grace-ms';

/** What the write side needs from the store. */
export interface WriteContext {
  /** One SDK call under the store's deadline and the caller's signal. */
  call<T>(
    secretId: string,
    action: string,
    signal: AbortSignal | undefined,
    run: (c: SecretsManagerClient, sdk: AwsSdk, abortSignal: AbortSignal) => Promise<T>,
  ): Promise<T>;
  /** The label map (one `DescribeSecret`). */
  describe(secretId: string, signal: AbortSignal | undefined): Promise<LabelMap>;
  /** A version's value (cached). */
  value(
    secretId: string,
    arn: string,
    versionId: string,
    signal: AbortSignal | undefined,
    emptyOk: boolean,
  ): Promise<VersionValue | undefined>;
  readonly format: AwsSecretFormat;
  readonly labels: Labels;
  readonly previousGraceMs: number;
  readonly now: () => number;
}

/** See {@link AwsSecretsManagerStore.rotate}. */
export async function rotateSecret(
  ctx: WriteContext,
  secretId: string,
  newSecret: string | Uint8Array,
  options: RotateOptions = {},
): Promise<RotateResult> {
  checkNewSecret(newSecret);
  const { format, labels } = ctx;
  const grace = msOption('rotate()', 'previousGraceMs', options.previousGraceMs, ctx.previousGraceMs, { allowInfinity: true });
  const token = clientRequestToken(options.idempotencyToken);
  const signal = options.signal;
  const finish = (r: RotateResult): RotateResult =>
    finishRotation(
      r,
      `the previous version ${r.previousId} has no window end: it stays accepted while it holds ${labels.previous}. ` +
        'Remove the label (retirePrevious(), `keyturn keys retire`) once no sender uses it, or rotate with a finite previousGraceMs.',
    );

  const map = await ctx.describe(secretId, signal);
  if (map.active === token) {
    // A retried rotate() whose first call went through: report what readers enforce, write nothing.
    if (format === 'keyset') return finish(await keysetResult(ctx, secretId, map.arn, token, map.previous, signal));
    return finish(await result(ctx, secretId, map.arn, token, map.previous, graceFor(map, token, ctx.previousGraceMs), signal));
  }
  let payload: string | Uint8Array = newSecret;
  let keysetWindow: number | undefined;
  if (format !== 'raw') {
    if (typeof newSecret !== 'string') throw new TypeError('rotate(): JSON formats need a string `newSecret`');
    if (map.active === undefined)
      throw awsError(`AWS secret ${secretId} has no ${labels.active} version to rotate from.`, secretId, 'NOT_FOUND', 'NO_CURRENT_VERSION');
    const current = (await ctx.value(secretId, map.arn, map.active, signal, false)) as VersionValue;
    if (typeof current.value !== 'string')
      throw awsError(`AWS secret ${secretId} holds SecretBinary; a JSON format cannot rotate it.`, secretId, 'INVALID_FORMAT');
    if (format === 'keyset') {
      const next = nextKeySet(ctx, secretId, map.active, current, newSecret, token, grace);
      payload = next.document;
      keysetWindow = next.previousNotAfter;
    } else {
      payload = replaceField(
        secretId,
        current.value,
        typeof format.jsonField === 'string' ? [format.jsonField] : format.jsonField,
        newSecret,
      );
    }
  }
  if (format !== 'keyset') {
    // Record the grace before the version exists: the moment it becomes current, readers find its
    // window. The entry of the version that is current now is kept, so its previous's window does
    // not change while the write is under way; older entries are dropped.
    const entries = [`${token}=${grace}`];
    const kept = map.active === undefined ? undefined : map.graces.get(map.active);
    if (map.active !== undefined && kept !== undefined) entries.push(`${map.active}=${kept}`);
    const Value = entries.join(' ');
    await ctx.call(secretId, 'TagResource', signal, (c, sdk, abortSignal) =>
      c.send(new sdk.TagResourceCommand({ SecretId: map.arn, Tags: [{ Key: AWS_PREVIOUS_GRACE_TAG, Value }] }), { abortSignal }),
    );
  }
  await ctx.call(secretId, 'PutSecretValue', signal, (c, sdk, abortSignal) =>
    c.send(
      new sdk.PutSecretValueCommand({
        SecretId: map.arn,
        ClientRequestToken: token,
        ...(typeof payload === 'string' ? { SecretString: payload } : { SecretBinary: payload }),
        ...(labels.active === 'AWSCURRENT' ? {} : { VersionStages: [labels.active] }),
      }),
      { abortSignal },
    ),
  );
  // Read back where the active label is. When a version with this token already exists with this
  // value, the service ignores the PutSecretValue (its documented idempotency) and moves no label:
  // after a rollback, the token's version is AWSPREVIOUS or unlabelled while AWSCURRENT stays put.
  const after = await ctx.describe(secretId, signal);
  if (after.active !== token) {
    throw awsError(
      `AWS secret ${secretId}: ${labels.active} is on version ${after.active ?? '(none)'}, not on ${token}. ` +
        'A version with this idempotency token already held this value, so Secrets Manager ignored the write and moved no label ' +
        `(the rotation with this token was rolled back, or another writer moved ${labels.active}). Nothing changed. ` +
        `Rotate again with a new idempotency token, or move ${labels.active} to ${token} with UpdateSecretVersionStage if that is what you want.`,
      secretId,
      'CONFLICT',
    );
  }
  // Custom labels: the service only drags AWSPREVIOUS along with AWSCURRENT, so move ours by hand.
  if (labels.active !== 'AWSCURRENT' && map.active !== undefined && map.active !== token) {
    const oldActive = map.active;
    await ctx.call(secretId, 'UpdateSecretVersionStage', signal, (c, sdk, abortSignal) =>
      c.send(
        new sdk.UpdateSecretVersionStageCommand({
          SecretId: map.arn,
          VersionStage: labels.previous,
          MoveToVersionId: oldActive,
          ...(map.previous !== undefined && map.previous !== oldActive ? { RemoveFromVersionId: map.previous } : {}),
        }),
        { abortSignal },
      ),
    );
  }
  if (format === 'keyset') {
    await ctx.value(secretId, map.arn, token, signal, false); // warm the cache, like result() does
    return finish({ activeId: token, previousId: map.active, previousNotAfter: map.active === undefined ? undefined : keysetWindow });
  }
  return finish(await result(ctx, secretId, map.arn, token, map.active, grace, signal));
}

/**
 * See {@link AwsSecretsManagerStore.retirePrevious}. Raw and `jsonField` formats: the key id is the
 * VersionId, and the previous label comes off it. Key-set format: the key leaves the current
 * document (a new version written with `PutSecretValue`), then the previous label comes off the
 * version that document replaced (it still holds the key).
 */
export async function retirePreviousVersion(
  ctx: WriteContext,
  secretId: string,
  options: RetirePreviousOptions = {},
): Promise<RetirePreviousResult> {
  const { keyId, signal } = options;
  if (keyId !== undefined && (typeof keyId !== 'string' || keyId.length === 0))
    throw new TypeError('retirePrevious(): `keyId` must be a key id');
  const { labels } = ctx;
  const map = await ctx.describe(secretId, signal);
  if (map.active === undefined)
    throw awsError(`AWS secret ${secretId} has no version labelled ${labels.active}.`, secretId, 'NOT_FOUND', 'NO_CURRENT_VERSION');
  const removeLabel = async (from: string): Promise<void> => {
    await ctx.call(secretId, 'UpdateSecretVersionStage', signal, (c, sdk, abortSignal) =>
      c.send(new sdk.UpdateSecretVersionStageCommand({ SecretId: map.arn, VersionStage: labels.previous, RemoveFromVersionId: from }), {
        abortSignal,
      }),
    );
  };
  const previousId = map.previous !== undefined && map.previous !== map.active ? map.previous : undefined;
  if (ctx.format !== 'keyset') {
    if (keyId === undefined || keyId === previousId) {
      if (previousId === undefined) return { retiredId: undefined };
      await removeLabel(previousId);
      return { retiredId: previousId };
    }
    if (keyId === map.active)
      throw awsError(
        `AWS secret ${secretId}: ${keyId} is the ${labels.active} version; nothing was retired.`,
        secretId,
        'CONFLICT',
        'KEY_CHANGED',
      );
    // Not labelled previous (any more): a retried call that went through, or another key.
    const holder = await ctx.value(secretId, map.arn, keyId, signal, true).catch(() => undefined);
    if (holder !== undefined && previousId === undefined) return { retiredId: keyId };
    throw awsError(
      `AWS secret ${secretId}: the previous version is ${previousId ?? '(none)'}, not ${keyId}; nothing was retired.`,
      secretId,
      'CONFLICT',
      'KEY_CHANGED',
    );
  }
  // Key-set format: previous keys are the current document's `previous` entries.
  const current = (await ctx.value(secretId, map.arn, map.active, signal, false)) as VersionValue;
  const keys = keysOf(ctx.format, secretId, map.active, current);
  const previous = keys.filter((k) => k.role === 'previous');
  const target = keyId === undefined ? previous[0] : previous.find((k) => k.keyId === keyId);
  if (target === undefined) {
    if (keyId === undefined || !keys.some((k) => k.keyId === keyId)) {
      if (keyId === undefined && previousId !== undefined) await removeLabel(previousId);
      return { retiredId: keyId };
    }
    throw awsError(`AWS secret ${secretId}: key ${keyId} is not a previous key; nothing was retired.`, secretId, 'CONFLICT', 'KEY_CHANGED');
  }
  const document = formatKeySet(
    keys
      .filter((k) => k !== target)
      .map((k) => ({
        id: k.keyId as string,
        secret: k.secret as string,
        role: k.role ?? 'active',
        notBefore: k.notBefore,
        notAfter: k.notAfter,
      })),
  );
  const token = randomUUID();
  await ctx.call(secretId, 'PutSecretValue', signal, (c, sdk, abortSignal) =>
    c.send(
      new sdk.PutSecretValueCommand({
        SecretId: map.arn,
        ClientRequestToken: token,
        SecretString: document,
        ...(labels.active === 'AWSCURRENT' ? {} : { VersionStages: [labels.active] }),
      }),
      { abortSignal },
    ),
  );
  // The replaced document still holds the key: it must not verify as the previous version.
  const after = await ctx.describe(secretId, signal);
  if (after.previous !== undefined && after.previous !== after.active) await removeLabel(after.previous);
  return { retiredId: target.keyId };
}

/**
 * A retried key-set rotation: the window of the keys that were active in the previous version,
 * as the current document records it (the current document's entry is the one readers use).
 */
async function keysetResult(
  ctx: WriteContext,
  secretId: string,
  arn: string,
  activeId: string,
  previousId: string | undefined,
  signal: AbortSignal | undefined,
): Promise<RotateResult> {
  const current = (await ctx.value(secretId, arn, activeId, signal, false)) as VersionValue;
  if (previousId === undefined || previousId === activeId) return { activeId, previousId: undefined, previousNotAfter: undefined };
  const previous = await ctx.value(secretId, arn, previousId, signal, true);
  const demoted = new Set(
    (previous === undefined ? [] : keysOf(ctx.format, secretId, previousId, previous))
      .filter((k) => (k.role ?? 'active') === 'active')
      .map((k) => k.keyId),
  );
  const windows = keysOf(ctx.format, secretId, activeId, current)
    .filter((k) => k.role === 'previous' && demoted.has(k.keyId))
    .map((k) => k.notAfter);
  return { activeId, previousId, previousNotAfter: latest(windows) };
}

async function result(
  ctx: WriteContext,
  secretId: string,
  arn: string,
  activeId: string,
  previousId: string | undefined,
  grace: number,
  signal: AbortSignal | undefined,
): Promise<RotateResult> {
  // Read the new version back: it warms the cache and gives the CreatedDate that readers use for the window.
  const created = (await ctx.value(secretId, arn, activeId, signal, false))?.createdAt;
  return {
    activeId,
    previousId,
    previousNotAfter: previousId === undefined || created === undefined || grace === Infinity ? undefined : created + grace,
  };
}

function nextKeySet(
  ctx: WriteContext,
  secretId: string,
  versionId: string,
  current: VersionValue,
  newSecret: string,
  token: string,
  grace: number,
): { document: string; previousNotAfter: number | undefined } {
  const t = ctx.now();
  const keys = keysOf(ctx.format, secretId, versionId, current);
  const newId = `k-${t}-${token.slice(0, 8)}`;
  const next: { id: string; secret: string; role: KeyRole; notBefore?: number | undefined; notAfter?: number | undefined }[] = [
    { id: newId, secret: newSecret, role: 'active' },
  ];
  const demotedWindows: (number | undefined)[] = [];
  for (const k of keys) {
    if (k.notAfter !== undefined && k.notAfter < t) continue; // already out of its window: drop it
    if (k.secret === newSecret) continue;
    const role = k.role ?? 'active';
    if (role === 'pending') continue;
    const notAfter = role === 'active' ? (grace === Infinity ? k.notAfter : Math.min(k.notAfter ?? Infinity, t + grace)) : k.notAfter;
    if (role === 'active') demotedWindows.push(notAfter);
    next.push({ id: k.keyId as string, secret: k.secret as string, role: 'previous', notBefore: k.notBefore, notAfter });
  }
  return { document: formatKeySet(next), previousNotAfter: latest(demotedWindows) };
}

function replaceField(secretId: string, json: string, path: readonly string[], newSecret: string): string {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    throw awsError(`AWS secret ${secretId} is not valid JSON; cannot replace its field.`, secretId, 'INVALID_FORMAT');
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw awsError(`AWS secret ${secretId} is not a JSON object; cannot replace its field.`, secretId, 'INVALID_FORMAT');
  }
  let node = doc as Record<string, unknown>;
  for (const part of path.slice(0, -1)) {
    const child = node[part];
    if (child === null || typeof child !== 'object' || Array.isArray(child)) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = newSecret;
  return JSON.stringify(doc);
}

/** AWS wants 32–64 characters of letters, digits and hyphens; other tokens are hashed into that shape. */
function clientRequestToken(idempotencyToken: string | undefined): string {
  if (idempotencyToken === undefined) return randomUUID();
  if (typeof idempotencyToken !== 'string' || idempotencyToken.length === 0) {
    throw new TypeError('rotate(): `idempotencyToken` must be a non-empty string');
  }
  if (/^[A-Za-z0-9-]{32,64}$/.test(idempotencyToken)) return idempotencyToken;
  return createHash('sha256').update(idempotencyToken).digest('hex');
}
