// The typed-array count map behaves as a Map of positive counts under any sequence of ±1 updates
// (growth, shrinking, backward-shift deletion).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CountMap } from '../../src/partitioned/count-map.js';

describe('CountMap', () => {
  it('equals a Map of positive counts after any updates', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.boolean()), { maxLength: 2_000 }),
        (ops) => {
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
          for (let k = 0; k <= 300; k++) expect(m.get(k)).toBe(ref.get(k) ?? 0);
        },
      ),
      { numRuns: 200 },
    );
  });
});
