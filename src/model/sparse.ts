// C as sparse rows: one linear-probing hash per row in typed arrays (key Int32, count Uint32), load
// ≤ 0.6, backward-shift deletion so that an entry returning to 0 frees its cell. For catalogues whose
// dense square does not fit the memory budget. Table bytes are a running total (stats are O(1)).

import type { CooccurrenceReader, CooccurrenceStore } from './cooccurrence.js';
import { SPARSE_CELL_BYTES, SPARSE_ROW_BYTES } from './memory.js';
import type { Slice, Step } from './slice.js';

const EMPTY = -1;

/** One row: linear probing over a power-of-two table, load ≤ 0.6. */
class SparseRow {
  keys: Int32Array;
  vals: Uint32Array;
  size = 0;
  mask: number;

  constructor(capacity = 8) {
    this.keys = new Int32Array(capacity).fill(EMPTY);
    this.vals = new Uint32Array(capacity);
    this.mask = capacity - 1;
  }

  /** A row holding keys[p] → vals[p] for p < len (distinct keys, counts > 0). */
  static of(keys: Int32Array, vals: Int32Array, len: number): SparseRow {
    let capacity = 8;
    while (len * 5 > capacity * 3) capacity *= 2;
    const r = new SparseRow(capacity);
    for (let p = 0; p < len; p++) {
      const key = keys[p] as number;
      let s = r.slot(key);
      while (r.keys[s] !== EMPTY) s = (s + 1) & r.mask;
      r.keys[s] = key;
      r.vals[s] = vals[p] as number;
    }
    r.size = len;
    return r;
  }

  private slot(key: number): number {
    return (Math.imul(key, 0x9e3779b1) >>> 0) & this.mask;
  }

  bytes(): number {
    return this.keys.byteLength + this.vals.byteLength;
  }

  get(key: number): number {
    const keys = this.keys;
    for (let s = this.slot(key); ; s = (s + 1) & this.mask) {
      const k = keys[s] as number;
      if (k === key) return this.vals[s] as number;
      if (k === EMPTY) return 0;
    }
  }

  /** Adds delta; returns +1 if a cell was created, -1 if one was freed, else 0. */
  add(key: number, delta: 1 | -1): number {
    const keys = this.keys;
    let s = this.slot(key);
    for (; ; s = (s + 1) & this.mask) {
      const k = keys[s] as number;
      if (k === key) break;
      if (k === EMPTY) {
        if (delta === -1) throw new RangeError(`co-occurrence with ${key} would go negative`);
        keys[s] = key;
        this.vals[s] = 1;
        this.size++;
        if (this.size * 5 > keys.length * 3) this.rehash(keys.length * 2);
        return 1;
      }
    }
    const v = (this.vals[s] as number) + delta;
    if (v > 0) {
      this.vals[s] = v;
      return 0;
    }
    this.removeAt(s);
    return -1;
  }

  private removeAt(hole: number): void {
    // Backward-shift deletion keeps every probe chain unbroken without tombstones.
    const keys = this.keys;
    const vals = this.vals;
    const mask = this.mask;
    let s = (hole + 1) & mask;
    for (; ; s = (s + 1) & mask) {
      const k = keys[s] as number;
      if (k === EMPTY) break;
      const home = this.slot(k);
      // Move k into the hole if its home is not cyclically within (hole, s].
      if (((s - home) & mask) >= ((s - hole) & mask)) {
        keys[hole] = k;
        vals[hole] = vals[s] as number;
        hole = s;
      }
    }
    keys[hole] = EMPTY;
    vals[hole] = 0;
    this.size--;
    // Shrink below load 1/4 (to just under 1/2): with growth above 0.6 (to just over 0.3), a table
    // never holds more than 32 bytes per cell beyond its smallest size (SPARSE_CELL_BYTES).
    if (this.keys.length > 8 && this.size * 4 < this.keys.length) this.rehash(this.keys.length / 2);
  }

  private rehash(capacity: number): void {
    const oldK = this.keys;
    const oldV = this.vals;
    this.keys = new Int32Array(capacity).fill(EMPTY);
    this.vals = new Uint32Array(capacity);
    this.mask = capacity - 1;
    for (let s = 0; s < oldK.length; s++) {
      const k = oldK[s] as number;
      if (k === EMPTY) continue;
      let t = this.slot(k);
      while (this.keys[t] !== EMPTY) t = (t + 1) & this.mask;
      this.keys[t] = k;
      this.vals[t] = oldV[s] as number;
    }
  }
}

const ROW_OVERHEAD = 64;

export class SparseCooccurrence implements CooccurrenceStore {
  readonly kind = 'sparse' as const;
  private rows: (SparseRow | undefined)[] = [];
  nonzeros = 0;
  /** Bytes of the row tables, kept up to date as they grow and shrink. */
  private tableBytes = 0;
  private liveRows = 0;

  get capacity(): number {
    return this.rows.length;
  }

  growthBytes(items: number): number {
    return Math.max(0, items - this.rows.length) * 8;
  }

  grow(items: number): Step | undefined {
    while (this.rows.length < items) this.rows.push(undefined);
    return undefined;
  }

  /**
   * The work of copying `dense` (slots [0, items)) into this empty store, row by row; `dense` must
   * not change meanwhile.
   */
  copyFrom(dense: CooccurrenceReader, items: number): Step {
    this.grow(items);
    let i = 0;
    let idx = new Int32Array(0);
    let cnt = new Int32Array(0);
    return (slice: Slice) => {
      for (; i < items; i++) {
        const bound = dense.rowBound(i);
        if (idx.length < bound) [idx, cnt] = [new Int32Array(bound), new Int32Array(bound)];
        const len = dense.row(i, idx, cnt);
        if (len > 0) {
          const r = SparseRow.of(idx, cnt, len);
          this.rows[i] = r;
          this.liveRows++;
          this.tableBytes += r.bytes() + ROW_OVERHEAD;
          this.nonzeros += len;
        }
        if (slice.spend(bound)) {
          i++;
          return false;
        }
      }
      return true;
    };
  }

  get(i: number, j: number): number {
    return this.rows[i]?.get(j) ?? 0;
  }

  addRow(i: number, cols: Int32Array, len: number, delta: 1 | -1): void {
    let r = this.rows[i];
    if (r === undefined) {
      r = this.rows[i] = new SparseRow();
      this.liveRows++;
      this.tableBytes += ROW_OVERHEAD;
    }
    const before = r.bytes();
    let nz = 0;
    for (let k = 0; k < len; k++) {
      const c = cols[k] as number;
      if (c !== i) nz += r.add(c, delta);
    }
    this.nonzeros += nz;
    this.tableBytes += r.bytes() - before;
    if (r.size === 0) {
      this.rows[i] = undefined;
      this.liveRows--;
      this.tableBytes -= r.bytes() + ROW_OVERHEAD;
    }
  }

  row(i: number, outIdx: Int32Array, outCnt: Int32Array, from = 0): number {
    const r = this.rows[i];
    if (r === undefined) return 0;
    const keys = r.keys;
    const vals = r.vals;
    let n = 0;
    for (let s = 0; s < keys.length; s++) {
      const k = keys[s] as number;
      if (k !== EMPTY && k >= from) {
        outIdx[n] = k;
        outCnt[n] = vals[s] as number;
        n++;
      }
    }
    return n;
  }

  rowBound(i: number): number {
    return this.rows[i]?.size ?? 0;
  }

  bytes(): number {
    return this.rows.length * 8 + this.tableBytes;
  }

  /** What bytes() may reach whatever the tables' loads: SPARSE_ROW_BYTES a row, SPARSE_CELL_BYTES a cell. */
  boundBytes(): number {
    return this.rows.length * 8 + this.liveRows * SPARSE_ROW_BYTES + this.nonzeros * SPARSE_CELL_BYTES;
  }
}
