/**
 * `awsSecretsManagerStore()`: AWS Secrets Manager staging labels as keyturn key roles (wiring: options,
 * the lazily built client, the version-value cache, the load).
 *
 * @module
 */
import type { GetSecretValueCommandOutput, SecretsManagerClient, SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import {
  KeyStoreError,
  type GetVersionsOptions,
  type KeyStore,
  type RetirePreviousOptions,
  type RetirePreviousResult,
  type RotateOptions,
  type RotateResult,
  type SecretVersion,
} from '@keyturn/core';
import { lazy, msOption, versionValueCache } from '@keyturn/core/store-kit';
import { awsCall, awsError, buildClient, loadSdk, STORE_NAME, type AwsSdk } from './client.ts';
import { checkFormat, type AwsSecretFormat } from './formats.ts';
import { assignRoles, labelMapOf, versionsToRead, type LabelMap, type Labels, type VersionValue } from './roles.ts';
import { AWS_PREVIOUS_GRACE_TAG, retirePreviousVersion, rotateSecret, type WriteContext } from './rotate.ts';

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
   * Settings for the client the store builds on first use (never at creation): region, credentials,
   * `maxAttempts`, `requestHandler`, ... The store's defaults — 2 attempts, a 3 s socket and 1 s
   * connection limit per attempt — apply unless set here.
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
  /** Hard limit for one SDK call, retries included, for built and injected clients, in ms. @default 10_000 */
  callTimeoutMs?: number;
  /** Most version values kept in memory (they never change, so they are fetched once per VersionId). @default 1_000 */
  maxCachedVersions?: number;
  /** Clock for key-set windows written by `rotate`, epoch ms. @default Date.now */
  now?: () => number;
}

/** The store: a `KeyStore` whose write side and `dispose` are always there. */
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
  /**
   * Takes the previous label (`labels.previous`) off the previous version (`keyId` = its VersionId,
   * or in the `keyset` format a previous key's id, which leaves the document in a new version).
   * `CONFLICT` when `keyId` is no longer the previous key.
   */
  retirePrevious(secretId: string, options?: RetirePreviousOptions): Promise<RetirePreviousResult>;
  /** Drops cached values and destroys a client the store built (an injected client is left alone). */
  dispose(): void;
}

/** The defaults of {@link AwsSecretsManagerStoreOptions}. Durations in ms. */
export interface AwsStoreDefaults {
  /** Default {@link AwsSecretsManagerStoreOptions.previousGraceMs}: 24 h. */
  readonly previousGraceMs: 86_400_000;
  /** Default {@link AwsSecretsManagerStoreOptions.callTimeoutMs}. */
  readonly callTimeoutMs: 10_000;
  /** Default {@link AwsSecretsManagerStoreOptions.maxCachedVersions}. */
  readonly maxCachedVersions: 1_000;
}

/** Store defaults. Durations in ms. */
export const AWS_STORE_DEFAULTS: AwsStoreDefaults = { previousGraceMs: 86_400_000, callTimeoutMs: 10_000, maxCachedVersions: 1_000 };

const WHERE = 'awsSecretsManagerStore()';

/**
 * Creates a `KeyStore` (from `@keyturn/core`) over AWS Secrets Manager. `secretId` is the secret's name or ARN.
 *
 * Each load costs one `DescribeSecret` (the label map); version values are fetched by `VersionId`
 * once and cached, since a version never changes. `AWSCURRENT` is `active`, `AWSPREVIOUS` is
 * `previous` until the current version's `CreatedDate + previousGraceMs`, and `AWSPENDING` is
 * `pending` when `acceptPending` is set. Creating the store loads no SDK and never touches the network.
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
  const previousGraceMs = msOption(WHERE, 'previousGraceMs', options.previousGraceMs, AWS_STORE_DEFAULTS.previousGraceMs, {
    allowInfinity: true,
  });
  const callTimeoutMs = msOption(WHERE, 'callTimeoutMs', options.callTimeoutMs, AWS_STORE_DEFAULTS.callTimeoutMs, { min: 1 });
  const maxCached = msOption(WHERE, 'maxCachedVersions', options.maxCachedVersions, AWS_STORE_DEFAULTS.maxCachedVersions);
  const acceptPending = options.acceptPending === true;
  const now = options.now ?? Date.now;
  const labels: Labels = {
    active: label(options.labels?.active, 'active', 'AWSCURRENT'),
    previous: label(options.labels?.previous, 'previous', 'AWSPREVIOUS'),
    pending: label(options.labels?.pending, 'pending', 'AWSPENDING'),
  };
  if (new Set(Object.values(labels)).size !== 3) throw new TypeError(`${WHERE}: the three \`labels\` must differ`);
  if (options.client !== undefined && options.clientConfig !== undefined)
    throw new TypeError(`${WHERE}: pass \`client\` or \`clientConfig\`, not both`);
  if (options.client !== undefined && typeof (options.client as { send?: unknown }).send !== 'function') {
    throw new TypeError(`${WHERE}: \`client\` must be a SecretsManagerClient`);
  }

  let built: SecretsManagerClient | undefined;
  const client = lazy(async (): Promise<{ sdk: AwsSdk; client: SecretsManagerClient }> => {
    const sdk = await loadSdk();
    if (options.client !== undefined) return { sdk, client: options.client };
    built = buildClient(sdk, options.clientConfig);
    return { sdk, client: built };
  });
  // Version values never change: cached by secret ARN + VersionId.
  const values = versionValueCache<number | undefined>(maxCached);

  const call: WriteContext['call'] = async (secretId, action, signal, run) => {
    const { sdk, client: c } = await client.get();
    return awsCall(secretId, action, signal, callTimeoutMs, (abortSignal) => run(c, sdk, abortSignal));
  };

  async function describe(secretId: string, signal: AbortSignal | undefined): Promise<LabelMap> {
    const out = await call(secretId, 'DescribeSecret', signal, (c, sdk, abortSignal) =>
      c.send(new sdk.DescribeSecretCommand({ SecretId: secretId }), { abortSignal }),
    );
    if (out.DeletedDate !== undefined) {
      throw awsError(
        `AWS secret ${secretId} is scheduled for deletion; restore it (RestoreSecret) or point the verifier at another secret.`,
        secretId,
        'NOT_FOUND',
        'SecretScheduledForDeletion',
      );
    }
    return labelMapOf(out, secretId, labels, AWS_PREVIOUS_GRACE_TAG);
  }

  /** A version's value, from the cache or `GetSecretValue` by `VersionId`. `undefined` when an optional version has no value. */
  async function value(
    secretId: string,
    arn: string,
    versionId: string,
    signal: AbortSignal | undefined,
    emptyOk: boolean,
  ): Promise<VersionValue | undefined> {
    const key = `${arn}\u0000${versionId}`;
    const cached = values.get(key);
    if (cached !== undefined) return { value: cached.value, createdAt: cached.meta };
    let out: GetSecretValueCommandOutput;
    try {
      out = await call(secretId, 'GetSecretValue', signal, (c, sdk, abortSignal) =>
        c.send(new sdk.GetSecretValueCommand({ SecretId: arn, VersionId: versionId }), { abortSignal }),
      );
    } catch (err) {
      // AWSPENDING on an empty version (a rotation whose createSecret step failed) reads as not found.
      if (emptyOk && err instanceof KeyStoreError && err.reason === 'NOT_FOUND') return undefined;
      throw err;
    }
    const v = out.SecretString ?? out.SecretBinary;
    if (v === undefined) {
      if (emptyOk) return undefined;
      throw awsError(`AWS secret ${secretId} version ${versionId} has no value.`, secretId, 'INVALID_FORMAT', 'EMPTY_VERSION');
    }
    const entry: VersionValue = { value: typeof v === 'string' ? v : new Uint8Array(v), createdAt: out.CreatedDate?.getTime() };
    values.set(key, entry.value, entry.createdAt);
    return entry;
  }

  async function getVersions(secretId: string, opts: GetVersionsOptions): Promise<SecretVersion[]> {
    checkSecretId(secretId);
    const signal = opts?.signal;
    const map = await describe(secretId, signal);
    if (map.active === undefined)
      throw awsError(`AWS secret ${secretId} has no version labelled ${labels.active}.`, secretId, 'NOT_FOUND', 'NO_CURRENT_VERSION');
    const { previousId, pendingId } = versionsToRead(map, acceptPending);
    const [current, previous, pending] = await Promise.all([
      value(secretId, map.arn, map.active, signal, false),
      previousId === undefined ? undefined : value(secretId, map.arn, previousId, signal, true),
      pendingId === undefined ? undefined : value(secretId, map.arn, pendingId, signal, true),
    ]);
    return assignRoles({
      secretId,
      format,
      map,
      current: current as VersionValue,
      previous: previousId === undefined || previous === undefined ? undefined : { id: previousId, value: previous },
      pending: pendingId === undefined || pending === undefined ? undefined : { id: pendingId, value: pending },
      previousGraceMs,
    });
  }

  const ctx: WriteContext = { call, describe, value, format, labels, previousGraceMs, now };
  return {
    name: STORE_NAME,
    getVersions,
    rotate: async (secretId, newSecret, rotateOptions) => rotateSecret(ctx, checkSecretId(secretId), newSecret, rotateOptions),
    retirePrevious: async (secretId, retireOptions) => retirePreviousVersion(ctx, checkSecretId(secretId), retireOptions),
    dispose() {
      values.clear();
      built?.destroy();
      built = undefined;
      if (options.client === undefined) client.reset();
    },
  };
}

function checkSecretId(secretId: unknown): string {
  if (typeof secretId !== 'string' || secretId.length === 0 || secretId.length > 2048) {
    throw awsError(
      'AWS secret id must be a non-empty secret name or ARN.',
      typeof secretId === 'string' ? secretId.slice(0, 100) : '',
      'INVALID_CONFIG',
      'INVALID_SECRET_ID',
    );
  }
  return secretId;
}

function label(v: string | undefined, role: string, fallback: string): string {
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !/^[A-Za-z0-9_.:/+=@-]{1,256}$/.test(v))
    throw new TypeError(`${WHERE}: \`labels.${role}\` must be a staging label name`);
  return v;
}
