// The co-occurrence matrix C = HᵀH (off-diagonal), symmetric, stored in both directions so that a row
// is contiguous: row updates and row scans are what forgetting and top-K maintenance cost.
//
// Two representations behind one interface:
// - DenseCooccurrence: an N×N Uint16 square (2 bytes per directed cell), counts ≥ 65535 kept exactly
//   in an overflow map. Fastest; used while N² · 2 bytes stays under a budget (default 2 GiB ≈ 32k items).
// - SparseCooccurrence: one linear-probing hash per row in typed arrays (key Int32, count Uint32),
//   backward-shift deletion so an entry that returns to 0 frees its cell. For catalogues beyond that.

/** What the top-K index may read of C. */
export interface CooccurrenceReader {
  get(i: number, j: number): number;
  /** Copies the nonzero entries of row i (ascending column for dense, any order for sparse); returns how many. */
  row(i: number, outIdx: Int32Array, outCnt: Int32Array): number;
  /** Upper bound of row i's nonzero count (for sizing scratch buffers). */
  rowBound(i: number): number;
}

export interface CooccurrenceStore extends CooccurrenceReader {
  readonly kind: 'dense' | 'sparse';
  /** Makes slots [0, items) addressable. */
  ensureCapacity(items: number): void;
  /** C[i][c] += delta for every c of cols[0..len) except c === i. */
  addRow(i: number, cols: Int32Array, len: number, delta: 1 | -1): void;
  /** Directed nonzero cells (= 2 × unordered pairs). */
  readonly nonzeros: number;
  /** Bytes held (O(1): read on every metrics scrape). */
  bytes(): number;
}

const SAT = 0xffff;

export class DenseCooccurrence implements CooccurrenceStore {
  readonly kind = 'dense' as const;
  private cap = 0;
  /** Slots requested so far: row scans stop here rather than at the allocated stride. */
  private width = 0;
  private data = new Uint16Array(0);
  private readonly overflow = new Map<number, number>();
  nonzeros = 0;

  ensureCapacity(items: number): void {
    if (items > this.width) this.width = items;
    if (items <= this.cap) return;
    // Grow by 1/8: the square is the model's largest allocation, and each growth copies it once.
    const next = Math.ceil(Math.max(items, this.cap * 1.125, 64) / 64) * 64;
    const grown = new Uint16Array(next * next);
    for (let i = 0; i < this.cap; i++)
      grown.set(this.data.subarray(i * this.cap, (i + 1) * this.cap), i * next);
    if (this.overflow.size > 0) {
      const moved = [...this.overflow].map(
        ([idx, v]) => [Math.floor(idx / this.cap) * next + (idx % this.cap), v] as const,
      );
      this.overflow.clear();
      for (const [idx, v] of moved) this.overflow.set(idx, v);
    }
    this.cap = next;
    this.data = grown;
  }

  get(i: number, j: number): number {
    const idx = i * this.cap + j;
    const v = this.data[idx] as number;
    return v === SAT ? (this.overflow.get(idx) as number) : v;
  }

  addRow(i: number, cols: Int32Array, len: number, delta: 1 | -1): void {
    const d = this.data;
    const base = i * this.cap;
    let nz = 0;
    for (let k = 0; k < len; k++) {
      const c = cols[k] as number;
      if (c === i) continue;
      const idx = base + c;
      const v = d[idx] as number;
      if (delta === 1) {
        if (v === 0) nz++;
        if (v >= SAT - 1) this.bumpOverflow(idx, v, 1);
        else d[idx] = v + 1;
      } else {
        if (v === 1) nz--;
        if (v === SAT) this.bumpOverflow(idx, v, -1);
        else if (v === 0) throw new RangeError(`co-occurrence of ${i},${c} would go negative`);
        else d[idx] = v - 1;
      }
    }
    this.nonzeros += nz;
  }

  private bumpOverflow(idx: number, v: number, delta: 1 | -1): void {
    const exact = (v === SAT ? (this.overflow.get(idx) as number) : v) + delta;
    if (exact >= SAT) {
      this.data[idx] = SAT;
      this.overflow.set(idx, exact);
    } else {
      this.data[idx] = exact;
      this.overflow.delete(idx);
    }
  }

  row(i: number, outIdx: Int32Array, outCnt: Int32Array): number {
    const d = this.data;
    const base = i * this.cap;
    const width = this.width;
    let n = 0;
    for (let j = 0; j < width; j++) {
      const v = d[base + j] as number;
      if (v !== 0) {
        outIdx[n] = j;
        outCnt[n] = v === SAT ? (this.overflow.get(base + j) as number) : v;
        n++;
      }
    }
    return n;
  }

  rowBound(): number {
    return this.width;
  }

  bytes(): number {
    return this.data.byteLength + this.overflow.size * 48;
  }
}

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
    if (this.keys.length > 8 && this.size * 8 < this.keys.length) this.rehash(this.keys.length / 2);
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

  ensureCapacity(items: number): void {
    while (this.rows.length < items) this.rows.push(undefined);
  }

  get(i: number, j: number): number {
    return this.rows[i]?.get(j) ?? 0;
  }

  addRow(i: number, cols: Int32Array, len: number, delta: 1 | -1): void {
    let r = this.rows[i];
    if (r === undefined) {
      r = this.rows[i] = new SparseRow();
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
      this.tableBytes -= r.bytes() + ROW_OVERHEAD;
    }
  }

  row(i: number, outIdx: Int32Array, outCnt: Int32Array): number {
    const r = this.rows[i];
    if (r === undefined) return 0;
    const keys = r.keys;
    const vals = r.vals;
    let n = 0;
    for (let s = 0; s < keys.length; s++) {
      const k = keys[s] as number;
      if (k !== EMPTY) {
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
}
