/**
 * The in-memory Secrets Manager model behind the test server: secrets, versions, staging labels
 * and the label rules of the real service.
 *
 * @module
 */
import { randomBytes, randomUUID } from 'node:crypto';

/** A Secrets Manager error as the wire shows it (`__type` + message + HTTP status). */
export class AwsServiceError extends Error {
  /** The `__type` the server answers with, e.g. `ResourceNotFoundException`. */
  readonly type: string;
  /** HTTP status. */
  readonly status: number;

  constructor(type: string, message: string, status = 400) {
    super(message);
    this.name = 'AwsServiceError';
    this.type = type;
    this.status = status;
  }
}

/** One version of a secret in the model. */
export interface ModelVersion {
  /** The version id (the `ClientRequestToken` that created it). */
  readonly versionId: string;
  /** Text value, if the version holds one. */
  secretString: string | undefined;
  /** Binary value, if the version holds one. */
  secretBinary: Uint8Array | undefined;
  /** Epoch ms the version was created. */
  readonly createdDate: number;
  /** Staging labels on this version; an empty set means deprecated. */
  readonly stages: Set<string>;
}

/** One secret in the model. */
export interface ModelSecret {
  /** Full ARN. */
  readonly arn: string;
  /** Friendly name. */
  readonly name: string;
  /** Epoch ms the secret was created. */
  readonly createdDate: number;
  /** Epoch ms the secret was last changed. */
  lastChangedDate: number;
  /** Epoch ms the secret was scheduled for deletion, if it is. */
  deletedDate: number | undefined;
  /** Epoch ms the scheduled deletion happens, if scheduled. */
  deletionDate: number | undefined;
  /** Versions, oldest first. */
  readonly versions: Map<string, ModelVersion>;
  /** Resource tags (`TagResource` / `UntagResource`), key → value, as `DescribeSecret` shows them. */
  readonly tags: Map<string, string>;
}

/** A value to store: text or bytes. */
export type ModelValue = ModelStringValue | ModelBinaryValue;

/** A `SecretString` value. */
export interface ModelStringValue {
  /** The text. */
  secretString: string;
  /** Absent: a version holds text or bytes, not both. */
  secretBinary?: undefined;
}

/** A `SecretBinary` value. */
export interface ModelBinaryValue {
  /** The bytes. */
  secretBinary: Uint8Array;
  /** Absent: a version holds text or bytes, not both. */
  secretString?: undefined;
}

/** What {@link SecretsManagerModel.createSecret} returns. */
export interface CreatedModelSecret {
  /** The new secret. */
  secret: ModelSecret;
  /** Its first version, when created with a value. */
  version?: ModelVersion;
}

/** What {@link SecretsManagerModel.putValue} returns. */
export interface PutValueResult {
  /** The version holding the value. */
  version: ModelVersion;
  /** `false` when an existing version with the same token and value was returned. */
  created: boolean;
}

const TOKEN_RE = /^[a-zA-Z0-9-]{32,64}$/;
const TAG_RE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

/** Secrets, versions and label rules, following the Secrets Manager API reference. */
export class SecretsManagerModel {
  readonly #secrets = new Map<string, ModelSecret>();

  /** Region used in ARNs. */
  readonly region: string;
  /** Account id used in ARNs. */
  readonly accountId: string;
  readonly #now: () => number;

  /**
   * @param region Region used in ARNs.
   * @param accountId Account id used in ARNs.
   * @param now Clock for `CreatedDate` and friends, epoch ms.
   */
  constructor(region: string, accountId: string, now: () => number) {
    this.region = region;
    this.accountId = accountId;
    this.#now = now;
  }

  /** Every secret, including ones scheduled for deletion. */
  secrets(): ModelSecret[] {
    return [...this.#secrets.values()];
  }

  /** Finds a secret by name or full ARN (ignores deletion state). */
  find(secretId: unknown): ModelSecret {
    if (typeof secretId !== 'string' || secretId.length === 0) {
      throw new AwsServiceError('InvalidParameterException', 'SecretId is required.');
    }
    const byName = this.#secrets.get(secretId);
    if (byName !== undefined) return byName;
    for (const s of this.#secrets.values()) if (s.arn === secretId) return s;
    throw new AwsServiceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
  }

  /** Like {@link find}, but a secret scheduled for deletion is an `InvalidRequestException`. */
  live(secretId: unknown): ModelSecret {
    const s = this.find(secretId);
    if (s.deletedDate !== undefined) {
      throw new AwsServiceError(
        'InvalidRequestException',
        "You can't perform this operation on the secret because it was marked for deletion.",
      );
    }
    return s;
  }

  /** CreateSecret. With a value, the first version gets `AWSCURRENT`. */
  createSecret(name: string, value: ModelValue | undefined, clientRequestToken?: string): CreatedModelSecret {
    if (typeof name !== 'string' || !/^[a-zA-Z0-9/_+=.@-]{1,512}$/.test(name)) {
      throw new AwsServiceError(
        'InvalidParameterException',
        'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!',
      );
    }
    if (this.#secrets.has(name)) {
      throw new AwsServiceError('ResourceExistsException', `The operation failed because the secret ${name} already exists.`);
    }
    const t = this.#now();
    const secret: ModelSecret = {
      arn: `arn:aws:secretsmanager:${this.region}:${this.accountId}:secret:${name}-${randomBytes(3).toString('hex')}`,
      name,
      createdDate: t,
      lastChangedDate: t,
      deletedDate: undefined,
      deletionDate: undefined,
      versions: new Map(),
      tags: new Map(),
    };
    this.#secrets.set(name, secret);
    if (value === undefined) return { secret };
    const version = this.putValue(secret, value, clientRequestToken, ['AWSCURRENT']).version;
    return { secret, version };
  }

  /**
   * PutSecretValue: a new version (or, for an existing token, the same version). Every label in
   * `stages` moves onto it; moving `AWSCURRENT` moves `AWSPREVIOUS` onto the version it left.
   */
  putValue(
    secret: ModelSecret,
    value: ModelValue,
    clientRequestToken: string | undefined,
    stages: readonly string[] = ['AWSCURRENT'],
  ): PutValueResult {
    const token = clientRequestToken ?? randomUUID();
    if (!TOKEN_RE.test(token)) {
      throw new AwsServiceError(
        'InvalidParameterException',
        'ClientRequestToken must be 32 to 64 characters: letters, digits and hyphens.',
      );
    }
    if (stages.length === 0 || stages.length > 20) {
      throw new AwsServiceError('InvalidParameterException', 'VersionStages must hold 1 to 20 labels.');
    }
    const existing = secret.versions.get(token);
    if (existing !== undefined && (existing.secretString !== undefined || existing.secretBinary !== undefined)) {
      if (sameValue(existing, value)) return { version: existing, created: false };
      throw new AwsServiceError(
        'ResourceExistsException',
        "You can't modify an existing version, you can only create a new version. A version with this ClientRequestToken already exists with a different value.",
      );
    }
    let version: ModelVersion;
    if (existing !== undefined) {
      // An empty version (created by RotateSecret before the Lambda's createSecret step) gets its value.
      version = existing;
      version.secretString = value.secretString;
      version.secretBinary = value.secretBinary === undefined ? undefined : new Uint8Array(value.secretBinary);
    } else {
      version = {
        versionId: token,
        secretString: value.secretString,
        secretBinary: value.secretBinary === undefined ? undefined : new Uint8Array(value.secretBinary),
        createdDate: this.#now(),
        stages: new Set(),
      };
      secret.versions.set(token, version);
    }
    for (const stage of stages) this.attachLabel(secret, stage, version);
    secret.lastChangedDate = this.#now();
    return { version, created: true };
  }

  /**
   * What RotateSecret does before it calls the rotation Lambda: a new version with no value and the
   * `AWSPENDING` label. When the Lambda's createSecret step fails, it stays that way.
   */
  beginRotation(secret: ModelSecret, clientRequestToken: string = randomUUID()): ModelVersion {
    if (!TOKEN_RE.test(clientRequestToken)) {
      throw new AwsServiceError(
        'InvalidParameterException',
        'ClientRequestToken must be 32 to 64 characters: letters, digits and hyphens.',
      );
    }
    const version: ModelVersion = {
      versionId: clientRequestToken,
      secretString: undefined,
      secretBinary: undefined,
      createdDate: this.#now(),
      stages: new Set(),
    };
    secret.versions.set(clientRequestToken, version);
    this.attachLabel(secret, 'AWSPENDING', version);
    return version;
  }

  /** UpdateSecretVersionStage, with the service's checks. */
  updateStage(secret: ModelSecret, stage: string, moveTo: string | undefined, removeFrom: string | undefined): void {
    if (typeof stage !== 'string' || stage.length === 0 || stage.length > 256) {
      throw new AwsServiceError('InvalidParameterException', 'VersionStage is required.');
    }
    const holder = this.holder(secret, stage);
    if (removeFrom !== undefined) {
      if (!secret.versions.has(removeFrom)) {
        throw new AwsServiceError('ResourceNotFoundException', `Secrets Manager can't find the specified secret version: ${removeFrom}.`);
      }
      if (holder?.versionId !== removeFrom) {
        throw new AwsServiceError('InvalidParameterException', `The staging label ${stage} is not attached to version ${removeFrom}.`);
      }
    }
    if (moveTo === undefined) {
      if (removeFrom === undefined) {
        throw new AwsServiceError('InvalidParameterException', 'Specify MoveToVersionId, RemoveFromVersionId, or both.');
      }
      if (stage === 'AWSCURRENT') {
        throw new AwsServiceError(
          'InvalidParameterException',
          'You can only move staging label AWSCURRENT to a different secret version. It can’t be completely removed.',
        );
      }
      holder?.stages.delete(stage);
      secret.lastChangedDate = this.#now();
      return;
    }
    const target = secret.versions.get(moveTo);
    if (target === undefined) {
      throw new AwsServiceError('ResourceNotFoundException', `Secrets Manager can't find the specified secret version: ${moveTo}.`);
    }
    if (holder !== undefined && holder !== target && removeFrom === undefined) {
      throw new AwsServiceError(
        'InvalidParameterException',
        `The staging label ${stage} is currently attached to version ${holder.versionId}. Specify RemoveFromVersionId to move it.`,
      );
    }
    this.attachLabel(secret, stage, target);
    secret.lastChangedDate = this.#now();
  }

  /** The version holding `stage`, if any. */
  holder(secret: ModelSecret, stage: string): ModelVersion | undefined {
    for (const v of secret.versions.values()) if (v.stages.has(stage)) return v;
    return undefined;
  }

  /** DeleteSecret: scheduled (with a recovery window) or immediate. */
  deleteSecret(secret: ModelSecret, recoveryWindowInDays: number | undefined, force: boolean): number {
    if (force && recoveryWindowInDays !== undefined) {
      throw new AwsServiceError(
        'InvalidParameterException',
        "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
      );
    }
    const days = recoveryWindowInDays ?? 30;
    if (!force && (days < 7 || days > 30)) {
      throw new AwsServiceError('InvalidParameterException', 'RecoveryWindowInDays must be between 7 and 30.');
    }
    const t = this.#now();
    if (force) {
      this.#secrets.delete(secret.name);
      return t;
    }
    if (secret.deletedDate === undefined) {
      secret.deletedDate = t;
      secret.deletionDate = t + days * 86_400_000;
    }
    return secret.deletionDate as number;
  }

  /**
   * TagResource: adds or overwrites tags, with the service's limits (keys 1–128 and values 0–256
   * characters of letters, digits, spaces and `_.:/=+-@`; keys not starting with `aws:`; at most 50 tags).
   */
  tagResource(secret: ModelSecret, tags: readonly { readonly key: string; readonly value: string }[]): void {
    const next = new Map(secret.tags);
    for (const { key, value } of tags) {
      if (typeof key !== 'string' || !TAG_RE.test(key) || key.length < 1 || key.length > 128 || key.toLowerCase().startsWith('aws:')) {
        throw new AwsServiceError('InvalidParameterException', 'Invalid tag key.');
      }
      if (typeof value !== 'string' || !TAG_RE.test(value) || value.length > 256) {
        throw new AwsServiceError('InvalidParameterException', 'Invalid tag value.');
      }
      next.set(key, value);
    }
    if (next.size > 50) throw new AwsServiceError('LimitExceededException', 'A secret can have at most 50 tags.');
    for (const [key, value] of next) secret.tags.set(key, value);
  }

  /** UntagResource: removes tags by key (unknown keys are ignored, as the service does). */
  untagResource(secret: ModelSecret, keys: readonly string[]): void {
    for (const key of keys) secret.tags.delete(key);
  }

  /** RestoreSecret: cancels a scheduled deletion. */
  restoreSecret(secret: ModelSecret): void {
    secret.deletedDate = undefined;
    secret.deletionDate = undefined;
  }

  /** Puts `stage` on `target` only; `AWSCURRENT` drags `AWSPREVIOUS` onto the version it left. */
  private attachLabel(secret: ModelSecret, stage: string, target: ModelVersion): void {
    const holder = this.holder(secret, stage);
    if (holder === target) return;
    holder?.stages.delete(stage);
    target.stages.add(stage);
    if (stage === 'AWSCURRENT' && holder !== undefined) {
      this.holder(secret, 'AWSPREVIOUS')?.stages.delete('AWSPREVIOUS');
      holder.stages.add('AWSPREVIOUS');
    }
  }
}

function sameValue(v: ModelVersion, value: ModelValue): boolean {
  if (value.secretString !== undefined) return v.secretString === value.secretString && v.secretBinary === undefined;
  if (v.secretBinary === undefined || v.secretString !== undefined) return false;
  return Buffer.from(v.secretBinary).equals(Buffer.from(value.secretBinary));
}
