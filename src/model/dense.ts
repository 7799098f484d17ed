// C as a dense N×N Uint16 square, both directions (row i contiguous); counts ≥ 65535 are kept exactly
// in an overflow map keyed by cell. The largest allocation of the model, held in blocks of a
// power-of-two number of rows and at least 33 MiB each: growing the square (by 1/8 at a time)
// re-lays the rows into new blocks in slices, releasing each old block once its rows have moved, so
// that the square never exists twice; blocks that large are always mapped and unmapped whole by the
// allocator, so that freed squares are returned to the system rather than fragmenting its heap.

import type { CooccurrenceStore } from './cooccurrence.js';
import type { Slice, Step } from './slice.js';

const SAT = 0xffff;
const BLOCK_BYTES = 33 * 2 ** 20;
/** Rows copied between two checks of the slice while re-laying. */
const ROWS_PER_STEP = 16;
/** Without a memory budget, the square stays under this (then C becomes sparse rows). */
export const UNBUDGETED_DENSE_BYTES = 2 ** 31;

/** log2 of the rows per block for a stride: the fewest that make a block ≥ BLOCK_BYTES (or hold all rows). */
function blockShift(stride: number): number {
  let shift = 0;
  while ((1 << shift) * stride * 2 < BLOCK_BYTES && 1 << shift < stride) shift++;
  return shift;
}

export class DenseCooccurrence implements CooccurrenceStore {
  readonly kind = 'dense' as const;
  private cap = 0;
  private shift = 0;
  private mask = 0;
  /** Slots requested so far: row scans stop here rather than at the allocated stride. */
  private width = 0;
  private blocks: Uint16Array[] = [];
  /** Bytes of the blocks. */
  private allocated = 0;
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
    return Math.ceil(Math.max(items, this.cap * 1.125, 64) / 64) * 64;
  }

  private static blockBytes(stride: number): number {
    return (1 << blockShift(stride)) * stride * 2;
  }

  /** Rows of block b of a square of `stride`: the last one only as many as the square needs. */
  private static blockRows(b: number, shift: number, stride: number): number {
    return Math.min(1 << shift, stride - (b << shift));
  }

  /**
   * The new square's bytes beyond the current one's, plus a new and an old block both in flight while
   * re-laying; Infinity beyond maxBytes.
   */
  growthBytes(items: number): number {
    if (items <= this.cap) return 0;
    const next = this.nextCap(items);
    if (next * next * 2 > this.maxBytes) return Infinity;
    return (next * next - this.cap * this.cap) * 2 + 2 * DenseCooccurrence.blockBytes(next);
  }

  grow(items: number): Step | undefined {
    if (items > this.width) this.width = Math.min(items, this.cap);
    if (items <= this.cap) return undefined;
    const next = this.nextCap(items);
    const oldCap = this.cap;
    const oldShift = this.shift;
    const old = this.blocks;
    const shift = blockShift(next);
    const rowsPerBlock = 1 << shift;
    const blocks: Uint16Array[] = [];
    let row = 0;
    return (slice: Slice) => {
      // Until done, nothing reads C: rows move from `old` (released block by block) to `blocks`.
      while (row < oldCap) {
        const end = Math.min(oldCap, row + ROWS_PER_STEP);
        for (; row < end; row++) {
          const b = row >>> shift;
          const to = (blocks[b] ??= new Uint16Array(DenseCooccurrence.blockRows(b, shift, next) * next));
          const from = old[row >>> oldShift] as Uint16Array;
          const at = (row & ((1 << oldShift) - 1)) * oldCap;
          to.set(from.subarray(at, at + oldCap), (row & (rowsPerBlock - 1)) * next);
          if (((row + 1) & ((1 << oldShift) - 1)) === 0 || row + 1 === oldCap)
            old[row >>> oldShift] = new Uint16Array(0);
        }
        if (slice.spend(ROWS_PER_STEP * next)) return false;
      }
      for (let b = 0; b << shift < next; b++)
        blocks[b] ??= new Uint16Array(DenseCooccurrence.blockRows(b, shift, next) * next);
      const moved = new Map<number, number>();
      for (const [idx, v] of this.overflow) moved.set(Math.floor(idx / oldCap) * next + (idx % oldCap), v);
      this.overflow = moved;
      this.blocks = blocks;
      this.allocated = next * next * 2;
      this.cap = next;
      this.shift = shift;
      this.mask = rowsPerBlock - 1;
      this.width = items;
      return true;
    };
  }

  get(i: number, j: number): number {
    const v = (this.blocks[i >>> this.shift] as Uint16Array)[(i & this.mask) * this.cap + j] as number;
    return v === SAT ? (this.overflow.get(i * this.cap + j) as number) : v;
  }

  addRow(i: number, cols: Int32Array, len: number, delta: 1 | -1): void {
    const d = this.blocks[i >>> this.shift] as Uint16Array;
    const base = (i & this.mask) * this.cap;
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
    const d = this.blocks[i >>> this.shift] as Uint16Array;
    const base = (i & this.mask) * this.cap;
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
    return this.allocated + this.overflow.size * 48;
  }

  boundBytes(): number {
    return this.bytes();
  }
}
