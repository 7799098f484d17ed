// C as a dense N×N Uint16 square, both directions (row i contiguous); counts ≥ 65535 are kept exactly
// in an overflow map keyed by cell. The largest allocation of the model, held in blocks of 64 rows:
// growing it (by 1/8 at a time) re-lays one block after the other, in slices, releasing each old
// block as its rows move, so that the square never exists twice and no single allocation is large.

import type { CooccurrenceStore } from './cooccurrence.js';
import type { Slice, Step } from './slice.js';

const SAT = 0xffff;
const ROWS = 16;
const SHIFT = 4;
/** Without a memory budget, the square stays under this (then C becomes sparse rows). */
export const UNBUDGETED_DENSE_BYTES = 2 ** 31;

export class DenseCooccurrence implements CooccurrenceStore {
  readonly kind = 'dense' as const;
  private cap = 0;
  /** Slots requested so far: row scans stop here rather than at the allocated stride. */
  private width = 0;
  private blocks: Uint16Array[] = [];
  private overflow = new Map<number, number>();
  nonzeros = 0;

  /** `maxBytes`: the largest square this store may grow to (beyond it, growthBytes is Infinity). */
  constructor(private readonly maxBytes = Infinity) {}

  get capacity(): number {
    return this.cap;
  }

  /** The stride a square holding `items` gets: growth by 1/8, a multiple of 64. */
  private nextCap(items: number): number {
    if (items <= this.cap) return this.cap;
    return Math.ceil(Math.max(items, this.cap * 1.125, ROWS) / ROWS) * ROWS;
  }

  /**
   * The new square's bytes beyond the current one's, plus the one block in flight while re-laying;
   * Infinity beyond maxBytes.
   */
  growthBytes(items: number): number {
    if (items <= this.cap) return 0;
    const next = this.nextCap(items);
    if (next * next * 2 > this.maxBytes) return Infinity;
    return (next * next - this.cap * this.cap + ROWS * next) * 2;
  }

  grow(items: number): Step | undefined {
    if (items > this.width) this.width = Math.min(items, this.cap);
    if (items <= this.cap) return undefined;
    const next = this.nextCap(items);
    const oldCap = this.cap;
    const blocks = this.blocks;
    let b = 0;
    return (slice: Slice) => {
      // Until done, blocks [0, b) have the new stride and [b, …) the old one: nothing reads C meanwhile.
      while (b < next >>> SHIFT) {
        const block = new Uint16Array(ROWS * next);
        const old = blocks[b];
        if (old !== undefined)
          for (let r = 0; r < ROWS; r++) block.set(old.subarray(r * oldCap, (r + 1) * oldCap), r * next);
        blocks[b++] = block;
        if (slice.spend(ROWS * next)) return false;
      }
      const moved = new Map<number, number>();
      for (const [idx, v] of this.overflow) moved.set(Math.floor(idx / oldCap) * next + (idx % oldCap), v);
      this.overflow = moved;
      this.cap = next;
      this.width = items;
      return true;
    };
  }

  get(i: number, j: number): number {
    const v = (this.blocks[i >>> SHIFT] as Uint16Array)[(i & (ROWS - 1)) * this.cap + j] as number;
    return v === SAT ? (this.overflow.get(i * this.cap + j) as number) : v;
  }

  addRow(i: number, cols: Int32Array, len: number, delta: 1 | -1): void {
    const d = this.blocks[i >>> SHIFT] as Uint16Array;
    const base = (i & (ROWS - 1)) * this.cap;
    let nz = 0;
    for (let k = 0; k < len; k++) {
      const c = cols[k] as number;
      if (c === i) continue;
      const v = d[base + c] as number;
      if (delta === 1) {
        if (v === 0) nz++;
        if (v >= SAT - 1) this.bumpOverflow(d, base + c, i * this.cap + c, v, 1);
        else d[base + c] = v + 1;
      } else {
        if (v === 1) nz--;
        if (v === SAT) this.bumpOverflow(d, base + c, i * this.cap + c, v, -1);
        else if (v === 0) throw new RangeError(`co-occurrence of ${i},${c} would go negative`);
        else d[base + c] = v - 1;
      }
    }
    this.nonzeros += nz;
  }

  /** A count at or beyond 65535: the cell holds SAT and the map the exact count. */
  private bumpOverflow(d: Uint16Array, at: number, key: number, v: number, delta: 1 | -1): void {
    const exact = (v === SAT ? (this.overflow.get(key) as number) : v) + delta;
    if (exact >= SAT) {
      d[at] = SAT;
      this.overflow.set(key, exact);
    } else {
      d[at] = exact;
      this.overflow.delete(key);
    }
  }

  row(i: number, outIdx: Int32Array, outCnt: Int32Array): number {
    const d = this.blocks[i >>> SHIFT] as Uint16Array;
    const base = (i & (ROWS - 1)) * this.cap;
    const width = this.width;
    let n = 0;
    for (let j = 0; j < width; j++) {
      const v = d[base + j] as number;
      if (v !== 0) {
        outIdx[n] = j;
        outCnt[n] = v === SAT ? (this.overflow.get(i * this.cap + j) as number) : v;
        n++;
      }
    }
    return n;
  }

  rowBound(): number {
    return this.width;
  }

  bytes(): number {
    return this.blocks.length * ROWS * this.cap * 2 + this.overflow.size * 48;
  }

  boundBytes(): number {
    return this.bytes();
  }
}
