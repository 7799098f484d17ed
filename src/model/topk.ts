// Exact top-K neighbour lists, maintained per item with a candidate buffer and a rank bound.
//
// Rank order: similarity descending, then neighbour id ascending (plain string order).
// Invariant per item k: no eligible neighbour j (C_kj ≥ min) outside k's buffer ranks before the bound
// β_k = (value, name) — a scan sets β_k to the best entry it leaves out — or k has no eligible
// neighbour outside its buffer (β_k = bottom). A name of "" makes β a value-only bound (outside
// values are ≤ it: such a bound never proves an equal value). Once the buffer is re-ranked on current
// values, its first K entries are the exact top-K whenever the K-th ranks before β_k; otherwise the
// row is rescanned. The buffers themselves live in buffers.ts.
//
// How each change keeps the invariant without rescanning whole rows:
// - C_kj grows (a user holding one adds the other): the new value is offered to k's buffer while C
//   is updated (offerRow), so it is either a candidate or ranks after β_k.
// - n_k grows: every outside value c/(n_k+n_j−c) shrinks; with c ≤ n_k(old) it is at most
//   1/(1/β + δ/n_k(old)), which becomes the new value-only bound (refresh). Rows holding k as a
//   candidate (watchers) are re-ranked where k is in their last top K or now ranks before its K-th
//   entry; elsewhere the change cannot reach the list.
// - n_k shrinks (remove, forget): outside values of row k grow by at most the factor
//   n_k(old)/n_k(new) (refresh); every other row's value for k grows too, so one pass over row k
//   offers k to each neighbour j where it may now rank before β_j (Jaccard is symmetric). The cost
//   of a forget is therefore one pass over the rows of the user's items, as the paper's bound says.
// - C_kj shrinks: a value only falls; buffers drop candidates whose C fell below the minimum.

import { CandidateBuffers } from './buffers.js';
import type { CooccurrenceReader } from './cooccurrence.js';
import { Selection } from './select.js';
import type { Step } from './slice.js';
import { BitWatchers } from './watchers.js';

/** β of a row with no eligible neighbour outside its candidates. */
export const BOTTOM = -1;
/** An accepted offer costs its append and its share of a later compaction, in rejected offers. */
const ACCEPTED_COST = 8;

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
  /** Row k's list may have changed in this batch: it is recomputed at the flush. */
  touch(k: number): void;
}

export class NeighborIndex {
  private readonly L: number;
  /** Buffer capacity per row: room for offers between compactions. */
  readonly B: number;
  /** The buffers (internal: read by topk-state.ts). */
  readonly b: CandidateBuffers;
  private cap = 0;
  /** Per row, the bound β: value, the n it was computed for, and the tie-break id (internal). */
  betaV = new Float64Array(0);
  betaN = new Int32Array(0);
  betaName: (string | undefined)[] = [];
  /** Offers since the row's last scan (weighed), and whether a scan is due instead of further offers. */
  private offered = new Int32Array(0);
  private rescanDue = new Uint8Array(0);
  private due: number[] = [];
  // scratch
  private rowIdx = new Int32Array(0);
  private rowCnt = new Int32Array(0);
  /** The best L + 1 of a row scan, and of a buffer being compacted (an offer can compact mid-scan). */
  private readonly sel: Selection;
  private readonly ranked: Selection;
  /** Rows rescanned because a bound could not prove a list (diagnostics). */
  forcedRescans = 0;
  /** Work done so far, in units of about one cell of C (for the flush's slicing). */
  work = 0;

  constructor(
    readonly host: TopKHost,
    readonly K: number,
    readonly minCooccurrences: number,
  ) {
    this.L = Math.max(2 * K, K + 8);
    this.B = 2 * this.L;
    this.b = new CandidateBuffers(this.B, K);
    this.sel = new Selection(this.L + 1);
    this.ranked = new Selection(this.L + 1);
  }

  /** The work of switching the watcher index to sets (for sparse catalogues), keeping its contents. */
  useSparseWatchers(): Step | undefined {
    return this.b.useSparseWatchers();
  }

  /** Bytes of the watcher index as sets for `slots` slots. */
  setWatcherBytes(slots: number): number {
    return this.b.setWatcherBytes(slots);
  }

  private nextCap(items: number): number {
    return Math.max(items, Math.ceil(this.cap * 1.5), 64);
  }

  /** Bytes that making slots [0, items) addressable would newly allocate. */
  growthBytes(items: number): number {
    if (items <= this.cap) return 0;
    return this.nextCap(items) * (this.b.slotBytes + 25) + this.b.watchers.growthBytes(items);
  }

  /**
   * Makes slots [0, items) addressable: the per-slot arrays at once (small), the watcher index as
   * the returned work (its bit matrix is N²/8 bytes).
   */
  grow(items: number): Step | undefined {
    if (items <= this.cap) return this.b.grow(items);
    const next = this.nextCap(items);
    const widen = <T extends Int32Array | Uint8Array | Float64Array>(a: T, make: new (n: number) => T): T => {
      const b = new make(next);
      b.set(a);
      return b;
    };
    const betaV = new Float64Array(next).fill(BOTTOM);
    betaV.set(this.betaV);
    this.betaV = betaV;
    this.betaN = widen(this.betaN, Int32Array);
    this.offered = widen(this.offered, Int32Array);
    this.rescanDue = widen(this.rescanDue, Uint8Array);
    this.cap = next;
    return this.b.grow(next);
  }

  /** Forgets row i's candidates (the item is gone). */
  clear(i: number): void {
    this.b.clear(i);
    this.betaV[i] = BOTTOM;
    this.betaName[i] = undefined;
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
    // Offers to one row since its last scan, weighed by what they cost (an accepted one is appended
    // and compacted later): once they cost more than a scan of the row would, the row is rebuilt from
    // a scan before it is next read instead (a row filling up, a heavy user's items arriving).
    const spent = (this.offered[i] as number) + len;
    if (spent > this.rescanThreshold()) {
      this.rescanDue[i] = 1;
      this.due.push(i);
      return;
    }
    const { store, names, n } = this.host;
    this.refresh(i);
    const ni = n[i] as number;
    const bv = this.betaV[i] as number;
    const min = this.minCooccurrences;
    let accepted = 0;
    for (let p = 0; p < len; p++) {
      const j = cols[p] as number;
      if (j === i) continue;
      const c = store.get(i, j);
      if (c < min) continue;
      const v = c / (ni + (n[j] as number) - c);
      if (v < bv) continue;
      if (v > bv || (names[j] as string) < (this.betaName[i] as string)) {
        this.offer(i, j, c);
        accepted++;
      }
    }
    this.offered[i] = spent + ACCEPTED_COST * accepted;
  }

  /** A rescan reads every cell of the row and ranks its nonzero ones: about half its width in offers. */
  private rescanThreshold(): number {
    return Math.max(this.B, this.host.slots >>> 1);
  }

  /** Rows that must be rebuilt from a scan before they are read (too many offers); clears the list. */
  takeDueRescans(): number[] {
    const due = this.due;
    this.due = [];
    return due;
  }

  /**
   * n_i changed: touches every row k holding i as a candidate whose list the new value may change —
   * i is in k's top K, or now ranks before its K-th entry. Rows for which `skip(k)` holds (their own
   * n changed: recomputed anyway) are left alone.
   */
  touchWatchers(i: number, skip: (k: number) => boolean): void {
    const { store, n, names } = this.host;
    const ni = n[i] as number;
    this.b.watchers.forEach(i, (k) => {
      if (skip(k)) return;
      this.work += 4;
      const c = store.get(k, i);
      const v = c < this.minCooccurrences ? -1 : c / ((n[k] as number) + ni - c);
      if (this.b.mayChange(k, i, v, names)) this.host.touch(k);
    });
  }

  /** Row k's top K as just computed (emit): later changes are checked against it. */
  noteTop(k: number, ids: Int32Array, values: Float64Array, m: number): void {
    this.b.noteTop(k, ids, values, m);
  }

  /**
   * After n_i shrank, every neighbour k's value for i rose: offers i to each k where it may now rank
   * before β_k, and touches k when that may change its list. One pass over row i.
   */
  propagate(i: number, touch: (k: number) => void): void {
    const { n, names } = this.host;
    const len = this.loadRow(i);
    const rowIdx = this.rowIdx;
    const rowCnt = this.rowCnt;
    const ni = n[i] as number;
    const nameI = names[i] as string;
    const min = this.minCooccurrences;
    const betaV = this.betaV;
    const betaN = this.betaN;
    const b = this.b;
    const watchers = b.watchers;
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
      const nk = n[k] as number;
      const v = c / (ni + nk - c);
      if (watched) {
        if (b.mayChange(k, i, v, names)) touch(k);
        continue;
      }
      if (nk !== betaN[k]) this.refresh(k);
      const bk = betaV[k] as number;
      if (v > bk || (v === bk && nameI < (this.betaName[k] as string))) {
        this.offer(k, i, c);
        if (b.mayChange(k, i, v, names)) touch(k);
      }
    }
  }

  /** Rebuilds row i's buffer and bound from a full scan. */
  rescan(i: number): void {
    const { n, names } = this.host;
    const len = this.loadRow(i);
    const rowIdx = this.rowIdx;
    const rowCnt = this.rowCnt;
    const ni = n[i] as number;
    const min = this.minCooccurrences;
    const sel = this.sel;
    sel.reset();
    let floor = -Infinity;
    for (let e = 0; e < len; e++) {
      const c = rowCnt[e] as number;
      if (c < min) continue;
      const k = rowIdx[e] as number;
      const v = c / (ni + (n[k] as number) - c);
      if (v < floor) continue;
      sel.push(v, k, c, names);
      floor = sel.floor();
    }
    // The best L become the buffer, the best left out the bound.
    const L = this.L;
    const full = sel.count > L;
    const name = full ? (names[sel.id[L] as number] as string) : undefined;
    this.adopt(i, sel.id, sel.c, full ? L : sel.count, full ? (sel.v[L] as number) : BOTTOM, name);
  }

  /**
   * Row i's buffer becomes ids[0..count) (counts cs) and its bound (value, name) — name undefined with
   * a BOTTOM value (no eligible neighbour outside), '' for a value-only bound — as a scan found them.
   */
  adopt(
    i: number,
    ids: Int32Array,
    cs: Int32Array,
    count: number,
    value: number,
    name: string | undefined,
  ): void {
    this.b.set(i, ids, cs, count);
    this.betaV[i] = value;
    this.betaName[i] = name;
    this.betaN[i] = this.host.n[i] as number;
    this.offered[i] = 0;
    this.rescanDue[i] = 0;
  }

  /** Ranks row k's candidates on current values into `into` (the best L + 1); returns how many there were. */
  private rank(k: number, into: Selection): number {
    const { store, n, names } = this.host;
    const { buf, bufC } = this.b;
    const base = k * this.B;
    const len = this.b.len[k] as number;
    const nk = n[k] as number;
    const min = this.minCooccurrences;
    const stale = this.b.isStale(k);
    into.reset();
    let floor = -Infinity;
    for (let p = 0; p < len; p++) {
      const j = buf[base + p] as number;
      const c = stale ? store.get(k, j) : (bufC[base + p] as number);
      if (c < min || c === 0) continue;
      const v = c / (nk + (n[j] as number) - c);
      if (v < floor) continue;
      into.push(v, j, c, names);
      floor = into.floor();
    }
    return len;
  }

  /** The L-th best current similarity among row i's candidates (-Infinity with fewer than L): a floor of its top L. */
  candidateFloor(i: number): number {
    if ((this.b.len[i] as number) < this.L) return -Infinity;
    this.rank(i, this.ranked);
    return this.ranked.count >= this.L ? (this.ranked.v[this.L - 1] as number) : -Infinity;
  }

  /** Row i's candidates as they stand (counts valid unless stale). */
  candidatesOf(i: number): { ids: Int32Array; cs: Int32Array; count: number; stale: boolean } {
    const base = i * this.B;
    const count = this.b.len[i] as number;
    return {
      ids: this.b.buf.subarray(base, base + count),
      cs: this.b.bufC.subarray(base, base + count),
      count,
      stale: this.b.isStale(i),
    };
  }

  /** Forgets the rows due for a rescan (a bulk rebuild covers them). */
  clearDue(): void {
    this.due = [];
  }

  /** Candidates kept per item (L) and the capacity of a bulk selection (L + 1). */
  get keep(): number {
    return this.L;
  }

  /** Row i's C changed (settling): its candidates' recorded counts are read again from C. */
  markStale(i: number): void {
    this.b.markStale(i);
  }

  /** Puts j (C_kj = c) into k's buffer unless it is there already; compacts a full buffer first. */
  private offer(k: number, j: number, c: number): void {
    if (this.b.watchers.has(j, k)) return;
    if (this.b.len[k] === this.B) {
      this.compact(k);
      // A member of the last top K was dropped (its value fell): the list changed.
      if (this.b.droppedTop(k)) this.host.touch(k);
    }
    this.b.append(k, j, c);
  }

  /**
   * Re-ranks row k's buffer on current values, drops ineligible entries, keeps the best L (raising
   * the bound with the best it drops), and leaves them sorted in `ranked`. Returns how many it kept.
   */
  private compact(k: number): number {
    this.refresh(k);
    const sel = this.ranked;
    this.work += this.rank(k, sel) * 8;
    const L = this.L;
    const count = Math.min(sel.count, L);
    if (sel.count > L) {
      // The first entry dropped is the best of the dropped: it may raise the bound.
      const dv = sel.v[L] as number;
      const dName = this.host.names[sel.id[L] as number] as string;
      if (this.beats(dv, dName, k)) {
        this.betaV[k] = dv;
        this.betaName[k] = dName;
      }
    }
    this.b.keepOnly(k, sel.id, sel.c, count);
    return count;
  }

  /**
   * The exact top-K of row k as parallel arrays (neighbour slot, cooccurrences, similarity),
   * rescanning the row if the buffer can no longer prove its K-th entry. Returns the count.
   */
  top(k: number, outId: Int32Array, outC: Int32Array, outV: Float64Array): number {
    let count = this.compact(k);
    const K = this.K;
    let sel = this.ranked;
    if ((this.betaV[k] as number) !== BOTTOM) {
      const proven = count >= K && this.ranksBeforeBound(sel.v[K - 1] as number, sel.id[K - 1] as number, k);
      if (!proven) {
        this.forcedRescans++;
        this.rescan(k);
        sel = this.sel;
        count = Math.min(sel.count, this.L);
      }
    }
    const m = Math.min(count, K);
    outId.set(sel.id.subarray(0, m));
    outC.set(sel.c.subarray(0, m));
    outV.set(sel.v.subarray(0, m));
    return m;
  }

  private ranksBeforeBound(v: number, j: number, k: number): boolean {
    const bv = this.betaV[k] as number;
    return v > bv || (v === bv && (this.host.names[j] as string) < (this.betaName[k] as string));
  }

  bytes(): number {
    return this.b.bytes() + this.betaV.byteLength + this.betaN.byteLength + this.betaName.length * 8;
  }
}
