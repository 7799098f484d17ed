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

  it('adds and removes whole rows as a map of counts would (tile edges, the diagonal, counts near 65,535)', () => {
    // Columns span two tile columns (2048 wide); some cells start a step below or at 65,535, where
    // the fast path must hand over to the overflow map.
    const width = 2100;
    const cols = fc.uniqueArray(fc.constantFrom(0, 1, 2, 2046, 2047, 2048, 2049, 2099), { maxLength: 8 });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(0, 2, 2047, 2048, 2099), cols, fc.boolean()), { maxLength: 60 }),
        fc.boolean(),
        fc.boolean(),
        (ops, start, ascending) => {
          const store = new DenseCooccurrence();
          grow(store, width);
          const ref = new Map<string, number>();
          // Cells (2047, 2048) and (2048, 2047) start at 65,534 or 65,535 (through the slow path).
          const base = start ? 65_535 : 65_534;
          for (let t = 0; t < base; t++) {
            store.addRow(2047, Int32Array.from([2048]), 1, 1);
            store.addRow(2048, Int32Array.from([2047]), 1, 1);
          }
          ref.set('2047,2048', base).set('2048,2047', base);
          for (const [i, cs, up] of ops) {
            const list = [...cs].sort((a, b) => (ascending ? a - b : b - a));
            // A removal only of cells that hold a count (else it throws, tested above).
            const valid = up ? list : list.filter((c) => c === i || (ref.get(`${i},${c}`) ?? 0) > 0);
            store.addRow(i, Int32Array.from(valid), valid.length, up ? 1 : -1);
            for (const c of valid) {
              if (c === i) continue;
              const v = (ref.get(`${i},${c}`) ?? 0) + (up ? 1 : -1);
              if (v === 0) ref.delete(`${i},${c}`);
              else ref.set(`${i},${c}`, v);
            }
          }
          expect(cells(store, width)).toEqual(ref);
          expect(store.nonzeros).toBe(ref.size);
        },
      ),
      { numRuns: 60 },
    );
  });
});
