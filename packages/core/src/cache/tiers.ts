/**
 * Two LRU tiers: entries whose secret has verified a request (`proven`) and the others
 * (`probation`). New entries start on probation; a probation entry only ever evicts another
 * probation entry, so a flood of made-up secret ids (per-request `secretId`) can never push out a
 * tenant that has verified a request. Proven entries evict only each other, least recently used first.
 *
 * @internal
 * @module
 */
import { Lru } from './lru.ts';

/** See the module comment. */
export class Tiers<V extends object> {
  readonly #proven: Lru<string, V>;
  readonly #probation: Lru<string, V>;

  /** `onEvict` runs when an entry is pushed out by a newer one (never on `delete`, `promote` or `clear`). */
  constructor(provenMax: number, probationMax: number, onEvict?: (value: V) => void) {
    this.#proven = new Lru<string, V>(provenMax, onEvict);
    this.#probation = new Lru<string, V>(probationMax, onEvict);
  }

  /** The entry (either tier), marking it recently used. */
  get(key: string): V | undefined {
    return this.#proven.get(key) ?? this.#probation.get(key);
  }

  /** The entry (either tier), without touching recency. */
  peek(key: string): V | undefined {
    return this.#proven.peek(key) ?? this.#probation.peek(key);
  }

  /** Whether `key` is in the proven tier. */
  isProven(key: string): boolean {
    return this.#proven.has(key);
  }

  /** Adds a new entry, on probation unless `proven`. */
  set(key: string, value: V, proven = false): void {
    if (proven) {
      this.#probation.delete(key);
      this.#proven.set(key, value);
    } else {
      this.#proven.delete(key);
      this.#probation.set(key, value);
    }
  }

  /** Moves `key` from probation to the proven tier (a no-op when it is absent or already proven). */
  promote(key: string): void {
    const value = this.#probation.peek(key);
    if (value === undefined) return;
    this.#probation.delete(key);
    this.#proven.set(key, value);
  }

  /** Removes `key` from either tier (no eviction callback). */
  delete(key: string): void {
    this.#proven.delete(key);
    this.#probation.delete(key);
  }

  /** Every entry, proven ones first. */
  *values(): IterableIterator<V> {
    yield* this.#proven.values();
    yield* this.#probation.values();
  }

  /** Every key, proven ones first. */
  *keys(): IterableIterator<string> {
    yield* this.#proven.keys();
    yield* this.#probation.keys();
  }

  /** Entries held, both tiers. */
  get size(): number {
    return this.#proven.size + this.#probation.size;
  }

  /** Drops everything (no eviction callback). */
  clear(): void {
    this.#proven.clear();
    this.#probation.clear();
  }
}
