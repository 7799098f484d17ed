// The dense square in blocks of 64 rows: cells at block edges, counts beyond 16 bits kept exactly,
// and growth (re-laying block after block in slices) keeping every count.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DenseCooccurrence } from '../../src/model/dense.js';
import { QUANTUM, runToEnd, setSliceQuantum, Slice } from '../../src/model/slice.js';

function grow(store: DenseCooccurrence, items: number): void {
  const step = store.grow(items);
  if (step !== undefined) runToEnd(step);
}

/** The nonzero cells of every row, through row() and get(). */
function cells(store: DenseCooccurrence, items: number): Map<string, number> {
  const out = new Map<string, number>();
  const idx = new Int32Array(items);
  const cnt = new Int32Array(items);
  for (let i = 0; i < items; i++) {
    const len = store.row(i, idx, cnt);
    for (let p = 0; p < len; p++) {
      out.set(`${i},${idx[p]}`, cnt[p]!);
      expect(store.get(i, idx[p]!)).toBe(cnt[p]);
    }
  }
  return out;
}

describe('the dense square', () => {
  // Every resume point of a growth is exercised: ask whether to yield after every unit of work.
  beforeAll(() => setSliceQuantum(1));
  afterAll(() => setSliceQuantum(QUANTUM));

  it('keeps counts beyond 65,535 exactly, up and down, at block edges', () => {
    const store = new DenseCooccurrence();
    grow(store, 130);
    const edges = [0, 63, 64, 127, 129];
    for (const i of edges)
      for (let t = 0; t < 70_000; t++) store.addRow(i, Int32Array.from(edges), edges.length, 1);
    expect(store.get(63, 64)).toBe(70_000);
    expect(store.get(129, 0)).toBe(70_000);
    expect(store.get(63, 63)).toBe(0); // the diagonal is not stored
    for (const i of edges)
      for (let t = 0; t < 4_466; t++) store.addRow(i, Int32Array.from(edges), edges.length, -1);
    expect(store.get(64, 127)).toBe(65_534);
    expect(store.nonzeros).toBe(edges.length * (edges.length - 1));
    expect(() => store.addRow(1, Int32Array.from([2]), 1, -1)).toThrow(/negative/);
  });

  it('grows in slices without losing a count (overflowing ones included)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(299), fc.nat(299), fc.integer({ min: 1, max: 3 })), { maxLength: 200 }),
        fc.integer({ min: 1, max: 300 }),
        (adds, first) => {
          const store = new DenseCooccurrence();
          grow(store, first);
          const ref = new Map<string, number>();
          const big = (i: number, j: number) => i % 97 === 0 && j % 89 === 0;
          for (const [i0, j0, times] of adds) {
            const [i, j] = [i0 % first, j0 % first];
            if (i === j) continue;
            const n = big(i, j) ? 65_540 * times : times;
            for (let t = 0; t < n; t++) {
              store.addRow(i, Int32Array.from([j]), 1, 1);
              store.addRow(j, Int32Array.from([i]), 1, 1);
            }
            ref.set(`${i},${j}`, (ref.get(`${i},${j}`) ?? 0) + n);
            ref.set(`${j},${i}`, (ref.get(`${j},${i}`) ?? 0) + n);
          }
          const step = store.grow(300);
          if (step !== undefined) {
            let slices = 0;
            const slice = new Slice(() => true);
            while (!step(slice)) slices++;
            expect(slices).toBeGreaterThan(0);
          }
          expect(store.capacity).toBeGreaterThanOrEqual(300);
          expect(cells(store, 300)).toEqual(ref);
          expect(store.nonzeros).toBe(ref.size);
        },
      ),
      { numRuns: 40 },
    );
  });
});
