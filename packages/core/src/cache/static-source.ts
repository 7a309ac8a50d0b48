/**
 * A static key list: checked and decoded once, at construction (a bad secret fails there, not per
 * request).
 *
 * @internal
 * @module
 */
import { VerificationError } from '../errors.ts';
import type { KeyturnEvent } from '../events.ts';
import { buildRing, usageKey, versionProblem, type KeyRing, type UsageBook } from '../keys/ring.ts';
import type { SecretVersion } from '../keys/types.ts';
import type { ProviderProfile } from '../providers/types.ts';
import type { KeySource, SecretStatus } from './source.ts';
import { Tiers } from './tiers.ts';

/** @internal */
export function staticSource(
  versions: readonly SecretVersion[],
  provider: ProviderProfile,
  usage: UsageBook & { promote(key: string): void },
  now: number,
  maxSecrets: number,
  emit: (event: KeyturnEvent) => void,
): KeySource {
  const snapshot = checkStaticKeys(versions);
  // Bounded: a per-request secretId must not grow memory without limit; a secret that verified a
  // request is never evicted by one that did not.
  const rings = new Tiers<KeyRing>(maxSecrets, maxSecrets);
  // Decode eagerly so configuration errors surface at startup.
  const probe = buildRing('default', snapshot, provider, undefined, { get: () => undefined, set: () => undefined }, now);
  const first = probe.invalid[0];
  if (first !== undefined) {
    throw new VerificationError(first.error.code, `${first.error.message} (key ${first.id})`, {
      provider: provider.name,
      keyId: first.id,
    });
  }
  const reported = new Set<string>();
  // The hot path asks for the same secret over and over: a repeat skips the LRU lookup.
  let last: KeyRing | undefined;
  const ringFor = (secretId: string): KeyRing => {
    if (last !== undefined && last.secretId === secretId) return last;
    let ring = rings.get(secretId);
    if (ring === undefined) {
      ring = buildRing(secretId, snapshot, provider, probe, usage, now);
      rings.set(secretId, ring);
      // One event per static key version (the same versions serve every secretId).
      for (const e of ring.entries) {
        if (e.role !== 'previous' || e.notAfter !== Infinity || reported.has(e.id)) continue;
        reported.add(e.id);
        emit({ type: 'previous-key-unbounded', store: 'static', secretId, keyId: e.id });
      }
    }
    last = ring;
    return ring;
  };
  return {
    storeName: 'static',
    peek: (secretId) => ringFor(secretId),
    get: (secretId) => Promise.resolve(ringFor(secretId)),
    verified(secretId, ring) {
      ring.verified = true;
      rings.promote(secretId);
      for (const e of ring.entries) usage.promote(usageKey(secretId, e.id));
    },
    refreshOnMiss: () => Promise.resolve(undefined),
    refreshOnMissInBackground: () => undefined,
    reload: (secretId) => Promise.resolve(rings.peek(secretId) === undefined ? 'not-held' : 'reloaded'),
    invalidate: () => undefined,
    holds: (secretId) => rings.peek(secretId) !== undefined,
    status(secretId): SecretStatus {
      const ring = ringFor(secretId);
      return {
        secretId,
        store: 'static',
        state: 'fresh',
        loadedAt: ring.loadedAt,
        ageMs: undefined,
        versions: ring.entries.map((e) => e.toJSON()),
        invalidVersions: [],
        lastError: undefined,
        nextRefreshAt: undefined,
        loading: false,
        verified: ring.verified,
      };
    },
    secretIds: () => [...rings.keys()],
    dispose: () => Promise.resolve(),
  };
}

/**
 * Checks a static key list and returns a private copy of it: shapes, unique ids, at most one
 * active key. Byte secrets are copied, so a caller that reuses or zeroes its buffer later cannot
 * change a key (the list is also read again for every new per-request `secretId`).
 */
function checkStaticKeys(versions: readonly SecretVersion[]): readonly SecretVersion[] {
  const ids = new Set<string>();
  let active: string | undefined;
  const copy: SecretVersion[] = [];
  for (const v of versions) {
    const problem = versionProblem(v);
    if (problem !== undefined) throw new TypeError(`createVerifier(): ${problem}`);
    if (ids.has(v.id)) {
      throw new TypeError(`createVerifier(): two key versions have the id ${JSON.stringify(v.id)}; every version needs its own id`);
    }
    ids.add(v.id);
    if (v.role === 'active') {
      if (active !== undefined) {
        throw new TypeError(
          `createVerifier(): two key versions are active (${JSON.stringify(active)} and ${JSON.stringify(v.id)}); keep one active key and make the other previous or pending`,
        );
      }
      active = v.id;
    }
    copy.push(
      Object.freeze({
        id: v.id,
        role: v.role,
        secret: typeof v.secret === 'string' ? v.secret : new Uint8Array(v.secret),
        notBefore: v.notBefore,
        notAfter: v.notAfter,
      }),
    );
  }
  return Object.freeze(copy);
}
