/**
 * The bounded LRU behind the key cache, the static key source and the usage records (cache/lru.ts),
 * against a reference model: random operation sequences, recency, eviction order and callbacks.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Lru } from '../src/cache/lru.ts';

describe('Lru', () => {
  it('evicts the least recently used entry; get refreshes recency, peek and has do not', () => {
    const evicted: string[] = [];
    const lru = new Lru<string, { v: number }>(2, (value, key) => evicted.push(`${key}=${value.v}`));
    lru.set('a', { v: 1 });
    lru.set('b', { v: 2 });
    expect(lru.get('a')?.v).toBe(1); // a is now the most recent
    expect(lru.peek('b')?.v).toBe(2);
    expect(lru.has('b')).toBe(true);
    lru.set('c', { v: 3 }); // evicts b
    expect(evicted).toEqual(['b=2']);
    expect(lru.keys()).toEqual(['c', 'a']);
    expect(lru.values().map((x) => x.v)).toEqual([3, 1]);
    lru.set('a', { v: 4 }); // update: no eviction, a most recent
    expect(evicted).toEqual(['b=2']);
    expect(lru.keys()).toEqual(['a', 'c']);
    expect(lru.delete('c')).toBe(true);
    expect(lru.size).toBe(1);
    lru.clear();
    expect(lru.size).toBe(0);
    expect(evicted).toEqual(['b=2']);
    expect(() => new Lru(0)).toThrow(TypeError);
  });

  it('matches a reference model on random operation sequences', () => {
    const op = fc.oneof(
      fc.record({ k: fc.constant('get' as const), key: fc.nat(6) }),
      fc.record({ k: fc.constant('peek' as const), key: fc.nat(6) }),
      fc.record({ k: fc.constant('set' as const), key: fc.nat(6), v: fc.nat() }),
      fc.record({ k: fc.constant('delete' as const), key: fc.nat(6) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(op, { maxLength: 60 }), (max, ops) => {
        const evicted: number[] = [];
        const lru = new Lru<number, { v: number }>(max, (_v, key) => evicted.push(key));
        let model: [number, number][] = []; // least recent first
        const modelEvicted: number[] = [];
        for (const o of ops) {
          const i = model.findIndex(([key]) => key === o.key);
          if (o.k === 'get') {
            expect(lru.get(o.key)?.v).toBe(i < 0 ? undefined : model[i]![1]);
            if (i >= 0) model = [...model.filter((_, j) => j !== i), model[i]!];
          } else if (o.k === 'peek') {
            expect(lru.peek(o.key)?.v).toBe(i < 0 ? undefined : model[i]![1]);
          } else if (o.k === 'set') {
            lru.set(o.key, { v: o.v });
            model = [...model.filter(([key]) => key !== o.key), [o.key, o.v]];
            if (model.length > max) modelEvicted.push(model.shift()![0]);
          } else {
            expect(lru.delete(o.key)).toBe(i >= 0);
            model = model.filter(([key]) => key !== o.key);
          }
          expect(lru.keys()).toEqual(model.map(([key]) => key).reverse());
          expect(evicted).toEqual(modelEvicted);
        }
      }),
    );
  });
});
