// Exact top-K neighbour lists, maintained per item with a candidate buffer and a rank bound.
//
// Rank order: similarity descending, then neighbour id ascending (plain string order).
// Invariant per item k: every eligible neighbour j (C_kj ≥ min) NOT in k's buffer ranks strictly after
// the bound β_k = (value, name), or k has no eligible neighbour outside its buffer (β_k = bottom).
// A name of "" makes β a value-only bound (anything with that value ranks after it... or ties it:
// such a bound never proves an equal value). Once the buffer is re-ranked on current values, its first
// K entries are the exact top-K whenever the K-th ranks before β_k; otherwise the row is rescanned.
//
// How each change keeps the invariant without rescanning whole rows:
// - C_kj grows (a user holding one adds the other): the new value is offered to k's buffer while C
//   is updated (offerRow), so it is either a candidate or ranks after β_k.
// - n_k grows: every outside value c/(n_k+n_j−c) shrinks; with c ≤ n_k(old) it is at most
//   1/(1/β + δ/n_k(old)), which becomes the new value-only bound (refresh). Rows holding k as a
//   candidate are re-ranked (watchers).
// - n_k shrinks (remove, forget): outside values of row k grow by at most the factor
//   n_k(old)/n_k(new) (refresh); every other row's value for k grows too, so one pass over row k
//   offers k to each neighbour j where it may now rank before β_j (Jaccard is symmetric). The cost
//   of a forget is therefore one pass over the rows of the user's items, as the paper's bound says.
// - C_kj shrinks: a value only falls; buffers drop candidates whose C fell below the minimum.

import type { CooccurrenceReader } from './cooccurrence.js';
import { SET_BYTES, SET_ENTRY_BYTES } from './memory.js';
import { runToEnd, type Slice, type Step } from './slice.js';
import type { TopKState } from './state.js';
import { BitWatchers, SetWatchers, type Watchers } from './watchers.js';

const BOTTOM = -1;

/**
 * What the index reads of the model, and nothing it could change: n and C, the item names (for
 * ties) and the number of slots. Getters, because the model replaces its arrays when they grow.
 */
export interface TopKHost {
  /** n per item slot. */
  readonly n: Int32Array;
  readonly store: CooccurrenceReader;
  /** Item slot → id (undefined: a free slot). */
  readonly names: readonly (string | undefined)[];
  /** Slots in use so far (an upper bound of every slot). */
  readonly slots: number;
}

export class NeighborIndex {
  private readonly L: number;
  private readonly B: number; // buffer capacity per row: room for offers between compactions
  private cap = 0;
  private buf = new Int32Array(0);
  private bufLen = new Uint16Array(0);
  private betaV = new Float64Array(0);
  private betaN = new Int32Array(0);
  private betaName: (string | undefined)[] = [];
  private watchers: Watchers = new BitWatchers();
  /** Offers since the row's last scan, and whether a scan is due instead of further offers. */
  private offered = new Int32Array(0);
  private rescanDue = new Uint8Array(0);
  private due: number[] = [];
  // scratch
  private rowIdx = new Int32Array(0);
  private rowCnt = new Int32Array(0);
  private readonly selV: Float64Array;
  private readonly selId: Int32Array;
  private readonly tmpV: Float64Array;
  private readonly tmpC: Int32Array;
  private readonly tmpId: Int32Array;
  /** Rows rescanned because a bound could not prove a list (diagnostics). */
  forcedRescans = 0;
  /** Work done so far, in units of about one cell of C (for the flush's slicing). */
  work = 0;

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

  /** The work of switching the watcher index to sets (for sparse catalogues), keeping its contents. */
  useSparseWatchers(): Step | undefined {
    if (this.watchers instanceof SetWatchers) return undefined;
    const sets = new SetWatchers();
    sets.grow(this.cap);
    let k = 0;
    return (slice: Slice) => {
      while (k < this.cap) {
        const len = this.bufLen[k] as number;
        for (let p = 0; p < len; p++) sets.add(this.buf[k * this.B + p] as number, k);
        k++;
        if (slice.spend(len * 8)) return false;
      }
      this.watchers = sets;
      return true;
    };
  }

  private nextCap(items: number): number {
    return Math.max(items, Math.ceil(this.cap * 1.5), 64);
  }

  /** Bytes of the watcher index as sets for `slots` slots (at most B candidates each). */
  setWatcherBytes(slots: number): number {
    return slots * (SET_BYTES + this.B * SET_ENTRY_BYTES);
  }

  /** Bytes that making slots [0, items) addressable would newly allocate. */
  growthBytes(items: number): number {
    if (items <= this.cap) return 0;
    return this.nextCap(items) * (this.B * 4 + 19) + this.watchers.growthBytes(items);
  }

  /**
   * Makes slots [0, items) addressable: the per-slot arrays at once (small), the watcher index as
   * the returned work (its bit matrix is N²/8 bytes).
   */
  grow(items: number): Step | undefined {
    if (items > this.cap) {
      const next = this.nextCap(items);
      const buf = new Int32Array(next * this.B);
      buf.set(this.buf);
      const bufLen = new Uint16Array(next);
      bufLen.set(this.bufLen);
      const betaV = new Float64Array(next).fill(BOTTOM);
      betaV.set(this.betaV);
      const betaN = new Int32Array(next);
      betaN.set(this.betaN);
      const offered = new Int32Array(next);
      offered.set(this.offered);
      const rescanDue = new Uint8Array(next);
      rescanDue.set(this.rescanDue);
      this.offered = offered;
      this.rescanDue = rescanDue;
      this.buf = buf;
      this.bufLen = bufLen;
      this.betaV = betaV;
      this.betaN = betaN;
      this.cap = next;
    }
    return this.watchers.grow(items);
  }

  /** Forgets row i's candidates (the item is gone). */
  clear(i: number): void {
    this.setBuffer(i, this.selId, 0);
    this.betaV[i] = BOTTOM;
    this.betaName[i] = undefined;
  }

  private setBuffer(i: number, ids: Int32Array, count: number): void {
    const base = i * this.B;
    const w = this.watchers;
    for (let p = 0; p < (this.bufLen[i] as number); p++) w.delete(this.buf[base + p] as number, i);
    this.buf.set(ids.subarray(0, count), base);
    this.bufLen[i] = count;
    for (let p = 0; p < count; p++) w.add(ids[p] as number, i);
  }

  /** Copies row i's nonzero entries into rowIdx/rowCnt; returns how many. */
  private loadRow(i: number): number {
    const store = this.host.store;
    const size = store.rowBound(i);
    this.work += size;
    if (this.rowIdx.length < size) {
      const n = Math.max(size, this.rowIdx.length * 2, 1024);
      this.rowIdx = new Int32Array(n);
      this.rowCnt = new Int32Array(n);
    }
    return store.row(i, this.rowIdx, this.rowCnt);
  }

  /**
   * Brings β_i up to date with n_i (see the header). An outside entry has c ≥ S·n_i (as n_k ≥ c), so
   * when n_i grows by δ its value is at most 1/(1/β + δ/n_i(old)), and when n_i shrinks (the other
   * counts unchanged) at most β·n_i(old)/n_i(new). Entries whose n_k changed too are offered by the
   * scans of those rows. Either way the bound becomes value-only.
   */
  refresh(i: number): void {
    const ni = this.host.n[i] as number;
    const was = this.betaN[i] as number;
    if (ni !== was && ni > 0 && was > 0) {
      const bv = this.betaV[i] as number;
      if (bv > 0) {
        this.betaV[i] = ni > was ? 1 / (1 / bv + (ni - was) / was) : (bv * was) / ni;
        this.betaName[i] = '';
      }
    }
    this.betaN[i] = ni;
  }

  private beats(v: number, name: string, k: number): boolean {
    const bv = this.betaV[k] as number;
    return v > bv || (v === bv && name < (this.betaName[k] as string));
  }

  /**
   * Offers row i the entries in columns cols[0..len) (just incremented). Each offer that may rank
   * before β_i becomes a candidate.
   */
  offerRow(i: number, cols: Int32Array, len: number): void {
    if (this.rescanDue[i] === 1) return;
    this.work += len;
    // Many offers to one row (a heavy user's items arriving, a row still filling up) cost more than
    // one scan of the row: the row is rebuilt from a scan before it is next read instead.
    const offered = (this.offered[i] as number) + len;
    this.offered[i] = offered;
    if (offered > this.rescanThreshold()) {
      this.rescanDue[i] = 1;
      this.due.push(i);
      return;
    }
    const { store, names, n } = this.host;
    this.refresh(i);
    const ni = n[i] as number;
    const bv = this.betaV[i] as number;
    const min = this.minCooccurrences;
    for (let p = 0; p < len; p++) {
      const j = cols[p] as number;
      if (j === i) continue;
      const c = store.get(i, j);
      if (c < min) continue;
      const v = c / (ni + (n[j] as number) - c);
      if (v < bv) continue;
      if (v > bv || (names[j] as string) < (this.betaName[i] as string)) this.offer(i, j);
    }
  }

  private rescanThreshold(): number {
    return Math.max(this.B, this.host.slots >>> 4);
  }

  /** Rows that must be rebuilt from a scan before they are read (too many offers); clears the list. */
  takeDueRescans(): number[] {
    const due = this.due;
    this.due = [];
    return due;
  }

  /** Calls touch(k) for every row holding i as a candidate. */
  forEachWatcher(i: number, touch: (k: number) => void): void {
    this.watchers.forEach(i, touch);
  }

  /**
   * After n_i shrank, every neighbour k's value for i rose: offers i to each k where it may now rank
   * before β_k, and touches k when i is or becomes one of k's candidates. One pass over row i.
   */
  propagate(i: number, touch: (k: number) => void): void {
    const { names, n } = this.host;
    const len = this.loadRow(i);
    const rowIdx = this.rowIdx;
    const rowCnt = this.rowCnt;
    const ni = n[i] as number;
    const nameI = names[i] as string;
    const min = this.minCooccurrences;
    const betaV = this.betaV;
    const betaN = this.betaN;
    const watchers = this.watchers;
    // Dense catalogues: row i of the watcher bit matrix is read in step with row i of C.
    const bitRow = watchers instanceof BitWatchers ? watchers.row(i) : undefined;
    for (let e = 0; e < len; e++) {
      const c = rowCnt[e] as number;
      if (c < min) continue;
      const k = rowIdx[e] as number;
      const watched =
        bitRow !== undefined
          ? ((bitRow.bits[bitRow.base + (k >>> 5)] as number) & (1 << (k & 31))) !== 0
          : watchers.has(i, k);
      if (watched) {
        touch(k);
        continue;
      }
      const nk = n[k] as number;
      const v = c / (ni + nk - c);
      if (nk !== betaN[k]) this.refresh(k);
      const bk = betaV[k] as number;
      if (v > bk || (v === bk && nameI < (this.betaName[k] as string))) {
        this.offer(k, i);
        touch(k);
      }
    }
  }

  /** Rebuilds row i's buffer and bound from a full scan. */
  rescan(i: number): void {
    const { n } = this.host;
    const names = this.host.names as readonly string[];
    const len = this.loadRow(i);
    const rowIdx = this.rowIdx;
    const rowCnt = this.rowCnt;
    const ni = n[i] as number;
    const L = this.L;
    const selV = this.selV;
    const selId = this.selId;
    const min = this.minCooccurrences;
    let count = 0;
    let bV = BOTTOM;
    let bName: string | undefined;
    let lastV = Infinity; // selV[L-1] once the selection is full
    for (let e = 0; e < len; e++) {
      const c = rowCnt[e] as number;
      if (c < min) continue;
      const k = rowIdx[e] as number;
      const v = c / (ni + (n[k] as number) - c);
      // Selection of the top L of row i, tracking the best entry left out as the bound.
      if (count === L && v <= lastV) {
        const nameK = names[k] as string;
        if (v < lastV || nameK > (names[selId[L - 1] as number] as string)) {
          if (v > bV || (v === bV && nameK < (bName as string))) {
            bV = v;
            bName = nameK;
          }
          continue;
        }
      }
      const nameK = names[k] as string;
      let pos = count;
      while (pos > 0) {
        const pv = selV[pos - 1] as number;
        if (pv > v || (pv === v && (names[selId[pos - 1] as number] as string) < nameK)) break;
        pos--;
      }
      if (count === L) {
        // pos < L here: the last entry is evicted and may become the bound.
        const ev = selV[L - 1] as number;
        const eName = names[selId[L - 1] as number] as string;
        if (ev > bV || (ev === bV && eName < (bName as string))) {
          bV = ev;
          bName = eName;
        }
        count--;
      }
      for (let q = count; q > pos; q--) {
        selV[q] = selV[q - 1] as number;
        selId[q] = selId[q - 1] as number;
      }
      selV[pos] = v;
      selId[pos] = k;
      count++;
      if (count === L) lastV = selV[L - 1] as number;
    }
    this.setBuffer(i, selId, count);
    this.betaV[i] = bV;
    this.betaName[i] = bName;
    this.betaN[i] = ni;
    this.offered[i] = 0;
    this.rescanDue[i] = 0;
  }

  /** Puts j into k's buffer unless it is there already; compacts a full buffer first. */
  private offer(k: number, j: number): void {
    if (this.watchers.has(j, k)) return;
    let len = this.bufLen[k] as number;
    if (len === this.B) {
      this.compact(k);
      len = this.bufLen[k] as number;
    }
    this.buf[k * this.B + len] = j;
    this.bufLen[k] = len + 1;
    this.watchers.add(j, k);
  }

  /**
   * Re-ranks row k's buffer on current values, drops ineligible entries, keeps the best L (raising
   * the bound with what it drops), and leaves the result sorted in tmpId/tmpV/tmpC. Returns the count.
   */
  private compact(k: number): number {
    const { store, n } = this.host;
    const names = this.host.names as readonly string[];
    this.refresh(k);
    const base = k * this.B;
    const len = this.bufLen[k] as number;
    this.work += len * 8;
    const nk = n[k] as number;
    const tmpV = this.tmpV;
    const tmpC = this.tmpC;
    const tmpId = this.tmpId;
    const min = this.minCooccurrences;
    let count = 0;
    for (let p = 0; p < len; p++) {
      const j = this.buf[base + p] as number;
      const c = store.get(k, j);
      if (c < min || c === 0) {
        this.watchers.delete(j, k);
        continue;
      }
      const v = c / (nk + (n[j] as number) - c);
      let pos = count;
      if (pos > 0 && (tmpV[pos - 1] as number) <= v) {
        const nameJ = names[j] as string;
        while (pos > 0) {
          const pv = tmpV[pos - 1] as number;
          if (pv > v || (pv === v && (names[tmpId[pos - 1] as number] as string) < nameJ)) break;
          pos--;
        }
        for (let q = count; q > pos; q--) {
          tmpV[q] = tmpV[q - 1] as number;
          tmpC[q] = tmpC[q - 1] as number;
          tmpId[q] = tmpId[q - 1] as number;
        }
      }
      tmpV[pos] = v;
      tmpC[pos] = c;
      tmpId[pos] = j;
      count++;
    }
    if (count > this.L) {
      // The first entry dropped is the best of the dropped: it may raise the bound.
      const dv = tmpV[this.L] as number;
      const dName = names[tmpId[this.L] as number] as string;
      if (this.beats(dv, dName, k)) {
        this.betaV[k] = dv;
        this.betaName[k] = dName;
      }
      for (let p = this.L; p < count; p++) this.watchers.delete(tmpId[p] as number, k);
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
    if ((this.betaV[k] as number) !== BOTTOM) {
      const proven =
        count >= K && this.ranksBeforeBound(this.tmpV[K - 1] as number, this.tmpId[K - 1] as number, k);
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

  private ranksBeforeBound(v: number, j: number, k: number): boolean {
    const bv = this.betaV[k] as number;
    return v > bv || (v === bv && (this.host.names[j] as string) < (this.betaName[k] as string));
  }

  /**
   * The candidates and bounds of slots [0, slots), copied (snapshots): restoring them spares a scan
   * of every row. Bounds are first brought up to the current n, so that they hold on their own.
   */
  exportState(slots: number, slotOf: (name: string) => number | undefined): TopKState {
    const offsets = new Uint32Array(slots + 1);
    for (let k = 0; k < slots; k++) offsets[k + 1] = (offsets[k] as number) + (this.bufLen[k] as number);
    const candidates = new Int32Array(offsets[slots] as number);
    const boundValue = new Float64Array(slots);
    const boundItem = new Int32Array(slots).fill(-1);
    for (let k = 0; k < slots; k++) {
      const base = k * this.B;
      candidates.set(this.buf.subarray(base, base + (this.bufLen[k] as number)), offsets[k]);
      this.refresh(k);
      boundValue[k] = this.betaV[k] as number;
      // A bound naming an item that has gone since becomes value-only: weaker, still true.
      const name = this.betaName[k];
      if (name !== undefined && name !== '') boundItem[k] = slotOf(name) ?? -1;
    }
    return { offsets, candidates, boundValue, boundItem };
  }

  /**
   * Loads exported candidates and bounds into this (empty) index; offer counters start afresh. False
   * (and nothing loaded) when they do not fit this index: the caller rescans instead.
   */
  importState(s: TopKState): boolean {
    const slots = s.offsets.length - 1;
    const names = this.host.names;
    for (let k = 0; k < slots; k++) {
      const from = s.offsets[k] as number;
      const to = s.offsets[k + 1] as number;
      if (to < from || to - from > this.B || to > s.candidates.length) return false;
      for (let p = from; p < to; p++) if (names[s.candidates[p] as number] === undefined) return false;
    }
    if (s.offsets[slots] !== s.candidates.length) return false;
    const grow = this.grow(slots);
    if (grow !== undefined) runToEnd(grow);
    const n = this.host.n;
    for (let k = 0; k < slots; k++) {
      const len = (s.offsets[k + 1] as number) - (s.offsets[k] as number);
      this.setBuffer(k, s.candidates.subarray(s.offsets[k], s.offsets[k + 1]), len);
      const v = s.boundValue[k] as number;
      const item = s.boundItem[k] as number;
      this.betaV[k] = v < 0 ? BOTTOM : v;
      this.betaName[k] = v < 0 ? undefined : item >= 0 ? (names[item] ?? '') : '';
      this.betaN[k] = n[k] as number;
    }
    return true;
  }

  bytes(): number {
    return (
      this.buf.byteLength +
      this.bufLen.byteLength +
      this.betaV.byteLength +
      this.betaN.byteLength +
      this.betaName.length * 8 +
      this.watchers.bytes()
    );
  }
}
