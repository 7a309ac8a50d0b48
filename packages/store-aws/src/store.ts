/**
 * `awsSecretsManagerStore()`: AWS Secrets Manager staging labels as keyturn key roles.
 *
 * @module
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClientConfig,
} from '@aws-sdk/client-secrets-manager';
import { KeyStoreError, type GetVersionsOptions, type KeyRole, type KeyStore, type RotateOptions, type RotateResult, type SecretVersion } from '@keyturn/core';
import { STORE_NAME, storeError, toKeyStoreError } from './errors.ts';
import { checkFormat, FormatProblem, formatKeySet, parseValue, type AwsSecretFormat, type ParsedKey } from './formats.ts';

/** Staging label names that map to key roles. */
export interface AwsStageLabels {
  /** Label of the version that signs now. @default 'AWSCURRENT' */
  readonly active?: string;
  /** Label of the version being retired. @default 'AWSPREVIOUS' */
  readonly previous?: string;
  /** Label of the version being rolled out (read only with `acceptPending`). @default 'AWSPENDING' */
  readonly pending?: string;
}

/** Options of {@link awsSecretsManagerStore}. */
export interface AwsSecretsManagerStoreOptions {
  /**
   * A client to use as is. Its own retry and timeout settings apply; the store still bounds every
   * call with `callTimeoutMs` and the verifier's abort signal.
   */
  client?: SecretsManagerClient;
  /**
   * Settings for the client the store builds on first use (never at creation). The store's defaults
   * (`maxAttempts`, `requestHandler` timeouts) apply unless set here.
   */
  clientConfig?: SecretsManagerClientConfig;
  /**
   * How long the `AWSPREVIOUS` version keeps verifying after the current version was created, in ms.
   * `Infinity` keeps it as long as it holds the label. Windows recorded by `rotate()` (the
   * {@link AWS_PREVIOUS_GRACE_TAG} tag) and explicit windows in a key-set document win: this is the
   * window for versions something else made current (a rotation Lambda, the console).
   * @default 86_400_000 (24 h)
   */
  previousGraceMs?: number;
  /** Also accept the `AWSPENDING` version (a sender may sign with it before the rotation's finish step). @default false */
  acceptPending?: boolean;
  /** Staging label names. */
  labels?: AwsStageLabels;
  /** How a version's value is read. @default 'raw' */
  format?: AwsSecretFormat;
  /** Attempts per call of the client the store builds (the first try included). @default 2 */
  maxAttempts?: number;
  /** Socket inactivity limit per attempt of the client the store builds, in ms. @default 3_000 */
  requestTimeoutMs?: number;
  /** Connection set-up limit per attempt of the client the store builds, in ms. @default 1_000 */
  connectionTimeoutMs?: number;
  /** Hard limit for one SDK call, retries included, for built and injected clients, in ms. @default 10_000 */
  callTimeoutMs?: number;
  /** Most version values kept in memory (they never change, so they are fetched once per VersionId). @default 1_000 */
  maxCachedVersions?: number;
  /** Clock for key-set windows written by `rotate`, epoch ms. @default Date.now */
  now?: () => number;
}

/**
 * The secret tag in which `rotate()` records, per new `VersionId`, the grace it was asked for:
 * `<VersionId>=<ms>` entries separated by spaces (`Infinity` for no end). Readers give the
 * `AWSPREVIOUS` version `CreatedDate(AWSCURRENT) + <ms>` when the tag names the current version,
 * so the window `rotate()` reports is the one every reader enforces, whatever their own
 * `previousGraceMs`. `DescribeSecret` returns tags, so reading it costs no extra call.
 */
export const AWS_PREVIOUS_GRACE_TAG = 'keyturn:previous-grace-ms';

/** The store: a `KeyStore` whose `rotate` and `dispose` are always there. */
export interface AwsSecretsManagerStore extends KeyStore {
  /**
   * Writes `newSecret` as the new active version with `PutSecretValue` and an idempotency
   * `ClientRequestToken`. In the `raw` and `jsonField` formats it first records the grace (the
   * call's `previousGraceMs`, else the store's) in the {@link AWS_PREVIOUS_GRACE_TAG} tag keyed by
   * the new `VersionId`; in the `keyset` format the window goes into the document. The reported
   * `previousNotAfter` is exactly the window readers then enforce; when there is none
   * (`previousGraceMs: Infinity`) the result has `previousUnbounded: true` and a warning, since the
   * previous version then verifies for as long as it holds its label.
   *
   * After the write it reads the labels back: when a version with this token already held this
   * value, Secrets Manager ignores the write and moves no label (a rotation with the same token that
   * was rolled back), and `rotate()` throws a terminal `KeyStoreError` with reason `CONFLICT` instead
   * of reporting a rotation that did not happen.
   */
  rotate(secretId: string, newSecret: string | Uint8Array, options?: RotateOptions): Promise<RotateResult>;
  /** Drops cached values and destroys a client the store built (an injected client is left alone). */
  dispose(): void;
}

/** The defaults of {@link AwsSecretsManagerStoreOptions}. Durations in ms. */
export interface AwsStoreDefaults {
  /** Default {@link AwsSecretsManagerStoreOptions.previousGraceMs}: 24 h. */
  readonly previousGraceMs: 86_400_000;
  /** Default {@link AwsSecretsManagerStoreOptions.maxAttempts}. */
  readonly maxAttempts: 2;
  /** Default {@link AwsSecretsManagerStoreOptions.requestTimeoutMs}. */
  readonly requestTimeoutMs: 3_000;
  /** Default {@link AwsSecretsManagerStoreOptions.connectionTimeoutMs}. */
  readonly connectionTimeoutMs: 1_000;
  /** Default {@link AwsSecretsManagerStoreOptions.callTimeoutMs}. */
  readonly callTimeoutMs: 10_000;
  /** Default {@link AwsSecretsManagerStoreOptions.maxCachedVersions}. */
  readonly maxCachedVersions: 1_000;
}

/** Store defaults. Durations in ms. */
export const AWS_STORE_DEFAULTS: AwsStoreDefaults = {
  previousGraceMs: 86_400_000,
  maxAttempts: 2,
  requestTimeoutMs: 3_000,
  connectionTimeoutMs: 1_000,
  callTimeoutMs: 10_000,
  maxCachedVersions: 1_000,
};

interface CachedValue {
  readonly value: string | Uint8Array;
  readonly createdAt: number | undefined;
}

interface LabelMap {
  readonly arn: string;
  readonly active: string | undefined;
  readonly previous: string | undefined;
  readonly pending: string | undefined;
  /** Graces recorded by `rotate()`, by the VersionId that became current. */
  readonly graces: ReadonlyMap<string, number>;
}

const ROLE_RANK: Record<KeyRole, number> = { active: 0, pending: 1, previous: 2 };

/**
 * Creates a `KeyStore` (from `@keyturn/core`) over AWS Secrets Manager. `secretId` is the secret's name or ARN.
 *
 * Each load costs one `DescribeSecret` (the label map); version values are fetched by `VersionId`
 * once and cached, since a version never changes. `AWSCURRENT` is `active`, `AWSPREVIOUS` is
 * `previous` until the current version's `CreatedDate + previousGraceMs`, and `AWSPENDING` is
 * `pending` when `acceptPending` is set. Creating the store never touches the network.
 *
 * @example Smartcar's AMT in Secrets Manager
 * ```ts
 * import { createVerifier, providers } from '@keyturn/core';
 * import { awsSecretsManagerStore } from '@keyturn/store-aws';
 *
 * const verifier = createVerifier({
 *   provider: providers.smartcar(),
 *   keys: awsSecretsManagerStore({ clientConfig: { region: 'eu-west-1' }, previousGraceMs: 3 * 86_400_000 }),
 *   secretId: 'prod/webhooks/smartcar-amt',
 * });
 * ```
 */
export function awsSecretsManagerStore(options: AwsSecretsManagerStoreOptions = {}): AwsSecretsManagerStore {
  const format = checkFormat(options.format);
  const previousGraceMs = nonNegative(options.previousGraceMs, 'previousGraceMs', AWS_STORE_DEFAULTS.previousGraceMs, true);
  const maxAttempts = nonNegative(options.maxAttempts, 'maxAttempts', AWS_STORE_DEFAULTS.maxAttempts);
  if (maxAttempts < 1 || !Number.isInteger(maxAttempts)) throw new TypeError('awsSecretsManagerStore(): `maxAttempts` must be an integer ≥ 1');
  const requestTimeoutMs = nonNegative(options.requestTimeoutMs, 'requestTimeoutMs', AWS_STORE_DEFAULTS.requestTimeoutMs);
  const connectionTimeoutMs = nonNegative(options.connectionTimeoutMs, 'connectionTimeoutMs', AWS_STORE_DEFAULTS.connectionTimeoutMs);
  const callTimeoutMs = nonNegative(options.callTimeoutMs, 'callTimeoutMs', AWS_STORE_DEFAULTS.callTimeoutMs);
  const maxCached = nonNegative(options.maxCachedVersions, 'maxCachedVersions', AWS_STORE_DEFAULTS.maxCachedVersions);
  const acceptPending = options.acceptPending === true;
  const now = options.now ?? Date.now;
  const labels = {
    active: label(options.labels?.active, 'active', 'AWSCURRENT'),
    previous: label(options.labels?.previous, 'previous', 'AWSPREVIOUS'),
    pending: label(options.labels?.pending, 'pending', 'AWSPENDING'),
  };
  if (new Set(Object.values(labels)).size !== 3) throw new TypeError('awsSecretsManagerStore(): the three `labels` must differ');
  if (options.client !== undefined && options.clientConfig !== undefined) {
    throw new TypeError('awsSecretsManagerStore(): pass `client` or `clientConfig`, not both');
  }
  if (options.client !== undefined && typeof (options.client as { send?: unknown }).send !== 'function') {
    throw new TypeError('awsSecretsManagerStore(): `client` must be a SecretsManagerClient');
  }

  let client: SecretsManagerClient | undefined = options.client;
  let ownsClient = false;
  const getClient = (): SecretsManagerClient => {
    if (client === undefined) {
      client = new SecretsManagerClient({
        maxAttempts,
        requestHandler: { requestTimeout: requestTimeoutMs, connectionTimeout: connectionTimeoutMs, throwOnRequestTimeout: true },
        ...definedOnly(options.clientConfig ?? {}),
      });
      ownsClient = true;
    }
    return client;
  };

  // Version values never change: cache them by secret ARN + VersionId (Map order = LRU order).
  const values = new Map<string, CachedValue>();
  const remember = (key: string, v: CachedValue): void => {
    if (maxCached === 0) return;
    values.delete(key);
    values.set(key, v);
    while (values.size > maxCached) values.delete(values.keys().next().value as string);
  };
  const recall = (key: string): CachedValue | undefined => {
    const v = values.get(key);
    if (v !== undefined) {
      values.delete(key);
      values.set(key, v);
    }
    return v;
  };

  async function call<T>(secretId: string, action: string, signal: AbortSignal | undefined, run: (c: SecretsManagerClient, abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    if (signal?.aborted) throw aborted(secretId, signal);
    const deadline = AbortSignal.timeout(callTimeoutMs);
    const combined = signal === undefined ? deadline : anySignal(signal, deadline);
    try {
      return await run(getClient(), combined);
    } catch (err) {
      if (signal?.aborted) throw aborted(secretId, signal);
      if (deadline.aborted) {
        throw new KeyStoreError(`AWS Secrets Manager ${action} for ${secretId} took longer than ${callTimeoutMs} ms.`, {
          retryable: true,
          store: STORE_NAME,
          secretId,
          reason: 'TIMEOUT',
        });
      }
      throw toKeyStoreError(err, secretId, action);
    }
  }

  async function describe(secretId: string, signal: AbortSignal | undefined): Promise<LabelMap> {
    const out = await call(secretId, 'DescribeSecret', signal, (c, abortSignal) => c.send(new DescribeSecretCommand({ SecretId: secretId }), { abortSignal }));
    if (out.DeletedDate !== undefined) {
      throw storeError(`AWS secret ${secretId} is scheduled for deletion; restore it (RestoreSecret) or point the verifier at another secret.`, secretId, 'SecretScheduledForDeletion');
    }
    const holders: Record<string, string> = {};
    for (const [versionId, stages] of Object.entries(out.VersionIdsToStages ?? {})) {
      for (const stage of stages ?? []) holders[stage] = versionId;
    }
    const tag = out.Tags?.find((t) => t.Key === AWS_PREVIOUS_GRACE_TAG)?.Value;
    return {
      arn: out.ARN ?? secretId,
      active: holders[labels.active],
      previous: holders[labels.previous],
      pending: holders[labels.pending],
      graces: parseGraces(tag),
    };
  }

  /** The grace readers give the previous version while `activeId` is current. */
  function graceFor(map: LabelMap, activeId: string | undefined): number {
    return (activeId === undefined ? undefined : map.graces.get(activeId)) ?? previousGraceMs;
  }

  /** A version's value, from the cache or `GetSecretValue` by `VersionId`. `undefined` when the version has no value. */
  async function value(secretId: string, arn: string, versionId: string, signal: AbortSignal | undefined, emptyOk: boolean): Promise<CachedValue | undefined> {
    const key = `${arn}\u0000${versionId}`;
    const cached = recall(key);
    if (cached !== undefined) return cached;
    let out;
    try {
      out = await call(secretId, 'GetSecretValue', signal, (c, abortSignal) =>
        c.send(new GetSecretValueCommand({ SecretId: arn, VersionId: versionId }), { abortSignal }),
      );
    } catch (err) {
      // AWSPENDING on an empty version (a rotation whose createSecret step failed) reads as not found.
      if (emptyOk && err instanceof KeyStoreError && err.reason === 'ResourceNotFoundException') return undefined;
      throw err;
    }
    const v = out.SecretString ?? out.SecretBinary;
    if (v === undefined) {
      if (emptyOk) return undefined;
      throw storeError(`AWS secret ${secretId} version ${versionId} has no value.`, secretId, 'EMPTY_VERSION');
    }
    const entry: CachedValue = { value: typeof v === 'string' ? v : new Uint8Array(v), createdAt: out.CreatedDate?.getTime() };
    remember(key, entry);
    return entry;
  }

  function keysOf(secretId: string, versionId: string, v: CachedValue): ParsedKey[] {
    try {
      return parseValue(format, v.value);
    } catch (err) {
      if (err instanceof FormatProblem) {
        throw storeError(`AWS secret ${secretId} version ${versionId} does not fit the store's format: ${err.message}.`, secretId, 'INVALID_FORMAT');
      }
      throw err;
    }
  }

  async function getVersions(secretId: string, opts: GetVersionsOptions): Promise<SecretVersion[]> {
    checkSecretId(secretId);
    const signal = opts?.signal;
    const map = await describe(secretId, signal);
    if (map.active === undefined) {
      throw storeError(`AWS secret ${secretId} has no version labelled ${labels.active}.`, secretId, 'NO_CURRENT_VERSION');
    }
    const previousId = map.previous !== undefined && map.previous !== map.active ? map.previous : undefined;
    const pendingId = acceptPending && map.pending !== undefined && map.pending !== map.active ? map.pending : undefined;
    const [current, previous, pending] = await Promise.all([
      value(secretId, map.arn, map.active, signal, false),
      previousId === undefined ? undefined : value(secretId, map.arn, previousId, signal, true),
      pendingId === undefined ? undefined : value(secretId, map.arn, pendingId, signal, true),
    ]);
    const grace = graceFor(map, map.active);
    const graceEnd = grace === Infinity || current?.createdAt === undefined ? undefined : current.createdAt + grace;

    const out: SecretVersion[] = [];
    const add = (versionId: string, v: CachedValue, cap: KeyRole, defaultNotAfter: number | undefined): void => {
      for (const k of keysOf(secretId, versionId, v)) {
        const role = weaker(k.role ?? 'active', cap);
        out.push({
          id: k.keyId ?? versionId,
          // Bytes are copied: the cached value must not change if a caller writes into the array.
          secret: typeof k.secret === 'string' ? k.secret : new Uint8Array(k.secret),
          role,
          notBefore: k.notBefore,
          notAfter: k.notAfter ?? (role === 'previous' && cap === 'previous' ? defaultNotAfter : undefined),
          // Remember where a key-set key came from, to disambiguate clashing ids below.
          ...(k.keyId !== undefined ? { [SOURCE]: versionId } : {}),
        });
      }
    };
    add(map.active, current as CachedValue, 'active', undefined);
    if (pendingId !== undefined && pending !== undefined) add(pendingId, pending, 'pending', undefined);
    if (previousId !== undefined && previous !== undefined) add(previousId, previous, 'previous', graceEnd);
    return dedupe(out);
  }

  async function rotate(secretId: string, newSecret: string | Uint8Array, rotateOptions: RotateOptions = {}): Promise<RotateResult> {
    checkSecretId(secretId);
    if (typeof newSecret !== 'string' && !(newSecret instanceof Uint8Array)) {
      throw new TypeError('rotate(): `newSecret` must be a string or bytes');
    }
    if (newSecret.length === 0) throw new TypeError('rotate(): `newSecret` is empty');
    const grace = nonNegative(rotateOptions.previousGraceMs, 'previousGraceMs', previousGraceMs, true);
    const token = clientRequestToken(rotateOptions.idempotencyToken);
    const signal = rotateOptions.signal;

    const map = await describe(secretId, signal);
    if (map.active === token) {
      // A retried rotate() whose first call went through: report what readers enforce, write nothing.
      if (format === 'keyset') return finish(await keysetResult(secretId, map.arn, token, map.previous, signal));
      return finish(await result(secretId, map.arn, token, map.previous, graceFor(map, token), signal));
    }
    let payload: string | Uint8Array = newSecret;
    let keysetWindow: number | undefined;
    if (format !== 'raw') {
      if (typeof newSecret !== 'string') throw new TypeError("rotate(): JSON formats need a string `newSecret`");
      if (map.active === undefined) throw storeError(`AWS secret ${secretId} has no ${labels.active} version to rotate from.`, secretId, 'NO_CURRENT_VERSION');
      const current = (await value(secretId, map.arn, map.active, signal, false)) as CachedValue;
      if (typeof current.value !== 'string') throw storeError(`AWS secret ${secretId} holds SecretBinary; a JSON format cannot rotate it.`, secretId, 'INVALID_FORMAT');
      if (format === 'keyset') {
        const next = nextKeySet(secretId, map.active, current, newSecret, token, grace);
        payload = next.document;
        keysetWindow = next.previousNotAfter;
      } else {
        payload = replaceField(secretId, current.value, typeof format.jsonField === 'string' ? [format.jsonField] : format.jsonField, newSecret);
      }
    }
    if (format !== 'keyset') {
      // Record the grace before the version exists: the moment it becomes current, readers find its
      // window. The entry of the version that is current now is kept, so its previous's window does
      // not change while the write is under way; older entries are dropped.
      const entries = [`${token}=${grace}`];
      const kept = map.active === undefined ? undefined : map.graces.get(map.active);
      if (map.active !== undefined && kept !== undefined) entries.push(`${map.active}=${kept}`);
      const tagValue = entries.join(' ');
      await call(secretId, 'TagResource', signal, (c, abortSignal) =>
        c.send(new TagResourceCommand({ SecretId: map.arn, Tags: [{ Key: AWS_PREVIOUS_GRACE_TAG, Value: tagValue }] }), { abortSignal }),
      );
    }
    await call(secretId, 'PutSecretValue', signal, (c, abortSignal) =>
      c.send(
        new PutSecretValueCommand({
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
    const after = await describe(secretId, signal);
    if (after.active !== token) {
      throw storeError(
        `AWS secret ${secretId}: ${labels.active} is on version ${after.active ?? '(none)'}, not on ${token}. ` +
          `A version with this idempotency token already held this value, so Secrets Manager ignored the write and moved no label ` +
          `(the rotation with this token was rolled back, or another writer moved ${labels.active}). Nothing changed. ` +
          `Rotate again with a new idempotency token, or move ${labels.active} to ${token} with UpdateSecretVersionStage if that is what you want.`,
        secretId,
        'CONFLICT',
      );
    }
    // Custom labels: the service only drags AWSPREVIOUS along with AWSCURRENT, so move ours by hand.
    if (labels.active !== 'AWSCURRENT' && map.active !== undefined && map.active !== token) {
      const oldActive = map.active;
      await call(secretId, 'UpdateSecretVersionStage', signal, (c, abortSignal) =>
        c.send(
          new UpdateSecretVersionStageCommand({
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
      await value(secretId, map.arn, token, signal, false); // warm the cache, like result() does
      return finish({ activeId: token, previousId: map.active, previousNotAfter: map.active === undefined ? undefined : keysetWindow });
    }
    return finish(await result(secretId, map.arn, token, map.active, grace, signal));
  }

  /** Says whether the previous version was left without a window end (it then verifies until removed). */
  function finish(r: RotateResult): RotateResult {
    if (r.previousId === undefined || r.previousNotAfter !== undefined) return { ...r, previousUnbounded: false, warnings: [] };
    return {
      ...r,
      previousUnbounded: true,
      warnings: [
        `the previous version ${r.previousId} has no window end: it stays accepted while it holds ${labels.previous}. ` +
          `Remove the label (UpdateSecretVersionStage with RemoveFromVersionId, or \`keyturn keys retire\`) once no sender uses it, or rotate with a finite previousGraceMs.`,
      ],
    };
  }

  /**
   * A retried key-set rotation: the window of the keys that were active in the previous version,
   * as the current document records it (the current document's entry is the one readers use).
   */
  async function keysetResult(secretId: string, arn: string, activeId: string, previousId: string | undefined, signal: AbortSignal | undefined): Promise<RotateResult> {
    const current = (await value(secretId, arn, activeId, signal, false)) as CachedValue;
    if (previousId === undefined || previousId === activeId) return { activeId, previousId: undefined, previousNotAfter: undefined };
    const previous = await value(secretId, arn, previousId, signal, true);
    const demoted = new Set((previous === undefined ? [] : keysOf(secretId, previousId, previous)).filter((k) => (k.role ?? 'active') === 'active').map((k) => k.keyId));
    const windows = keysOf(secretId, activeId, current).filter((k) => k.role === 'previous' && demoted.has(k.keyId)).map((k) => k.notAfter);
    return { activeId, previousId, previousNotAfter: latest(windows) };
  }

  async function result(secretId: string, arn: string, activeId: string, previousId: string | undefined, grace: number, signal: AbortSignal | undefined): Promise<RotateResult> {
    // Read the new version back: it warms the cache and gives the CreatedDate that readers use for the window.
    const created = (await value(secretId, arn, activeId, signal, false))?.createdAt;
    return {
      activeId,
      previousId,
      previousNotAfter: previousId === undefined || created === undefined || grace === Infinity ? undefined : created + grace,
    };
  }

  function nextKeySet(secretId: string, versionId: string, current: CachedValue, newSecret: string, token: string, grace: number): { document: string; previousNotAfter: number | undefined } {
    const t = now();
    const keys = keysOf(secretId, versionId, current);
    const newId = `k-${t}-${token.slice(0, 8)}`;
    const next: { id: string; secret: string; role: KeyRole; notBefore?: number | undefined; notAfter?: number | undefined }[] = [{ id: newId, secret: newSecret, role: 'active' }];
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

  return {
    name: STORE_NAME,
    getVersions,
    rotate,
    dispose() {
      values.clear();
      if (ownsClient) client?.destroy();
      if (ownsClient) client = undefined;
    },
  };
}

const SOURCE = Symbol('source-version');

/** The end of the last window; `undefined` when there is none or one is open-ended. */
function latest(windows: readonly (number | undefined)[]): number | undefined {
  if (windows.length === 0 || windows.some((w) => w === undefined)) return undefined;
  return Math.max(...(windows as number[]));
}

/** Reads the {@link AWS_PREVIOUS_GRACE_TAG} value; malformed entries are ignored. */
function parseGraces(tag: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const entry of (tag ?? '').split(' ')) {
    const m = /^([A-Za-z0-9-]{1,64})=(\d{1,16}|Infinity)$/.exec(entry);
    if (m !== null) out.set(m[1] as string, m[2] === 'Infinity' ? Infinity : Number(m[2]));
  }
  return out;
}

/** Keeps one entry per id; a clashing key-set id from another version gets `<VersionId>:<id>`. */
function dedupe(versions: SecretVersion[]): SecretVersion[] {
  versions.sort((a, b) => ROLE_RANK[a.role] - ROLE_RANK[b.role]);
  const byId = new Map<string, SecretVersion>();
  const out: SecretVersion[] = [];
  for (const v of versions) {
    const seen = byId.get(v.id);
    const clean: SecretVersion = { id: v.id, secret: v.secret, role: v.role, notBefore: v.notBefore, notAfter: v.notAfter };
    if (seen === undefined) {
      byId.set(v.id, clean);
      out.push(clean);
      continue;
    }
    if (sameSecret(seen.secret, v.secret)) continue; // the same key carried into the next version: keep the stronger role
    const source = (v as unknown as Record<symbol, string | undefined>)[SOURCE];
    const id = `${source ?? 'version'}:${v.id}`;
    if (byId.has(id)) continue;
    const renamed = { ...clean, id };
    byId.set(id, renamed);
    out.push(renamed);
  }
  return out;
}

/** `AbortSignal.any` (Node ≥ 20.3), with a fallback for runtimes without it. */
function anySignal(a: AbortSignal, b: AbortSignal): AbortSignal {
  if (typeof AbortSignal.any === 'function') return AbortSignal.any([a, b]);
  const controller = new AbortController();
  const forward = (s: AbortSignal) => () => controller.abort(s.reason);
  for (const s of [a, b]) {
    if (s.aborted) controller.abort(s.reason);
    else s.addEventListener('abort', forward(s), { once: true, signal: controller.signal });
  }
  return controller.signal;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function sameSecret(a: string | Uint8Array, b: string | Uint8Array): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function weaker(a: KeyRole, b: KeyRole): KeyRole {
  return ROLE_RANK[a] >= ROLE_RANK[b] ? a : b;
}

function replaceField(secretId: string, json: string, path: readonly string[], newSecret: string): string {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    throw storeError(`AWS secret ${secretId} is not valid JSON; cannot replace its field.`, secretId, 'INVALID_FORMAT');
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw storeError(`AWS secret ${secretId} is not a JSON object; cannot replace its field.`, secretId, 'INVALID_FORMAT');
  }
  let node = doc as Record<string, unknown>;
  for (const part of path.slice(0, -1)) {
    const child = node[part];
    if (child === null || typeof child !== 'object' || Array.isArray(child)) {
      node[part] = {};
    }
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

function aborted(secretId: string, signal: AbortSignal): KeyStoreError {
  return new KeyStoreError(`AWS Secrets Manager call for ${secretId} was aborted.`, {
    retryable: true,
    store: STORE_NAME,
    secretId,
    reason: 'ABORTED',
    cause: signal.reason,
  });
}

function checkSecretId(secretId: unknown): void {
  if (typeof secretId !== 'string' || secretId.length === 0 || secretId.length > 2048) {
    throw new KeyStoreError('AWS secret id must be a non-empty secret name or ARN.', {
      retryable: false,
      store: STORE_NAME,
      secretId: typeof secretId === 'string' ? secretId.slice(0, 100) : undefined,
      reason: 'INVALID_SECRET_ID',
    });
  }
}

function nonNegative(v: number | undefined, name: string, fallback: number, allowInfinity = false): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0 || (!allowInfinity && !Number.isFinite(v))) {
    throw new TypeError(`awsSecretsManagerStore(): \`${name}\` must be a non-negative number of ms`);
  }
  return v;
}

function label(v: string | undefined, role: string, fallback: string): string {
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !/^[A-Za-z0-9_.:/+=@-]{1,256}$/.test(v)) {
    throw new TypeError(`awsSecretsManagerStore(): \`labels.${role}\` must be a staging label name`);
  }
  return v;
}
