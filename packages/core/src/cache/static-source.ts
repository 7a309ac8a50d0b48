/**
 * A static key list: decoded once, at construction (a bad secret fails there, not per request).
 *
 * @internal
 * @module
 */
import { LRUCache } from 'lru-cache';
import { VerificationError } from '../errors.ts';
import { buildRing, versionProblem, type KeyRing, type UsageBook } from '../keys/ring.ts';
import type { SecretVersion } from '../keys/types.ts';
import type { ProviderProfile } from '../providers/types.ts';
import type { KeySource, SecretStatus } from './source.ts';

/** @internal */
export function staticSource(
  versions: readonly SecretVersion[],
  provider: ProviderProfile,
  usage: UsageBook,
  now: number,
  maxSecrets = 1_000,
): KeySource {
  for (const v of versions) {
    const problem = versionProblem(v);
    if (problem !== undefined) throw new TypeError(`createVerifier(): ${problem}`);
  }
  // Bounded: a per-request secretId must not grow memory without limit.
  const rings = new LRUCache<string, KeyRing>({ max: maxSecrets });
  // Decode eagerly so configuration errors surface at startup.
  const probe = buildRing('default', versions, provider, undefined, { get: () => undefined, set: () => undefined }, now);
  const first = probe.invalid[0];
  if (first !== undefined) {
    throw new VerificationError(first.error.code, `${first.error.message} (key ${first.id})`, {
      provider: provider.name,
      keyId: first.id,
    });
  }
  // The hot path asks for the same secret over and over: a repeat skips the LRU lookup.
  let last: KeyRing | undefined;
  const ringFor = (secretId: string): KeyRing => {
    if (last !== undefined && last.secretId === secretId) return last;
    let ring = rings.get(secretId);
    if (ring === undefined) {
      ring = buildRing(secretId, versions, provider, probe, usage, now);
      rings.set(secretId, ring);
    }
    last = ring;
    return ring;
  };
  return {
    storeName: 'static',
    peek: (secretId) => ringFor(secretId),
    get: (secretId) => Promise.resolve(ringFor(secretId)),
    refreshOnMiss: () => Promise.resolve(undefined),
    refreshOnMissInBackground: () => undefined,
    invalidate: () => undefined,
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
      };
    },
    secretIds: () => [...rings.keys()],
    dispose: () => Promise.resolve(),
  };
}
