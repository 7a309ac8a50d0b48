/**
 * The in-memory state of the offline Key Vault: secrets, their versions and attributes, soft-deleted
 * secrets, injected faults and a log of the operations served. The HTTPS front (`server.ts`) maps
 * REST calls onto it; tests seed and inspect it directly.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';

/** A Key Vault REST operation, by its operation id. */
export type KeyVaultOperation =
  | 'setSecret'
  | 'getSecret'
  | 'getSecretVersions'
  | 'getSecrets'
  | 'updateSecret'
  | 'deleteSecret'
  | 'getDeletedSecret'
  | 'getDeletedSecrets'
  | 'recoverDeletedSecret'
  | 'purgeDeletedSecret'
  /** Not a vault operation: the Microsoft Entra token endpoint (client-credentials grant). */
  | 'token';

/** One stored version. Times are epoch **seconds**, as on the wire. */
export interface VersionRecord {
  /** 32 lower-case hex characters. */
  readonly version: string;
  /** The secret value. */
  readonly value: string;
  /** The version's content type. */
  contentType: string | undefined;
  /** The version's tags. */
  tags: Record<string, string> | undefined;
  /** Whether the version may be read. */
  enabled: boolean;
  /** `nbf`: not before, epoch seconds. */
  nbf: number | undefined;
  /** `exp`: expires, epoch seconds. */
  exp: number | undefined;
  /** Creation time, epoch seconds. */
  readonly created: number;
  /** Last update, epoch seconds. */
  updated: number;
}

/** A secret: its versions in creation order. */
export interface SecretRecord {
  /** The secret name. */
  readonly name: string;
  /** Versions, oldest first. */
  readonly versions: VersionRecord[];
}

/** A soft-deleted secret. */
export interface DeletedSecretRecord {
  /** The secret as it was. */
  readonly secret: SecretRecord;
  /** Deletion time, epoch seconds. */
  readonly deletedDate: number;
  /** When it would be purged, epoch seconds. */
  readonly scheduledPurgeDate: number;
}

/** A failure the model answers instead of serving an operation. */
export interface KeyVaultFault {
  /** Only these operations fail. @default every operation */
  readonly op?: KeyVaultOperation | readonly KeyVaultOperation[] | undefined;
  /** Only continuation pages (requests that follow a `nextLink`) fail. @default false */
  readonly continuationOnly?: boolean | undefined;
  /** HTTP status. @default 503 */
  readonly status?: number | undefined;
  /** The error body's `error.code`. @default by status */
  readonly code?: string | undefined;
  /** The error body's `error.innererror.code`. */
  readonly innerCode?: string | undefined;
  /** The error body's `error.message`. */
  readonly message?: string | undefined;
  /** A `Retry-After` header, in seconds. */
  readonly retryAfterSeconds?: number | undefined;
  /** Never answer (until the client gives up or the server closes). */
  readonly hang?: boolean | undefined;
  /** Close the connection without an answer. */
  readonly reset?: boolean | undefined;
  /** Answer 200 with this raw body (a truncated or foreign body). */
  readonly rawBody?: string | undefined;
  /** How many requests fail. @default 1 */
  readonly times?: number | undefined;
}

/** One served (or failed) request, for assertions. */
export interface KeyVaultCall {
  /** Operation id. */
  readonly op: KeyVaultOperation;
  /** Secret name, when the operation has one. */
  readonly name: string | undefined;
  /** Version, when addressed. */
  readonly version: string | undefined;
  /** The request's `api-version`. */
  readonly apiVersion: string;
  /** Whether the request followed a `nextLink`. */
  readonly continuation: boolean;
  /** HTTP status answered (0 when the request hung or was reset). */
  status: number;
}

/** An error the model raises; the front writes it as a Key Vault error body. */
export class KeyVaultError extends Error {
  /** HTTP status. */
  readonly status: number;
  /** `error.code`. */
  readonly code: string;
  /** `error.innererror.code`. */
  readonly innerCode: string | undefined;

  constructor(status: number, code: string, message: string, innerCode?: string) {
    super(message);
    this.name = 'KeyVaultError';
    this.status = status;
    this.code = code;
    this.innerCode = innerCode;
  }
}

/** Options of {@link KeyVaultModel}. */
export interface KeyVaultModelOptions {
  /** Clock of the vault (`created`, `updated`, deletion dates), epoch ms. @default Date.now */
  readonly now?: (() => number) | undefined;
  /** Soft-delete retention, in days (7–90). @default 90 */
  readonly recoverableDays?: number | undefined;
  /** Purge protection: a deleted secret cannot be purged before its retention ends. @default false */
  readonly purgeProtection?: boolean | undefined;
}

/** Attributes as tests seed them (times in epoch ms, like the rest of keyturn). */
export interface SeedVersionOptions {
  /** @default true */
  readonly enabled?: boolean | undefined;
  /** Not before, epoch ms (stored in seconds, rounded down). */
  readonly notBefore?: number | undefined;
  /** Expires, epoch ms (stored in seconds, rounded down). */
  readonly expires?: number | undefined;
  /** Creation time, epoch ms. @default the model's clock */
  readonly created?: number | undefined;
  /** Tags. */
  readonly tags?: Record<string, string> | undefined;
  /** Content type. */
  readonly contentType?: string | undefined;
}

/** A secret and one of its versions. */
export interface VersionLookup {
  /** The secret. */
  readonly secret: SecretRecord;
  /** The version. */
  readonly record: VersionRecord;
}

/** The versions of a name, as Get Secret Versions lists them. */
export interface VersionListing {
  /** The secret, if it exists. */
  readonly secret: SecretRecord | undefined;
  /** Its versions, ordered by version id. */
  readonly records: VersionRecord[];
}

/** The attribute patch of `updateSecret` (wire form: epoch seconds; `null` clears). */
export interface AttributePatch {
  /** New `enabled`. */
  readonly enabled?: boolean | undefined;
  /** New `nbf` (seconds), or `null` to clear. */
  readonly nbf?: number | null | undefined;
  /** New `exp` (seconds), or `null` to clear. */
  readonly exp?: number | null | undefined;
}

const NAME = /^[0-9a-zA-Z-]{1,127}$/;
const VERSION = /^[0-9a-f]{32}$/;

/** The vault's state. */
export class KeyVaultModel {
  /** Live secrets by name (lower-cased: names are case-insensitive). */
  readonly secrets = new Map<string, SecretRecord>();
  /** Soft-deleted secrets by name (lower-cased). */
  readonly deleted = new Map<string, DeletedSecretRecord>();
  /** Every request served, in order. */
  readonly calls: KeyVaultCall[] = [];
  readonly #faults: { fault: KeyVaultFault; left: number }[] = [];
  readonly #now: () => number;
  readonly #recoverableDays: number;
  readonly #purgeProtection: boolean;

  constructor(options: KeyVaultModelOptions = {}) {
    this.#now = options.now ?? Date.now;
    const days = options.recoverableDays ?? 90;
    if (!Number.isInteger(days) || days < 7 || days > 90)
      throw new TypeError('KeyVaultModel: `recoverableDays` must be an integer from 7 to 90');
    this.#recoverableDays = days;
    this.#purgeProtection = options.purgeProtection === true;
  }

  /** The vault clock in epoch seconds. */
  nowSeconds(): number {
    return Math.floor(this.#now() / 1000);
  }

  /** `recoveryLevel` of every secret in this vault. */
  get recoveryLevel(): string {
    const custom = this.#recoverableDays < 90 ? 'Customized' : '';
    return `${custom}Recoverable${this.#purgeProtection ? '' : '+Purgeable'}`;
  }

  /** Soft-delete retention in days. */
  get recoverableDays(): number {
    return this.#recoverableDays;
  }

  /** Queues a fault. Faults are matched in the order they were queued. */
  injectFault(fault: KeyVaultFault): void {
    this.#faults.push({ fault, left: fault.times ?? 1 });
  }

  /** Drops every queued fault. */
  clearFaults(): void {
    this.#faults.length = 0;
  }

  /** The fault to apply to `op`, consuming one use of it. */
  takeFault(op: KeyVaultOperation, continuation: boolean): KeyVaultFault | undefined {
    for (let i = 0; i < this.#faults.length; i++) {
      const entry = this.#faults[i] as { fault: KeyVaultFault; left: number };
      const ops = entry.fault.op === undefined ? undefined : typeof entry.fault.op === 'string' ? [entry.fault.op] : entry.fault.op;
      if (ops !== undefined && !ops.includes(op)) continue;
      if (entry.fault.continuationOnly === true && !continuation) continue;
      entry.left -= 1;
      if (entry.left <= 0) this.#faults.splice(i, 1);
      return entry.fault;
    }
    return undefined;
  }

  /** Seeds a version (what `setSecret` does, with attributes in epoch ms). */
  addVersion(name: string, value: string, options: SeedVersionOptions = {}): VersionRecord {
    const created = options.created === undefined ? this.nowSeconds() : Math.floor(options.created / 1000);
    return this.#add(name, value, {
      enabled: options.enabled ?? true,
      nbf: options.notBefore === undefined ? undefined : Math.floor(options.notBefore / 1000),
      exp: options.expires === undefined ? undefined : Math.floor(options.expires / 1000),
      created,
      tags: options.tags,
      contentType: options.contentType,
    });
  }

  /** `setSecret`: a new version (creating the secret). Refused while the name is soft-deleted. */
  setSecret(
    name: string,
    value: string,
    attrs: { enabled?: boolean; nbf?: number; exp?: number },
    tags?: Record<string, string>,
    contentType?: string,
  ): VersionRecord {
    checkName(name);
    return this.#add(name, value, {
      enabled: attrs.enabled ?? true,
      nbf: attrs.nbf,
      exp: attrs.exp,
      created: this.nowSeconds(),
      tags,
      contentType,
    });
  }

  #add(
    name: string,
    value: string,
    a: {
      enabled: boolean;
      nbf: number | undefined;
      exp: number | undefined;
      created: number;
      tags: Record<string, string> | undefined;
      contentType: string | undefined;
    },
  ): VersionRecord {
    checkName(name);
    const key = name.toLowerCase();
    if (this.deleted.has(key)) {
      throw new KeyVaultError(
        409,
        'Conflict',
        `Secret ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`,
        'ObjectIsDeletedButRecoverable',
      );
    }
    let secret = this.secrets.get(key);
    if (secret === undefined) {
      secret = { name, versions: [] };
      this.secrets.set(key, secret);
    }
    const record: VersionRecord = {
      version: randomUUID().replace(/-/g, ''),
      value,
      contentType: a.contentType,
      tags: a.tags === undefined ? undefined : { ...a.tags },
      enabled: a.enabled,
      nbf: a.nbf,
      exp: a.exp,
      created: a.created,
      updated: a.created,
    };
    secret.versions.push(record);
    return record;
  }

  /** `getSecret`: one version, or the newest version when `version` is empty (whatever its state). */
  getSecret(name: string, version: string | undefined): VersionLookup {
    const secret = this.#live(name);
    const record = version === undefined || version === '' ? secret.versions[secret.versions.length - 1] : this.#version(secret, version);
    if (record === undefined) throw notFound(name, version);
    if (!record.enabled) {
      throw new KeyVaultError(403, 'Forbidden', 'Operation get is not allowed on a disabled secret.', 'SecretDisabled');
    }
    return { secret, record };
  }

  /**
   * `getSecretVersions`: every version's attributes, ordered by version id (the service's order is
   * not chronological). A name that does not exist lists no versions.
   */
  listVersions(name: string): VersionListing {
    checkName(name);
    const secret = this.secrets.get(name.toLowerCase());
    const records = secret === undefined ? [] : [...secret.versions].sort((a, b) => (a.version < b.version ? -1 : 1));
    return { secret, records };
  }

  /** `updateSecret`: changes attributes (and tags, content type) of one version, or of the newest. */
  updateSecret(
    name: string,
    version: string | undefined,
    patch: AttributePatch,
    tags?: Record<string, string>,
    contentType?: string,
  ): VersionLookup {
    const secret = this.#live(name);
    const record = version === undefined || version === '' ? secret.versions[secret.versions.length - 1] : this.#version(secret, version);
    if (record === undefined) throw notFound(name, version);
    if (patch.enabled !== undefined) record.enabled = patch.enabled;
    if (patch.nbf !== undefined) record.nbf = patch.nbf ?? undefined;
    if (patch.exp !== undefined) record.exp = patch.exp ?? undefined;
    if (record.nbf !== undefined && record.exp !== undefined && record.nbf > record.exp) {
      throw new KeyVaultError(400, 'BadParameter', 'Property "nbf" must be less than or equal to "exp".');
    }
    if (tags !== undefined) record.tags = { ...tags };
    if (contentType !== undefined) record.contentType = contentType;
    record.updated = this.nowSeconds();
    return { secret, record };
  }

  /** `deleteSecret`: soft-deletes every version. */
  deleteSecret(name: string): DeletedSecretRecord {
    const secret = this.#live(name);
    const deletedDate = this.nowSeconds();
    const entry: DeletedSecretRecord = { secret, deletedDate, scheduledPurgeDate: deletedDate + this.#recoverableDays * 86_400 };
    this.secrets.delete(name.toLowerCase());
    this.deleted.set(name.toLowerCase(), entry);
    return entry;
  }

  /** `getDeletedSecret`. */
  getDeletedSecret(name: string): DeletedSecretRecord {
    checkName(name);
    const entry = this.deleted.get(name.toLowerCase());
    if (entry === undefined) throw new KeyVaultError(404, 'SecretNotFound', `Deleted Secret not found: ${name}`);
    return entry;
  }

  /** `recoverDeletedSecret`: the secret comes back with all its versions. */
  recoverDeletedSecret(name: string): SecretRecord {
    const entry = this.getDeletedSecret(name);
    this.deleted.delete(name.toLowerCase());
    this.secrets.set(name.toLowerCase(), entry.secret);
    return entry.secret;
  }

  /** `purgeDeletedSecret`: gone for good (refused under purge protection). */
  purgeDeletedSecret(name: string): void {
    const entry = this.getDeletedSecret(name);
    if (this.#purgeProtection && this.nowSeconds() < entry.scheduledPurgeDate) {
      throw new KeyVaultError(
        403,
        'Forbidden',
        `Operation "purge" is not allowed because purge protection is enabled for this vault. Key Vault service will automatically purge it after the retention period has passed.`,
      );
    }
    this.deleted.delete(name.toLowerCase());
  }

  #live(name: string): SecretRecord {
    checkName(name);
    const secret = this.secrets.get(name.toLowerCase());
    if (secret === undefined) throw notFound(name, undefined);
    return secret;
  }

  #version(secret: SecretRecord, version: string): VersionRecord | undefined {
    if (!VERSION.test(version)) return undefined;
    return secret.versions.find((v) => v.version === version);
  }
}

function checkName(name: string): void {
  if (!NAME.test(name)) {
    throw new KeyVaultError(400, 'BadParameter', `The request URI contains an invalid name: ${name.slice(0, 130)}`);
  }
}

function notFound(name: string, version: string | undefined): KeyVaultError {
  const what = version === undefined || version === '' ? name : `${name}/${version}`;
  return new KeyVaultError(
    404,
    'SecretNotFound',
    `A secret with (name/id) ${what} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
  );
}
