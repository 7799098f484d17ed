// Exact top-K neighbour lists, maintained per item with a candidate buffer and a rank bound.
//
// Rank order: similarity descending, then neighbour id ascending (plain string order).
// Invariant per item k: every eligible neighbour j (C_kj ≥ min) that is NOT in k's buffer ranks
// strictly after the bound β_k = (value, name) — or k has no eligible neighbour outside its buffer
// (β_k = bottom). Then, once the buffer is re-ranked on current values, its first K entries are the
// exact top-K whenever its K-th entry ranks before β_k (or β_k is bottom). When that test fails the
// row is rescanned. A row scan rebuilds a buffer of L = 2K candidates and sets β_k to the best entry
// left out, so ties are exact.
//
// Only entries in columns of items whose n changed (set T) can change in a row outside T, and
// Jaccard is symmetric, so scanning the rows of T finds every entry of every other row that may have
// moved up past its bound: those are offered to that row's buffer. The work of a batch is therefore
// the rows of T plus O(L) per touched row — for a forget, the rows of the user's items.

import type { CooccurrenceStore } from './cooccurrence.js';
import type { Interner } from './interner.js';

const BOTTOM = -1;

export interface TopKHost {
  readonly store: CooccurrenceStore;
  readonly itemDict: Interner;
  n: Int32Array;
}

export class NeighborIndex {
  readonly L: number;
  private readonly B: number; // buffer capacity per row (2L): room to take offers between compactions
  private cap = 0;
  private buf = new Int32Array(0);
  private bufLen = new Uint16Array(0);
  private betaV = new Float64Array(0);
  private betaName: (string | undefined)[] = [];
  // scratch
  private rowIdx = new Int32Array(0);
  private rowCnt = new Int32Array(0);
  private readonly selV: Float64Array;
  private readonly selId: Int32Array;
  private readonly tmpV: Float64Array;
  private readonly tmpC: Int32Array;
  private readonly tmpId: Int32Array;
  /** Rows whose full rescan was forced by a failed bound test (for benchmarks). */
  forcedRescans = 0;

  constructor(
    private readonly host: TopKHost,
    readonly K: number,
    readonly minCooccurrences: number,
  ) {
    this.L = Math.max(2 * K, K + 8);
    this.B = 2 * this.L;
    this.selV = new Float64Array(this.L + 1);
    this.selId = new Int32Array(this.L + 1);
    this.tmpV = new Float64Array(this.B + 1);
    this.tmpC = new Int32Array(this.B + 1);
    this.tmpId = new Int32Array(this.B + 1);
  }

  ensureCapacity(items: number): void {
    if (items <= this.cap) return;
    const next = Math.max(items, Math.ceil(this.cap * 1.5), 64);
    const buf = new Int32Array(next * this.B);
    for (let i = 0; i < this.cap; i++) buf.set(this.buf.subarray(i * this.B, i * this.B + (this.bufLen[i] as number)), i * this.B);
    const bufLen = new Uint16Array(next);
    bufLen.set(this.bufLen);
    const betaV = new Float64Array(next).fill(BOTTOM);
    betaV.set(this.betaV);
    this.buf = buf;
    this.bufLen = bufLen;
    this.betaV = betaV;
    this.cap = next;
  }

  clear(i: number): void {
    this.bufLen[i] = 0;
    this.betaV[i] = BOTTOM;
    this.betaName[i] = undefined;
  }

  private ensureScratch(size: number): void {
    if (this.rowIdx.length >= size) return;
    const n = Math.max(size, this.rowIdx.length * 2, 1024);
    this.rowIdx = new Int32Array(n);
    this.rowCnt = new Int32Array(n);
  }

  /**
   * Rebuilds row i's buffer and bound from a full scan. With `inT` given, also offers i to every
   * neighbour k outside T whose entry for i may now rank before its bound, and calls touch(k).
   */
  rescan(i: number, inT?: (k: number) => boolean, touch?: (k: number) => void): void {
    const { store, itemDict: items, n } = this.host;
    this.ensureScratch(store.rowBound(i));
    const rowIdx = this.rowIdx;
    const rowCnt = this.rowCnt;
    const len = store.row(i, rowIdx, rowCnt);
    const ni = n[i] as number;
    const nameI = items.name(i);
    const L = this.L;
    const selV = this.selV;
    const selId = this.selId;
    const min = this.minCooccurrences;
    const betaV = this.betaV;
    let count = 0;
    let bV = BOTTOM;
    let bName: string | undefined;
    let lastV = Infinity; // value of selV[L-1] once the selection is full
    for (let e = 0; e < len; e++) {
      const c = rowCnt[e] as number;
      if (c < min) continue;
      const k = rowIdx[e] as number;
      const v = c / (ni + (n[k] as number) - c);
      if (inT !== undefined && !inT(k)) {
        touch!(k);
        const bk = betaV[k] as number;
        if (v > bk || (v === bk && nameI < (this.betaName[k] as string))) this.offer(k, i);
      }
      // Selection of the top L of row i, tracking the best entry left out as the bound.
      if (count === L && v < lastV) {
        if (v > bV || (v === bV && items.name(k) < (bName as string))) {
          bV = v;
          bName = items.name(k);
        }
        continue;
      }
      const nameK = items.name(k);
      let pos = count;
      while (pos > 0) {
        const pv = selV[pos - 1] as number;
        if (pv > v || (pv === v && items.name(selId[pos - 1] as number) < nameK)) break;
        pos--;
      }
      if (count === L) {
        if (pos === L) {
          if (v > bV || (v === bV && nameK < (bName as string))) {
            bV = v;
            bName = nameK;
          }
          continue;
        }
        const ev = selV[L - 1] as number;
        const eName = items.name(selId[L - 1] as number);
        if (ev > bV || (ev === bV && eName < (bName as string))) {
          bV = ev;
          bName = eName;
        }
        count--;
      }
      selV.copyWithin(pos + 1, pos, count);
      selId.copyWithin(pos + 1, pos, count);
      selV[pos] = v;
      selId[pos] = k;
      count++;
      if (count === L) lastV = selV[L - 1] as number;
    }
    this.buf.set(selId.subarray(0, count), i * this.B);
    this.bufLen[i] = count;
    this.betaV[i] = bV;
    this.betaName[i] = bName;
  }

  /** Puts j into k's buffer unless it is there already; compacts a full buffer first. */
  private offer(k: number, j: number): void {
    const base = k * this.B;
    let len = this.bufLen[k] as number;
    const buf = this.buf;
    for (let p = base, end = base + len; p < end; p++) if (buf[p] === j) return;
    if (len === this.B) {
      this.compact(k);
      len = this.bufLen[k] as number;
    }
    buf[base + len] = j;
    this.bufLen[k] = len + 1;
  }

  /**
   * Re-ranks row k's buffer on current values, drops ineligible entries, keeps the best L (raising
   * the bound with what it drops), and leaves the result sorted in tmpId/tmpV/tmpC. Returns the count.
   */
  private compact(k: number): number {
    const { store, itemDict: items, n } = this.host;
    const base = k * this.B;
    const len = this.bufLen[k] as number;
    const nk = n[k] as number;
    const tmpV = this.tmpV;
    const tmpC = this.tmpC;
    const tmpId = this.tmpId;
    const min = this.minCooccurrences;
    let count = 0;
    for (let p = 0; p < len; p++) {
      const j = this.buf[base + p] as number;
      const c = store.get(k, j);
      if (c < min || c === 0) continue;
      const v = c / (nk + (n[j] as number) - c);
      const nameJ = items.name(j);
      let pos = count;
      while (pos > 0) {
        const pv = tmpV[pos - 1] as number;
        if (pv > v || (pv === v && items.name(tmpId[pos - 1] as number) < nameJ)) break;
        pos--;
      }
      tmpV.copyWithin(pos + 1, pos, count);
      tmpC.copyWithin(pos + 1, pos, count);
      tmpId.copyWithin(pos + 1, pos, count);
      tmpV[pos] = v;
      tmpC[pos] = c;
      tmpId[pos] = j;
      count++;
    }
    if (count > this.L) {
      // The first entry dropped is the best of the dropped: it may raise the bound.
      const dv = tmpV[this.L] as number;
      const dName = items.name(tmpId[this.L] as number);
      const bv = this.betaV[k] as number;
      if (dv > bv || (dv === bv && dName < (this.betaName[k] as string))) {
        this.betaV[k] = dv;
        this.betaName[k] = dName;
      }
      count = this.L;
    }
    this.buf.set(tmpId.subarray(0, count), base);
    this.bufLen[k] = count;
    return count;
  }

  /**
   * The exact top-K of row k as parallel arrays (neighbour slot, cooccurrences, similarity),
   * rescanning the row if the buffer can no longer prove its K-th entry. Returns the count.
   */
  top(k: number, outId: Int32Array, outC: Int32Array, outV: Float64Array): number {
    let count = this.compact(k);
    const K = this.K;
    const bv = this.betaV[k] as number;
    if (bv !== BOTTOM) {
      const proven =
        count >= K &&
        ((this.tmpV[K - 1] as number) > bv ||
          ((this.tmpV[K - 1] as number) === bv &&
            this.host.itemDict.name(this.tmpId[K - 1] as number) < (this.betaName[k] as string)));
      if (!proven) {
        this.forcedRescans++;
        this.rescan(k);
        count = this.compact(k);
      }
    }
    const m = Math.min(count, K);
    outId.set(this.tmpId.subarray(0, m));
    outC.set(this.tmpC.subarray(0, m));
    outV.set(this.tmpV.subarray(0, m));
    return m;
  }

  bytes(): number {
    return this.buf.byteLength + this.bufLen.byteLength + this.betaV.byteLength + this.betaName.length * 8;
  }
}
