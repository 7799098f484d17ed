// Bulk mode of a flush: when a batch changes a large share of the items (a catch-up chunk, the
// forget of a very heavy user), maintaining every row's candidates offer by offer costs more than
// building them again. C is settled without offers, then one sweep over the upper triangle of C
// (each cell read once, feeding the rows of both its items) selects the best L + 1 of every row: the
// best L become its candidates and the next one its bound, and the lists are emitted straight from
// the selections — a cold start on a backlog costs about one retrain. Resumable between rows.
//
// Each row's selection is a heap of its L + 1 best so far (the worst at the root), starting from a
// floor: the L-th best current similarity among its present candidates (those L entries are in the
// row, so nothing below ranks in its top L). Entries under the floor are skipped unseen; if that
// leaves exactly L, the floor becomes a value-only bound.
//
// When the changed items T are fewer than half the items, only their rows are read (in full): a row
// outside T changed only in its T columns (its own n did not change, nor C outside T), which the
// rows of T deliver by symmetry. Its selection starts from its present candidates outside T, and
// its bound stays valid for the columns outside T that are not candidates.

import type { ModelCore } from './core.js';
import { BOTTOM } from './bounds.js';
import { COL_SHIFT, DenseCooccurrence, SAT } from './dense.js';
import type { Slice } from './slice.js';

export class BulkRebuild {
  private readonly cap: number;
  private readonly rows: number;
  private readonly v: Float64Array;
  private readonly id: Int32Array;
  private readonly c: Int32Array;
  private readonly count: Uint16Array;
  /** Per row: what an entry must reach to be looked at (the seed floor, then the heap's root). */
  private readonly floor: Float64Array;
  private readonly seed: Float64Array;
  /** Per row, the bound its new candidates get (value; name '' value-only, undefined none). */
  private readonly boundV: Float64Array;
  private readonly boundName: (string | undefined)[];
  /** Only the rows of changed items are read (see the header); inT(r) tells them. */
  private readonly partial: boolean;
  private readonly inT: Uint8Array;
  private i = 0;
  private phase = 0;
  private idx = new Int32Array(0);
  private cnt = new Int32Array(0);

  constructor(private readonly core: ModelCore) {
    this.cap = core.topk.keep + 1;
    this.rows = core.itemDict.capacity;
    this.v = new Float64Array(this.rows * this.cap);
    this.id = new Int32Array(this.rows * this.cap);
    this.c = new Int32Array(this.rows * this.cap);
    this.count = new Uint16Array(this.rows);
    this.floor = new Float64Array(this.rows);
    this.seed = new Float64Array(this.rows);
    this.boundV = new Float64Array(this.rows);
    this.boundName = new Array<string | undefined>(this.rows);
    this.inT = new Uint8Array(this.rows);
    for (const t of core.changedItems) this.inT[t] = 1;
    this.partial = core.changedItems.length * 2 < core.itemDict.size;
  }

  /** Bytes the selections take while a bulk flush runs (transient). */
  static bytes(rows: number, keep: number): number {
    return rows * ((keep + 1) * 16 + 18);
  }

  step(slice: Slice): boolean {
    const { n, topk } = this.core;
    if (this.phase === 0) {
      while (this.i < this.rows) {
        const r = this.i++;
        if ((n[r] as number) === 0) this.seed[r] = this.floor[r] = -Infinity;
        else if (this.partial && this.inT[r] === 0) this.keepOutsideT(r);
        else this.seed[r] = this.floor[r] = topk.candidateFloor(r);
        if (slice.spend(64)) return false;
      }
      [this.phase, this.i] = [1, 0];
    }
    if (this.phase === 1) {
      while (this.i < this.rows) if (this.sweep(this.i++, slice)) return false;
      [this.phase, this.i] = [2, 0];
    }
    while (this.i < this.rows) {
      this.adopt(this.i++);
      if (slice.spend(this.cap * 8)) return false;
    }
    topk.clearDue();
    return true;
  }

  /** Row r (not in T): its present candidates outside T, at their unchanged values, start its selection. */
  private keepOutsideT(r: number): void {
    const { n, store, topk } = this.core;
    this.seed[r] = this.floor[r] = -Infinity;
    const { ids, cs, count, stale } = topk.candidatesOf(r);
    const nr = n[r] as number;
    const min = this.core.options.minCooccurrences;
    const sim = topk.sim;
    for (let p = 0; p < count; p++) {
      const j = ids[p] as number;
      if (this.inT[j] === 1) continue;
      const c = stale ? store.get(r, j) : (cs[p] as number);
      if (c < min) continue;
      const v = sim(c, nr, n[j] as number);
      if (v >= this.floor[r]) this.push(r, v, j, c);
    }
  }

  /** Row i's cells right of the diagonal (all of them for a row of T), offered to rows i and j; true to yield. */
  private sweep(i: number, slice: Slice): boolean {
    const { n, store, options } = this.core;
    const ni = n[i] as number;
    if (ni === 0) return slice.spend(1);
    if (this.partial) return this.inT[i] === 1 ? this.sweepChanged(i, slice) : slice.spend(1);
    const floor = this.floor;
    const min = options.minCooccurrences;
    const sim = this.core.topk.sim;
    if (store instanceof DenseCooccurrence) {
      const { tiles, offset, width } = store.tileRow(i);
      for (let tj = (i + 1) >>> COL_SHIFT; tj << COL_SHIFT < width; tj++) {
        const t = tiles[tj] as Uint16Array;
        const j0 = tj << COL_SHIFT;
        const end = Math.min(1 << COL_SHIFT, width - j0);
        for (let col = Math.max(0, i + 1 - j0); col < end; col++) {
          let c = t[offset | col] as number;
          if (c < min) continue;
          const j = j0 | col;
          if (c === SAT) c = store.get(i, j);
          const v = sim(c, ni, n[j] as number);
          if (v >= (floor[i] as number)) this.push(i, v, j, c);
          if (v >= (floor[j] as number)) this.push(j, v, i, c);
        }
      }
      return slice.spend(width - i);
    }
    const bound = store.rowBound(i);
    if (this.idx.length < bound) [this.idx, this.cnt] = [new Int32Array(bound), new Int32Array(bound)];
    const len = store.row(i, this.idx, this.cnt, i + 1);
    const { idx, cnt } = this;
    for (let e = 0; e < len; e++) {
      const c = cnt[e] as number;
      if (c < min) continue;
      const j = idx[e] as number;
      const v = sim(c, ni, n[j] as number);
      if (v >= (floor[i] as number)) this.push(i, v, j, c);
      if (v >= (floor[j] as number)) this.push(j, v, i, c);
    }
    return slice.spend(len * 4 + 1);
  }

  /**
   * Row i of T, in full: its cells go to row i, and to row j when j is outside T or a later row of
   * T (an earlier one has delivered the pair already).
   */
  private sweepChanged(i: number, slice: Slice): boolean {
    const { n, store, options } = this.core;
    const ni = n[i] as number;
    const bound = store.rowBound(i);
    if (this.idx.length < bound) [this.idx, this.cnt] = [new Int32Array(bound), new Int32Array(bound)];
    const len = store.row(i, this.idx, this.cnt);
    const { idx, cnt, floor, inT } = this;
    const min = options.minCooccurrences;
    const sim = this.core.topk.sim;
    for (let e = 0; e < len; e++) {
      const c = cnt[e] as number;
      if (c < min) continue;
      const j = idx[e] as number;
      if (j < i && inT[j] === 1) continue;
      const v = sim(c, ni, n[j] as number);
      if (v >= (floor[i] as number)) this.push(i, v, j, c);
      if (v >= (floor[j] as number)) this.push(j, v, i, c);
    }
    return slice.spend(bound + len * 4);
  }

  /** Whether entry a ranks after entry b (the heap keeps the one ranking last at its root). */
  private after(a: number, b: number): boolean {
    const va = this.v[a] as number;
    const vb = this.v[b] as number;
    if (va !== vb) return va < vb;
    const names = this.core.itemDict.names;
    return (names[this.id[a] as number] as string) > (names[this.id[b] as number] as string);
  }

  /** Keeps (v, j, c) among row r's best `cap` (a v equal to the floor is decided by the ids). */
  private push(r: number, v: number, j: number, c: number): void {
    const cap = this.cap;
    const base = r * cap;
    const count = this.count[r] as number;
    const { v: sv, id: sid, c: sc } = this;
    if (count < cap) {
      // Append and sift up.
      let at = count;
      sv[base + at] = v;
      sid[base + at] = j;
      sc[base + at] = c;
      while (at > 0) {
        const up = (at - 1) >> 1;
        if (!this.after(base + at, base + up)) break;
        this.swap(base + at, base + up);
        at = up;
      }
      this.count[r] = count + 1;
      if (count + 1 === cap) this.floor[r] = Math.max(this.seed[r] as number, sv[base] as number);
      return;
    }
    // Full: replace the root if (v, j) ranks before it, then sift down.
    const root = sv[base] as number;
    if (v === root) {
      const names = this.core.itemDict.names;
      if ((names[j] as string) > (names[sid[base] as number] as string)) return;
    }
    sv[base] = v;
    sid[base] = j;
    sc[base] = c;
    this.siftDown(base, 0, cap);
    this.floor[r] = Math.max(this.seed[r] as number, sv[base]);
  }

  private swap(a: number, b: number): void {
    const { v, id, c } = this;
    const tv = v[a] as number;
    v[a] = v[b] as number;
    v[b] = tv;
    const ti = id[a] as number;
    id[a] = id[b] as number;
    id[b] = ti;
    const tc = c[a] as number;
    c[a] = c[b] as number;
    c[b] = tc;
  }

  /** Moves entry `at` of the heap at `base` (of `size` entries) down to its place. */
  private siftDown(base: number, at: number, size: number): void {
    for (;;) {
      const l = 2 * at + 1;
      if (l >= size) return;
      const r = l + 1;
      const down = r < size && this.after(base + r, base + l) ? r : l;
      if (!this.after(base + down, base + at)) return;
      this.swap(base + at, base + down);
      at = down;
    }
  }

  /** Sorts row r's heap best first, in place (heapsort: the root is the worst). */
  private sort(r: number): void {
    const base = r * this.cap;
    const count = this.count[r] as number;
    for (let end = count - 1; end > 0; end--) {
      this.swap(base, base + end);
      this.siftDown(base, 0, end);
    }
  }

  /** Row r's selection, sorted, becomes its candidates and bound. */
  private adopt(r: number): void {
    const { n, topk, itemDict } = this.core;
    if ((n[r] as number) === 0) return;
    this.sort(r);
    const L = this.cap - 1;
    const count = this.count[r] as number;
    const ids = this.id.subarray(r * this.cap, (r + 1) * this.cap);
    const cs = this.c.subarray(r * this.cap, (r + 1) * this.cap);
    const seed = this.seed[r] as number;
    // The best left out: the (L + 1)-th; else everything under the seed floor (value-only); else none.
    let bv = count > L ? (this.v[r * this.cap + L] as number) : seed > -Infinity ? seed : BOTTOM;
    let bn = count > L ? itemDict.names[ids[L] as number] : seed > -Infinity ? '' : undefined;
    if (this.partial && this.inT[r] === 0) {
      // Outside T, the columns outside T that are not candidates still rank after the old bound.
      const old = topk.bounds.v[r] as number;
      const oldName = topk.bounds.name[r];
      if (old > bv || (old === bv && bn !== undefined && oldName !== undefined && oldName < bn))
        [bv, bn] = [old, oldName];
    }
    this.boundV[r] = bv;
    this.boundName[r] = bn;
    topk.adopt(r, ids, cs, Math.min(count, L), bv, bn);
  }

  /**
   * Row r's top K straight from its selection (after the sweep), or -1 when the selection cannot
   * prove it (its K-th ties a value-only bound): the caller asks the index instead.
   */
  top(r: number, K: number, outId: Int32Array, outC: Int32Array, outV: Float64Array): number {
    const base = r * this.cap;
    const m = Math.min(this.count[r] as number, K);
    const bv = this.boundV[r] as number;
    if (bv !== BOTTOM) {
      // The K-th must rank before the bound (strictly: a value-only bound proves no equal value).
      if (m < K) return -1;
      const v = this.v[base + K - 1] as number;
      const bn = this.boundName[r] as string;
      const name = this.core.itemDict.names[this.id[base + K - 1] as number] as string;
      if (!(v > bv || (v === bv && name < bn))) return -1;
    }
    outId.set(this.id.subarray(base, base + m));
    outC.set(this.c.subarray(base, base + m));
    outV.set(this.v.subarray(base, base + m));
    return m;
  }
}
