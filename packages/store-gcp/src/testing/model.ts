/**
 * The in-memory Secret Manager behind the test servers: secrets, numbered versions with states,
 * aliases, annotations, etags, CRC32C, pagination, `latest` with the real service's semantics
 * (the newest version whatever its state), and injectable faults. Transport-neutral: the gRPC
 * and REST fronts translate to and from it.
 *
 * @module
 */
import { crc32c } from '../crc32c.ts';
import type { StatusName } from '../status.ts';

/** A version's state, as in `google.cloud.secretmanager.v1.SecretVersion.State`. */
export type VersionStateName = 'ENABLED' | 'DISABLED' | 'DESTROYED';

/** The RPCs the fake implements. */
export type FakeMethod =
  | 'GetSecret'
  | 'CreateSecret'
  | 'UpdateSecret'
  | 'ListSecretVersions'
  | 'GetSecretVersion'
  | 'AccessSecretVersion'
  | 'AddSecretVersion'
  | 'EnableSecretVersion'
  | 'DisableSecretVersion'
  | 'DestroySecretVersion';

/** An error the fake answers with: a gRPC status name and a message. */
export class FakeStatusError extends Error {
  /** gRPC status name. */
  readonly status: StatusName;

  constructor(status: StatusName, message: string) {
    super(message);
    this.name = 'FakeStatusError';
    this.status = status;
  }
}

/** A fault to inject into the next matching call(s). */
export interface FakeFault {
  /** Only calls of this RPC (default: any). */
  method?: FakeMethod | undefined;
  /** Only calls whose resource name contains this text (default: any). */
  nameIncludes?: string | undefined;
  /** Answer with this status instead of the real result. */
  status?: StatusName | undefined;
  /** Message of that status. */
  message?: string | undefined;
  /** Wait this long (real time, ms) before answering; cut short when the client cancels. */
  delayMs?: number | undefined;
  /** Never answer; the call ends only when the client cancels or its deadline passes. */
  hang?: boolean | undefined;
  /** AccessSecretVersion only: answer with a wrong `data_crc32c`. */
  corruptCrc32c?: boolean | undefined;
  /** Runs just before the call is served (after any delay): simulate a concurrent writer, count, ... */
  onCall?: (() => void) | undefined;
  /** How many calls this fault applies to. @default 1 */
  times?: number | undefined;
}

/** One recorded call. */
export interface FakeCall {
  /** The RPC. */
  readonly method: FakeMethod;
  /** The resource name (or parent) it addressed. */
  readonly name: string;
  /** `grpc` or `rest`. */
  readonly transport: 'grpc' | 'rest';
  /** The `x-goog-request-params` routing header, when sent. */
  readonly routing: string | undefined;
  /** Set when the client cancelled the call before it was answered. */
  cancelled: boolean;
}

/** A secret as the fake reports it. */
export interface SecretView {
  readonly name: string;
  readonly createTime: number;
  readonly etag: string;
  readonly versionAliases: Readonly<Record<string, number>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly expireTime: number | undefined;
}

/** A version's metadata as the fake reports it. */
export interface VersionView {
  readonly name: string;
  readonly number: number;
  readonly createTime: number;
  readonly destroyTime: number | undefined;
  readonly state: VersionStateName;
  readonly etag: string;
  readonly clientSpecifiedPayloadChecksum: boolean;
}

/** An AccessSecretVersion answer. */
export interface AccessView {
  readonly name: string;
  readonly data: Uint8Array;
  readonly dataCrc32c: number;
}

/** A ListSecretVersions answer. */
export interface ListView {
  readonly versions: VersionView[];
  readonly nextPageToken: string;
  readonly totalSize: number;
}

interface VersionRecord {
  number: number;
  createTime: number;
  destroyTime: number | undefined;
  state: VersionStateName;
  data: Uint8Array | undefined;
  crc: number;
  etag: string;
  clientChecksum: boolean;
}

interface SecretRecord {
  name: string;
  createTime: number;
  etag: string;
  aliases: Record<string, number>;
  annotations: Record<string, string>;
  labels: Record<string, string>;
  expireTime: number | undefined;
  versions: VersionRecord[];
}

/** Options of {@link SecretManagerModel}. */
export interface SecretManagerModelOptions {
  /** Clock for create/destroy times, epoch ms. @default Date.now */
  now?: (() => number) | undefined;
  /** The most versions one ListSecretVersions page holds, whatever page_size asks (simulates short pages). @default 25_000 */
  maxPageSize?: number | undefined;
}

/** Options when seeding a secret with {@link SecretManagerModel.createSecret}. */
export interface SeedSecretOptions {
  /** Initial aliases (alias → version number). */
  versionAliases?: Record<string, number> | undefined;
  /** Initial annotations. */
  annotations?: Record<string, string> | undefined;
  /** Secret expiry, epoch ms. */
  expireTime?: number | undefined;
}

/** Options when seeding a version with {@link SecretManagerModel.addVersion}. */
export interface SeedVersionOptions {
  /** Initial state. @default 'ENABLED' */
  state?: VersionStateName | undefined;
  /** Create time, epoch ms. @default now() */
  createTime?: number | undefined;
  /** Checksum the client supplied; a mismatch is rejected with INVALID_ARGUMENT. */
  dataCrc32c?: number | undefined;
}

const SECRET_NAME = /^projects\/[^/]+\/(?:locations\/[^/]+\/)?secrets\/[^/]+$/;
const VERSION_NAME = /^(projects\/[^/]+\/(?:locations\/[^/]+\/)?secrets\/[^/]+)\/versions\/([^/]+)$/;
const PARENT_NAME = /^projects\/[^/]+(?:\/locations\/[^/]+)?$/;
const MAX_PAYLOAD = 65_536;

/** The in-memory Secret Manager. Seed it directly; the test servers expose it over the wire. */
export class SecretManagerModel {
  readonly #secrets = new Map<string, SecretRecord>();
  readonly #now: () => number;
  #etagCounter = 0;
  #faults: Array<FakeFault & { remaining: number }> = [];
  /** Every call the servers received, in order. */
  readonly calls: FakeCall[] = [];
  /** The most versions one list page holds. */
  maxPageSize: number;

  constructor(options: SecretManagerModelOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.maxPageSize = options.maxPageSize ?? 25_000;
  }

  /** Injects a fault into the next matching call(s). */
  injectFault(fault: FakeFault): void {
    this.#faults.push({ ...fault, remaining: fault.times ?? 1 });
  }

  /** Removes every pending fault. */
  clearFaults(): void {
    this.#faults = [];
  }

  /** Calls of one RPC. */
  callsOf(method: FakeMethod): FakeCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Takes the fault that applies to this call, if any. */
  takeFault(method: FakeMethod, name: string): FakeFault | undefined {
    const index = this.#faults.findIndex(
      (f) => (f.method === undefined || f.method === method) && (f.nameIncludes === undefined || name.includes(f.nameIncludes)),
    );
    if (index < 0) return undefined;
    const fault = this.#faults[index] as FakeFault & { remaining: number };
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.#faults.splice(index, 1);
    return fault;
  }

  #etag(): string {
    this.#etagCounter += 1;
    return `"${(1_000_000 + this.#etagCounter).toString(16)}"`;
  }

  #secret(name: string): SecretRecord {
    if (!SECRET_NAME.test(name)) throw new FakeStatusError('INVALID_ARGUMENT', `Invalid resource field value in the request: ${name}`);
    const secret = this.#secrets.get(name);
    if (secret === undefined) throw new FakeStatusError('NOT_FOUND', `Secret [${name}] not found or has no versions.`);
    return secret;
  }

  #version(name: string): { secret: SecretRecord; version: VersionRecord } {
    const match = VERSION_NAME.exec(name);
    if (match === null) throw new FakeStatusError('INVALID_ARGUMENT', `Invalid resource field value in the request: ${name}`);
    const secret = this.#secret(match[1] as string);
    const ref = match[2] as string;
    let version: VersionRecord | undefined;
    if (ref === 'latest') {
      // The real service: the most recently created version, whatever its state.
      version = secret.versions[secret.versions.length - 1];
    } else if (/^[1-9][0-9]*$/.test(ref)) {
      version = secret.versions.find((v) => v.number === Number(ref));
    } else {
      const aliased = secret.aliases[ref];
      version = aliased === undefined ? undefined : secret.versions.find((v) => v.number === aliased);
    }
    if (version === undefined) throw new FakeStatusError('NOT_FOUND', `Secret Version [${name}] not found.`);
    return { secret, version };
  }

  #secretView(s: SecretRecord): SecretView {
    return {
      name: s.name,
      createTime: s.createTime,
      etag: s.etag,
      versionAliases: { ...s.aliases },
      annotations: { ...s.annotations },
      labels: { ...s.labels },
      expireTime: s.expireTime,
    };
  }

  #versionView(s: SecretRecord, v: VersionRecord): VersionView {
    return {
      name: `${s.name}/versions/${v.number}`,
      number: v.number,
      createTime: v.createTime,
      destroyTime: v.destroyTime,
      state: v.state,
      etag: v.etag,
      clientSpecifiedPayloadChecksum: v.clientChecksum,
    };
  }

  /** CreateSecret (also the seeding helper). */
  createSecret(name: string, options: SeedSecretOptions = {}): SecretView {
    if (!SECRET_NAME.test(name)) throw new FakeStatusError('INVALID_ARGUMENT', `Invalid secret name: ${name}`);
    if (this.#secrets.has(name)) throw new FakeStatusError('ALREADY_EXISTS', `Secret [${name}] already exists.`);
    const record: SecretRecord = {
      name,
      createTime: this.#now(),
      etag: this.#etag(),
      aliases: { ...options.versionAliases },
      annotations: { ...options.annotations },
      labels: {},
      expireTime: options.expireTime,
      versions: [],
    };
    this.#secrets.set(name, record);
    return this.#secretView(record);
  }

  /** CreateSecret from a parent and an id. */
  createSecretIn(parent: string, secretId: string, options: SeedSecretOptions = {}): SecretView {
    if (!PARENT_NAME.test(parent)) throw new FakeStatusError('INVALID_ARGUMENT', `Invalid parent: ${parent}`);
    if (!/^[a-zA-Z0-9_-]{1,255}$/.test(secretId)) throw new FakeStatusError('INVALID_ARGUMENT', `Invalid secret id: ${secretId}`);
    return this.createSecret(`${parent}/secrets/${secretId}`, options);
  }

  /** GetSecret. */
  getSecret(name: string): SecretView {
    return this.#secretView(this.#secret(name));
  }

  /** AddSecretVersion (also the seeding helper). Adding a version leaves the secret's etag unchanged. */
  addVersion(parent: string, data: Uint8Array | string, options: SeedVersionOptions = {}): VersionView {
    const secret = this.#secret(parent);
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : new Uint8Array(data);
    if (bytes.length > MAX_PAYLOAD) throw new FakeStatusError('INVALID_ARGUMENT', 'Secret payload is larger than 64 KiB.');
    const crc = crc32c(bytes);
    if (options.dataCrc32c !== undefined && options.dataCrc32c !== crc) {
      throw new FakeStatusError('INVALID_ARGUMENT', 'Checksum mismatch: the data_crc32c does not match the payload.');
    }
    const last = secret.versions[secret.versions.length - 1];
    const version: VersionRecord = {
      number: (last?.number ?? 0) + 1,
      createTime: options.createTime ?? this.#now(),
      destroyTime: undefined,
      state: options.state ?? 'ENABLED',
      data: options.state === 'DESTROYED' ? undefined : bytes,
      crc,
      etag: this.#etag(),
      clientChecksum: options.dataCrc32c !== undefined,
    };
    secret.versions.push(version);
    return this.#versionView(secret, version);
  }

  /**
   * UpdateSecret: applies the fields named in `updateMask` (`version_aliases`, `annotations`, `labels`,
   * `expire_time`). A stale `etag` fails with FAILED_PRECONDITION (HTTP 400 over REST), as Google's etag
   * documentation says; every update, even one that changes nothing, gives the secret a new etag.
   */
  updateSecret(
    patch: {
      name: string;
      etag?: string | undefined;
      versionAliases?: Record<string, number> | undefined;
      annotations?: Record<string, string> | undefined;
      labels?: Record<string, string> | undefined;
      expireTime?: number | undefined;
    },
    updateMask: readonly string[],
  ): SecretView {
    const secret = this.#secret(patch.name);
    if (updateMask.length === 0) throw new FakeStatusError('INVALID_ARGUMENT', 'update_mask is required.');
    if (patch.etag !== undefined && patch.etag !== '' && patch.etag !== secret.etag) {
      // Google's etag documentation: a stale etag fails with FAILED_PRECONDITION (HTTP 400), not ABORTED.
      throw new FakeStatusError('FAILED_PRECONDITION', 'The etag provided in the request does not match the current etag of the secret.');
    }
    const next = { ...secret };
    for (const path of updateMask) {
      switch (path) {
        case 'version_aliases':
        case 'versionAliases': {
          const aliases = patch.versionAliases ?? {};
          for (const [alias, number] of Object.entries(aliases)) {
            if (alias === 'latest' || alias === 'NEW') throw new FakeStatusError('INVALID_ARGUMENT', `Alias name "${alias}" is reserved.`);
            const version = secret.versions.find((v) => v.number === number);
            if (version === undefined)
              throw new FakeStatusError('INVALID_ARGUMENT', `Alias "${alias}" points to a version that does not exist.`);
            if (version.state === 'DESTROYED')
              throw new FakeStatusError('FAILED_PRECONDITION', `Alias "${alias}" points to a destroyed version.`);
          }
          if (Object.keys(aliases).length > 50) throw new FakeStatusError('INVALID_ARGUMENT', 'At most 50 aliases.');
          next.aliases = { ...aliases };
          break;
        }
        case 'annotations':
          next.annotations = { ...patch.annotations };
          break;
        case 'labels':
          next.labels = { ...patch.labels };
          break;
        case 'expire_time':
        case 'expireTime':
          next.expireTime = patch.expireTime;
          break;
        default:
          throw new FakeStatusError('INVALID_ARGUMENT', `Unsupported update_mask path: ${path}`);
      }
    }
    Object.assign(secret, next, { etag: this.#etag() });
    return this.#secretView(secret);
  }

  /** ListSecretVersions: newest first; `filter` may be empty or `state:ENABLED|DISABLED|DESTROYED`. */
  listVersions(
    parent: string,
    request: { pageSize?: number | undefined; pageToken?: string | undefined; filter?: string | undefined } = {},
  ): ListView {
    const secret = this.#secret(parent);
    const filter = (request.filter ?? '').trim();
    let state: VersionStateName | undefined;
    if (filter !== '') {
      const m = /^state\s*:\s*(ENABLED|DISABLED|DESTROYED)$/.exec(filter);
      if (m === null) throw new FakeStatusError('INVALID_ARGUMENT', `Unsupported filter: ${filter}`);
      state = m[1] as VersionStateName;
    }
    const all = [...secret.versions].reverse().filter((v) => state === undefined || v.state === state);
    let offset = 0;
    if (request.pageToken !== undefined && request.pageToken !== '') {
      const decoded = /^o([0-9]+)$/.exec(Buffer.from(request.pageToken, 'base64url').toString('utf8'));
      if (decoded === null) throw new FakeStatusError('INVALID_ARGUMENT', 'Invalid page token.');
      offset = Number(decoded[1]);
    }
    const pageSize = request.pageSize !== undefined && request.pageSize > 0 ? Math.min(request.pageSize, 25_000) : 25_000;
    const size = Math.min(pageSize, this.maxPageSize);
    const page = all.slice(offset, offset + size);
    const end = offset + page.length;
    return {
      versions: page.map((v) => this.#versionView(secret, v)),
      nextPageToken: end < all.length ? Buffer.from(`o${end}`, 'utf8').toString('base64url') : '',
      totalSize: all.length,
    };
  }

  /** GetSecretVersion (by number, alias or `latest`). */
  getVersion(name: string): VersionView {
    const { secret, version } = this.#version(name);
    return this.#versionView(secret, version);
  }

  /** AccessSecretVersion: FAILED_PRECONDITION unless the version is ENABLED. */
  access(name: string): AccessView {
    const { secret, version } = this.#version(name);
    if (version.state !== 'ENABLED' || version.data === undefined) {
      throw new FakeStatusError(
        'FAILED_PRECONDITION',
        `Secret Version [${secret.name}/versions/${version.number}] is in ${version.state} state.`,
      );
    }
    return { name: `${secret.name}/versions/${version.number}`, data: new Uint8Array(version.data), dataCrc32c: version.crc };
  }

  /** Enable/Disable/DestroySecretVersion, with an optional etag check (a stale etag: FAILED_PRECONDITION, HTTP 400). */
  setState(name: string, action: 'enable' | 'disable' | 'destroy', etag?: string): VersionView {
    const { secret, version } = this.#version(name);
    if (etag !== undefined && etag !== '' && etag !== version.etag) {
      throw new FakeStatusError(
        'FAILED_PRECONDITION',
        'The etag provided in the request does not match the current etag of the secret version.',
      );
    }
    if (version.state === 'DESTROYED') throw new FakeStatusError('FAILED_PRECONDITION', `Secret Version [${name}] is destroyed.`);
    if (action === 'enable') version.state = 'ENABLED';
    else if (action === 'disable') version.state = 'DISABLED';
    else {
      version.state = 'DESTROYED';
      version.data = undefined;
      version.destroyTime = this.#now();
    }
    version.etag = this.#etag();
    return this.#versionView(secret, version);
  }
}
