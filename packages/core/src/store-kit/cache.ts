/**
 * The version-value cache: a version's value never changes, so each is read once. Bounded (lru-cache),
 * values wrapped in `SecretMaterial` (lru-cache's diagnostics channel publishes what it holds), bytes
 * copied in and out.
 *
 * @module
 */
import { LRUCache } from 'lru-cache';
import { SecretMaterial } from '../keys/secret.ts';

/** One cached value and the non-secret facts read with it (a creation time, ...). */
export interface CachedValue<M> {
  /** The value, exactly as stored (bytes are a fresh copy). */
  readonly value: string | Uint8Array;
  /** What the store keeps beside it. */
  readonly meta: M;
}

/** See {@link versionValueCache}. */
export interface VersionValueCache<M = undefined> {
  /** The value of `key` (marks it recently used). */
  get(key: string): CachedValue<M> | undefined;
  /** Remembers a value. */
  set(key: string, value: string | Uint8Array, meta: M): void;
  /** Forgets one value. */
  delete(key: string): void;
  /** Forgets every value whose key `drop` selects (for example the retired versions of one secret). */
  prune(drop: (key: string) => boolean): void;
  /** Forgets everything. */
  clear(): void;
  /** Values held. */
  readonly size: number;
}

interface Entry<M> {
  readonly material: SecretMaterial;
  readonly meta: M;
}

/** A cache of at most `max` version values (`0`: cache nothing). */
export function versionValueCache<M = undefined>(max: number): VersionValueCache<M> {
  const lru = max > 0 ? new LRUCache<string, Entry<M>>({ max }) : undefined;
  return {
    get(key) {
      const e = lru?.get(key);
      if (e === undefined) return undefined;
      const v = e.material.reveal();
      return { value: typeof v === 'string' ? v : new Uint8Array(v), meta: e.meta };
    },
    set(key, value, meta) {
      lru?.set(key, { material: new SecretMaterial(value), meta }); // SecretMaterial copies bytes
    },
    delete(key) {
      lru?.delete(key);
    },
    prune(drop) {
      if (lru === undefined) return;
      for (const key of [...lru.keys()]) if (drop(key)) lru.delete(key);
    },
    clear() {
      lru?.clear();
    },
    get size() {
      return lru?.size ?? 0;
    },
  };
}
