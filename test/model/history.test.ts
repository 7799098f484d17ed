// A user's history: membership by item, and the arrival order that decides which interaction leaves
// first at the per-user cap and that snapshots keep.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { History } from '../../src/model/history.js';

describe('a user history', () => {
  it('keeps arrival order through adds, removes and re-adds, whatever the item numbers', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ add: fc.boolean(), item: fc.integer({ min: 0, max: 30 }) }), { maxLength: 200 }),
        (ops) => {
          const h = new History();
          const ref = new Set<number>(); // a Set iterates in insertion order
          for (const { add, item } of ops) {
            expect(add ? h.add(item) : h.delete(item)).toBe(add ? !ref.has(item) : ref.has(item));
            if (add) ref.add(item);
            else ref.delete(item);
          }
          expect([...h.arrival()]).toEqual([...ref]);
          expect([...h.sorted()]).toEqual([...ref].sort((a, b) => a - b));
          expect(h.oldest()).toBe(ref.size === 0 ? -1 : [...ref][0]);
          for (let x = 0; x <= 30; x++) expect(h.has(x)).toBe(ref.has(x));
          expect([...History.fromArrival(h.arrival()).arrival()]).toEqual([...ref]);
        },
      ),
    );
  });

  it('renumbers arrivals before their rank would overflow, keeping the order', () => {
    const h = new History(4, 0x7fffffff - 3);
    for (const x of [9, 3, 7, 1, 5, 2]) h.add(x);
    h.delete(7);
    h.add(7);
    expect([...h.arrival()]).toEqual([9, 3, 1, 5, 2, 7]);
    expect(h.oldest()).toBe(9);
  });

  it('refuses a restored history that repeats an item', () => {
    expect(() => History.fromArrival(Int32Array.from([4, 2, 4]))).toThrow(RangeError);
  });
});
