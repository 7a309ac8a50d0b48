import { describe, expect, it } from 'vitest';
import { memoryReplayStore } from '../../src/index.ts';

// lru-cache treats an entry start time of 0 as "no TTL": fake clocks start far from 0.
const T0 = 1_700_000_000_000;

function clock(start = T0) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe('memoryReplayStore', () => {
  it('claims a key once until it expires, on the injected clock', () => {
    const c = clock();
    const store = memoryReplayStore({ now: c.now });
    expect(store.claim('k', 1_000)).toBe(true);
    expect(store.claim('k', 1_000)).toBe(false);
    c.advance(1_000); // alive for ttlMs inclusive, like Redis PX
    expect(store.claim('k', 1_000)).toBe(false);
    c.advance(1);
    expect(store.claim('k', 1_000)).toBe(true);
    expect(store.claim('k', 1_000)).toBe(false);
  });

  it('keeps keys independent and per-entry TTLs', () => {
    const c = clock();
    const store = memoryReplayStore({ now: c.now });
    expect(store.claim('short', 100)).toBe(true);
    expect(store.claim('long', 10_000)).toBe(true);
    c.advance(101);
    expect(store.claim('short', 100)).toBe(true);
    expect(store.claim('long', 10_000)).toBe(false);
  });

  it('release frees a key and is idempotent', () => {
    const store = memoryReplayStore({ now: clock().now });
    expect(store.claim('k', 1_000)).toBe(true);
    store.release('k');
    store.release('k');
    expect(store.claim('k', 1_000)).toBe(true);
    store.release('never-claimed');
  });

  it('is bounded by max, dropping the oldest claim first and reporting it', () => {
    const evicted: string[] = [];
    const store = memoryReplayStore({ max: 3, now: clock().now, onEvict: (k) => evicted.push(k) });
    for (const k of ['a', 'b', 'c']) expect(store.claim(k, 60_000)).toBe(true);
    expect(store.claim('a', 60_000)).toBe(false); // a lookup does not refresh recency
    expect(store.claim('d', 60_000)).toBe(true);
    expect(store.size).toBe(3);
    expect(evicted).toEqual(['a']);
    expect(store.claim('a', 60_000)).toBe(true); // forgotten: the documented cost of a too-small max
    expect(store.claim('c', 60_000)).toBe(false);
    store.clear();
    expect(store.size).toBe(0);
  });

  it('is synchronous and validates its arguments', () => {
    const store = memoryReplayStore();
    expect(store.synchronous).toBe(true);
    expect(store.name).toBe('memory');
    expect(() => store.claim('k', 0)).toThrow(TypeError);
    expect(() => store.claim('k', Number.NaN)).toThrow(TypeError);
    expect(() => store.claim('k', Number.POSITIVE_INFINITY)).toThrow(TypeError);
    expect(() => memoryReplayStore({ max: 0 })).toThrow(TypeError);
    expect(() => memoryReplayStore({ max: 1.5 })).toThrow(TypeError);
  });

  it('works with the real clock', () => {
    const store = memoryReplayStore();
    expect(store.claim('k', 60_000)).toBe(true);
    expect(store.claim('k', 60_000)).toBe(false);
  });
});
