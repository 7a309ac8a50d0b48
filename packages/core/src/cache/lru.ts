/**
 * A bounded least-recently-used map on a plain `Map` (insertion order = recency order): what the key
 * cache, the static key source and the usage records need from an LRU, in a few hundred bytes of a
 * bundle, with memory that grows with the entries held rather than with the bound.
 *
 * @internal
 * @module
 */

/** See the module comment. */
export class Lru<K, V> {
  readonly #max: number;
  readonly #map = new Map<K, V>();
  readonly #onEvict: ((value: V, key: K) => void) | undefined;

  /** At most `max` entries (an integer ≥ 1); `onEvict` runs for an entry pushed out by a newer one. */
  constructor(max: number, onEvict?: (value: V, key: K) => void) {
    if (!Number.isInteger(max) || max < 1) throw new TypeError(`Lru: max must be an integer ≥ 1 (got ${String(max)})`);
    this.#max = max;
    this.#onEvict = onEvict;
  }

  /** The value, marking it most recently used. */
  get(key: K): V | undefined {
    const map = this.#map;
    const value = map.get(key);
    if (value !== undefined) {
      map.delete(key);
      map.set(key, value);
    }
    return value;
  }

  /** The value, without touching recency. */
  peek(key: K): V | undefined {
    return this.#map.get(key);
  }

  /** Whether `key` is held (recency untouched). */
  has(key: K): boolean {
    return this.#map.has(key);
  }

  /** Sets `key` as the most recently used entry; evicts the least recently used one beyond the bound. */
  set(key: K, value: V): void {
    const map = this.#map;
    map.delete(key);
    map.set(key, value);
    if (map.size > this.#max) {
      const oldest = map.keys().next().value as K;
      const evicted = map.get(oldest) as V;
      map.delete(oldest);
      this.#onEvict?.(evicted, oldest);
    }
  }

  /** Removes `key` (no eviction callback). */
  delete(key: K): boolean {
    return this.#map.delete(key);
  }

  /** Keys, most recently used first. */
  keys(): K[] {
    return [...this.#map.keys()].reverse();
  }

  /** Values, most recently used first. */
  values(): V[] {
    return [...this.#map.values()].reverse();
  }

  /** Entries held. */
  get size(): number {
    return this.#map.size;
  }

  /** Drops everything (no eviction callback). */
  clear(): void {
    this.#map.clear();
  }
}
