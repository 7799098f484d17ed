// The typed-array count map behaves as a Map of positive counts under any sequence of ±1 updates
// (growth, shrinking, backward-shift deletion).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CountMap } from '../../src/partitioned/count-map.js';

describe('CountMap', () => {
  // Keys from a narrow range fill the map (it goes dense, and back to sparse as counts return to 0);
  // keys from a wide one keep it sparse.
  it.each([
    ['narrow keys (dense and back)', 300, 2_000],
    ['wide keys (sparse)', 100_000, 600],
  ])('equals a Map of positive counts after any updates: %s', (_, maxKey, maxLength) => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: maxKey }), fc.boolean()), { maxLength }),
        fc.array(fc.integer({ min: 0, max: maxKey }), { maxLength }),
        (grow, shrink) => {
          // Up and down updates as drawn, then removals that empty most of the map.
          const ops: [number, boolean][] = [...grow, ...shrink.map((k): [number, boolean] => [k, false])];
          const m = new CountMap();
          const ref = new Map<number, number>();
          for (const [key, up] of ops) {
            const had = ref.get(key) ?? 0;
            if (!up && had === 0) {
              expect(() => m.add(key, -1)).toThrow(RangeError);
              continue;
            }
            const r = m.add(key, up ? 1 : -1);
            const now = had + (up ? 1 : -1);
            if (now === 0) ref.delete(key);
            else ref.set(key, now);
            expect(r).toBe(had === 0 ? 1 : now === 0 ? -1 : 0);
          }
          expect(m.size).toBe(ref.size);
          const seen = new Map<number, number>();
          m.forEach((k, c) => seen.set(k, c));
          expect(new Map([...seen].sort((a, b) => a[0] - b[0]))).toEqual(
            new Map([...ref].sort((a, b) => a[0] - b[0])),
          );
          for (const k of [...ref.keys(), 0, maxKey]) expect(m.get(k)).toBe(ref.get(k) ?? 0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('takes the dense layout when it is no larger, and leaves it when few keys remain', () => {
    const m = new CountMap();
    for (let k = 0; k < 1_000; k++) m.add(k, 1);
    expect(m.isDense).toBe(true);
    expect(m.bytes).toBeLessThanOrEqual(1_000 * 4 * 1.5);
    m.add(5_000, 1);
    expect(m.get(5_000)).toBe(1);
    for (let k = 0; k < 900; k++) m.add(k, -1);
    expect(m.isDense).toBe(false);
    expect(m.size).toBe(101);
    expect(m.get(950)).toBe(1);
    expect(m.get(5_000)).toBe(1);
    const sparse = new CountMap();
    for (let k = 0; k < 1_000; k++) sparse.add(k * 97, 1);
    expect(sparse.isDense).toBe(false);
  });
});
