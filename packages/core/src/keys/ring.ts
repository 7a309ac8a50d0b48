/**
 * Key rings: the decoded, ordered, windowed versions of one secret, as the verifier uses them.
 *
 * @internal
 * @module
 */
import { VerificationError } from '../errors.ts';
import type { ProviderProfile } from '../providers/types.ts';
import { sameSecret } from '../store-kit/values.ts';
import { SecretMaterial } from './secret.ts';
import { KEY_ROLES, ROLE_RANK, type KeyRole, type SecretVersion } from './types.ts';

/** Match counters of one key version; kept across reloads. */
export interface KeyUsage {
  /** Secret the key belongs to. */
  readonly secretId: string;
  /** Key version id. */
  readonly keyId: string;
  /** Current role. */
  keyRole: KeyRole;
  /** Successful verifications with this key. */
  matches: number;
  /** Epoch ms of the last successful verification, if any. */
  lastMatchedAt: number | undefined;
  /** Epoch ms the key's window starts, if bounded. */
  notBefore: number | undefined;
  /** Epoch ms the key's window ends, if bounded. */
  notAfter: number | undefined;
  /** Epoch ms this key was last reported by its store (or configured). */
  lastSeenAt: number;
  /** Matches already handed to a fleet's ledger (`createVerifier({ fleet })`). */
  reported: number;
  /**
   * With a fleet: `true` while nothing new is waiting for its ledger, so the first match after a flush
   * queues the record (one branch on the request path). Always `false` without a fleet.
   */
  clean: boolean;
}

/**
 * What a key version's bytes are: an HMAC key (every profile), or a public key of the profile's
 * asymmetric scheme (Standard Webhooks `v1a`: Ed25519) that only verifies.
 */
export type KeyScheme = 'hmac' | 'ed25519';

/** One decoded key version. Its bytes are private and redacted everywhere. */
export class KeyEntry {
  readonly id: string;
  readonly role: KeyRole;
  /** HMAC key, or asymmetric public key. */
  readonly scheme: KeyScheme;
  /** Window start, epoch ms (`-Infinity` when unbounded). */
  readonly notBefore: number;
  /** Window end, epoch ms (`Infinity` when unbounded). */
  readonly notAfter: number;
  readonly usage: KeyUsage;
  readonly material: SecretMaterial;
  readonly #key: Uint8Array;
  /** Backend-specific prepared key (a WebCrypto `CryptoKey` promise), cached per version. */
  prepared: unknown;

  constructor(version: SecretVersion, key: Uint8Array, material: SecretMaterial, usage: KeyUsage, scheme: KeyScheme = 'hmac') {
    this.id = version.id;
    this.role = version.role;
    this.scheme = scheme;
    this.notBefore = version.notBefore ?? -Infinity;
    this.notAfter = version.notAfter ?? Infinity;
    this.material = material;
    this.#key = key;
    this.usage = usage;
  }

  /** The decoded key bytes: the HMAC key, or the raw public key. */
  get key(): Uint8Array {
    return this.#key;
  }

  toJSON(): { id: string; role: KeyRole; notBefore: number | undefined; notAfter: number | undefined } {
    return { id: this.id, role: this.role, notBefore: finite(this.notBefore), notAfter: finite(this.notAfter) };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `KeyEntry { id: ${JSON.stringify(this.id)}, role: '${this.role}', key: [redacted] }`;
  }
}

/**
 * Why a version is unusable: its secret does not decode for the profile (`undecodable`), or the store
 * returned several versions with its id and different secrets (`conflicting-id`: picking one by store
 * order could silently drop the active key for a previous one).
 */
export type InvalidReason = 'undecodable' | 'conflicting-id';

/** A version that could not be turned into a key (reported, never used). */
export interface InvalidVersion {
  readonly id: string;
  readonly role: KeyRole;
  readonly reason: InvalidReason;
  readonly error: VerificationError;
}

/** The ordered key versions of one secret. */
export class KeyRing {
  /** Active, then pending, then previous (store order within a role). */
  readonly entries: readonly KeyEntry[];
  /** Versions whose secret did not decode. */
  readonly invalid: readonly InvalidVersion[];
  /** The key that verified last; tried first. */
  lastMatched: KeyEntry | undefined;
  /** The HMAC keys of `entries`, in its order (`entries` itself when every key is one). */
  readonly hmac: readonly KeyEntry[];
  /** The asymmetric public keys of `entries` (Standard Webhooks `v1a`), in its order; usually none. */
  readonly publicKeys: readonly KeyEntry[];
  /** `hmac` with `orderedFor` moved first (kept by the verifier's `candidates()`). */
  ordered: readonly KeyEntry[] | undefined;
  /** The last-matched key `ordered` was built for. */
  orderedFor: KeyEntry | undefined;
  /**
   * Whether this secret has verified a request (here or in an earlier ring of it). A secret that has
   * is never evicted from the cache by one that has not.
   */
  verified = false;

  constructor(
    readonly secretId: string,
    entries: KeyEntry[],
    invalid: InvalidVersion[],
    readonly loadedAt: number,
  ) {
    this.entries = entries;
    this.invalid = invalid;
    // Two lists, so HMAC matching never looks at a public key (and costs what it did before v1a).
    const asymmetric = entries.some((e) => e.scheme !== 'hmac');
    this.hmac = asymmetric ? entries.filter((e) => e.scheme === 'hmac') : entries;
    this.publicKeys = asymmetric ? entries.filter((e) => e.scheme !== 'hmac') : NO_KEYS;
  }

  /** The first active HMAC key inside its window, for signing challenges. */
  activeKey(now: number, leewayMs: number): KeyEntry | undefined {
    return this.hmac.find((e) => e.role === 'active' && inWindow(e, now, leewayMs));
  }

  toJSON(): Record<string, unknown> {
    return { secretId: this.secretId, entries: this.entries.map((e) => e.toJSON()), loadedAt: this.loadedAt };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `KeyRing { secretId: ${JSON.stringify(this.secretId)}, keys: [${this.entries.map((e) => `${e.id}(${e.role})`).join(', ')}] }`;
  }
}

const NO_KEYS: readonly KeyEntry[] = Object.freeze([]);

/** Whether `now` is inside the entry's window, widened by `leewayMs` on both sides. */
export function inWindow(entry: KeyEntry, now: number, leewayMs: number): boolean {
  return now >= entry.notBefore - leewayMs && now <= entry.notAfter + leewayMs;
}

function finite(n: number): number | undefined {
  return Number.isFinite(n) ? n : undefined;
}

/** Where usage records live (bounded by the caller). */
export interface UsageBook {
  get(key: string): KeyUsage | undefined;
  /** Stores a new record; `proven` when its secret has verified a request (see {@link KeyRing.verified}). */
  set(key: string, value: KeyUsage, proven: boolean): unknown;
  /** A (re)load reported the record's key again (its role or window may have changed): a fleet ledger hears of it. */
  touched?(value: KeyUsage): void;
}

/** The usage-book key of one key version. */
export function usageKey(secretId: string, keyId: string): string {
  return `${secretId}\u0000${keyId}`;
}

/** A copy of `bytes` that nobody else holds (a plain `Uint8Array`, never a view into a shared pool). */
export function ownBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/** Whether two stored secrets are the same material (a string equals the bytes of its UTF-8 encoding). */
export { sameSecret };

/**
 * The `previous` entries of `ring` without a window end that were not reported yet; marks them
 * reported. A previous key without `notAfter` is accepted until the store stops returning it.
 */
export function newlyUnboundedPrevious(ring: KeyRing, reported: WeakSet<KeyUsage>): KeyEntry[] {
  const out: KeyEntry[] = [];
  for (const e of ring.entries) {
    if (e.role !== 'previous' || e.notAfter !== Infinity || reported.has(e.usage)) continue;
    reported.add(e.usage);
    out.push(e);
  }
  return out;
}

/** Checks the shape of a version a store returned; returns a secret-free problem or `undefined`. */
export function versionProblem(v: unknown): string | undefined {
  if (v === null || typeof v !== 'object') return 'a version is not an object';
  const r = v as Record<string, unknown>;
  if (typeof r['id'] !== 'string' || r['id'].length === 0) return 'a version has no string id';
  if (!KEY_ROLES.includes(r['role'] as KeyRole)) return `version ${r['id']} has an unknown role`;
  if (typeof r['secret'] !== 'string' && !(r['secret'] instanceof Uint8Array)) {
    return `version ${r['id']} has a secret that is neither a string nor bytes`;
  }
  for (const f of ['notBefore', 'notAfter'] as const) {
    if (r[f] !== undefined && (typeof r[f] !== 'number' || Number.isNaN(r[f]))) return `version ${r['id']} has a non-numeric ${f}`;
  }
  return undefined;
}

/**
 * Builds a ring from store versions. Entries of `previous` with the same id and the same secret
 * are reused, so a reload decodes (and imports) nothing new.
 *
 * Versions sharing an id: with the same secret they are one key, with the most privileged of their
 * roles (active, then pending, then previous; AWSPENDING on the AWSCURRENT version is one active
 * key). With different secrets none of them is used: the id is reported as `conflicting-id`.
 *
 * Key bytes are always a private copy: a store or caller that reuses or zeroes its buffer after
 * loading cannot change a verification key.
 */
export function buildRing(
  secretId: string,
  versions: readonly SecretVersion[],
  provider: ProviderProfile,
  previous: KeyRing | undefined,
  usage: UsageBook,
  now: number,
): KeyRing {
  const entries: KeyEntry[] = [];
  const invalid: InvalidVersion[] = [];
  const proven = previous?.verified === true;
  for (const group of groupById(versions)) {
    const first = group[0] as SecretVersion;
    let version = first;
    if (group.length > 1) {
      let conflict = false;
      for (const v of group) {
        if (!sameSecret(v.secret, first.secret)) conflict = true;
        if (ROLE_RANK[v.role] < ROLE_RANK[version.role]) version = v;
      }
      if (conflict) {
        invalid.push({
          id: version.id,
          role: version.role,
          reason: 'conflicting-id',
          error: new VerificationError(
            'INVALID_SECRET',
            `The store returned ${group.length} versions with id ${version.id} and different secrets; none of them is used.`,
            {
              provider: provider.name,
              keyId: version.id,
              hint: 'Every key version needs its own id: fix the store (or the static key list) so one id names one secret.',
            },
          ),
        });
        continue;
      }
    }
    const key = usageKey(secretId, version.id);
    let record = usage.get(key);
    if (record === undefined) {
      record = {
        secretId,
        keyId: version.id,
        keyRole: version.role,
        matches: 0,
        lastMatchedAt: undefined,
        notBefore: version.notBefore,
        notAfter: version.notAfter,
        lastSeenAt: now,
        reported: 0,
        clean: false,
      };
      usage.set(key, record, proven);
    } else {
      record.keyRole = version.role;
      record.notBefore = version.notBefore;
      record.notAfter = version.notAfter;
      record.lastSeenAt = now;
      usage.touched?.(record);
    }
    const old = previous?.entries.find((e) => e.id === version.id);
    if (old !== undefined && old.material.equals(version.secret)) {
      const entry = new KeyEntry(version, old.key, old.material, record, old.scheme);
      entry.prepared = old.prepared;
      entries.push(entry);
      continue;
    }
    try {
      // A public key of the profile's asymmetric scheme (a whpk_ key) verifies; anything else is an HMAC secret.
      const publicKey = provider.asymmetric?.publicKey(version.secret);
      if (publicKey !== undefined) {
        entries.push(
          new KeyEntry(version, ownBytes(publicKey), new SecretMaterial(version.secret), record, provider.asymmetric!.algorithm),
        );
        continue;
      }
      // A copy even when the profile hands back its input (the UTF-8 codec on bytes, a custom profile).
      const bytes = ownBytes(provider.decodeSecret(version.secret));
      entries.push(new KeyEntry(version, bytes, new SecretMaterial(version.secret), record));
    } catch (err) {
      const error =
        err instanceof VerificationError
          ? err
          : new VerificationError('INVALID_SECRET', `Invalid ${provider.name} signing secret.`, { provider: provider.name });
      invalid.push({ id: version.id, role: version.role, reason: 'undecodable', error });
    }
  }
  entries.sort((a, b) => ROLE_RANK[a.role] - ROLE_RANK[b.role]);
  const ring = new KeyRing(secretId, entries, invalid, now);
  ring.verified = proven;
  const last = previous?.lastMatched;
  if (last !== undefined) ring.lastMatched = entries.find((e) => e.id === last.id && e.key === last.key);
  return ring;
}

/** Versions grouped by id, in the order each id first appears. */
function groupById(versions: readonly SecretVersion[]): SecretVersion[][] {
  if (versions.length < 2) return versions.map((v) => [v]);
  const groups = new Map<string, SecretVersion[]>();
  for (const v of versions) {
    const group = groups.get(v.id);
    if (group === undefined) groups.set(v.id, [v]);
    else group.push(v);
  }
  return [...groups.values()];
}
