// Exact top-K neighbour lists out of a candidate buffer and a rank bound per item: the per-row state
// of the top-K index, its sizing, full row scans, and reading a row's exact list. How that state is
// kept true as C and n change is topk.ts; the buffers live in buffers.ts, the bounds in bounds.ts.
//
// Rank order: similarity descending, then neighbour id ascending (plain string order).
// Invariant per item k: no eligible neighbour j (C_kj ≥ min) outside k's buffer ranks before the bound
// β_k = (value, name) — a scan sets β_k to the best entry it leaves out — or k has no eligible
// neighbour outside its buffer (β_k = bottom). Once the buffer is re-ranked on current values, its
// first K entries are the exact top-K whenever the K-th ranks before β_k; otherwise the row is
// rescanned.

import { below, BOTTOM, RankBounds } from './bounds.js';
import { CandidateBuffers } from './buffers.js';
import type { CooccurrenceReader } from './cooccurrence.js';
import { Selection } from './select.js';
import { similarityFn, type SimilarityFn, type SimilarityMeasure } from './similarity.js';
import type { Step } from './slice.js';

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

export class NeighborLists {
  protected readonly L: number;
  /** Buffer capacity per row: room for offers between compactions. */
  readonly B: number;
  /** The buffers (internal: read by topk-state.ts). */
  readonly b: CandidateBuffers;
  /** Per row, the bound β (internal: read by topk-state.ts and bulk.ts). */
  readonly bounds: RankBounds;
  private cap = 0;
  /** Offers since the row's last scan (weighed), and whether a scan is due instead of further offers. */
  protected offered = new Int32Array(0);
  protected rescanDue = new Uint8Array(0);
  // scratch
  protected rowIdx = new Int32Array(0);
  protected rowCnt = new Int32Array(0);
  /** A row's candidates' current values (candidateFloor). */
  private readonly candidateVals: Float64Array;
  /** The best L + 1 of a row scan, and of a buffer being compacted (an offer can compact mid-scan). */
  private readonly sel: Selection;
  private readonly ranked: Selection;
  /** Rows rescanned because a bound could not prove a list (diagnostics). */
  forcedRescans = 0;
  /** Work done so far, in units of about one cell of C (for the flush's slicing). */
  work = 0;
  /** S_ij from C_ij, n_i, n_j (similarity.ts): the one computation of every value the index ranks. */
  readonly sim: SimilarityFn;

  constructor(
    readonly host: TopKHost,
    readonly K: number,
    readonly minCooccurrences: number,
    readonly measure: SimilarityMeasure = 'jaccard',
  ) {
    this.sim = similarityFn(measure);
    this.bounds = new RankBounds(measure);
    this.L = Math.max(2 * K, K + 8);
    this.B = 2 * this.L;
    this.b = new CandidateBuffers(this.B, K);
    this.sel = new Selection(this.L + 1);
    this.candidateVals = new Float64Array(this.B);
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
    const widen = <T extends Int32Array | Uint8Array>(a: T, make: new (n: number) => T): T => {
      const b = new make(next);
      b.set(a);
      return b;
    };
    this.bounds.grow(next);
    this.offered = widen(this.offered, Int32Array);
    this.rescanDue = widen(this.rescanDue, Uint8Array);
    this.cap = next;
    return this.b.grow(next);
  }

  /** Forgets row i's candidates (the item is gone). */
  clear(i: number): void {
    this.b.clear(i);
    this.bounds.clear(i);
  }

  /** Copies row i's nonzero entries into rowIdx/rowCnt; returns how many. */
  protected loadRow(i: number): number {
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

  /** Brings β_i up to date with n_i (see bounds.ts). */
  refresh(i: number): void {
    this.bounds.refresh(i, this.host.n[i] as number);
  }

  /** Rebuilds row i's buffer and bound from a full scan. */
  rescan(i: number): void {
    const { n, names } = this.host;
    const len = this.loadRow(i);
    const rowIdx = this.rowIdx;
    const rowCnt = this.rowCnt;
    const ni = n[i] as number;
    const min = this.minCooccurrences;
    const sim = this.sim;
    const sel = this.scanSelection();
    const seed = this.candidateFloor(i);
    let floor = seed;
    for (let e = 0; e < len; e++) {
      const c = rowCnt[e] as number;
      if (c < min) continue;
      const k = rowIdx[e] as number;
      const v = sim(c, ni, n[k] as number);
      if (v < floor) continue;
      sel.push(v, k, c, names);
      floor = Math.max(seed, sel.floor());
    }
    this.adoptScan(i, seed);
  }

  /** The selection a full scan of a row fills (emptied): every eligible entry (v, k, C) of the row is pushed. */
  protected scanSelection(): Selection {
    this.sel.reset();
    return this.sel;
  }

  /**
   * Row i's buffer becomes the best L of the scan's selection, its bound the best left out — or,
   * when the scan (seeded at `seed`) found no more than L entries, the value-only bound just below
   * `seed`: every entry it skipped was strictly below it, and every kept one (the row's top K among
   * them) ranks before the bound, as after any scan — a row whose K-th tied its bound would be left
   * unproven, and a later offer tying the K-th rejected by the bound while no touch recomputes the list.
   */
  protected adoptScan(i: number, seed: number): void {
    const { sel, L } = this;
    const names = this.host.names;
    if (sel.count > L) this.adopt(i, sel.id, sel.c, L, sel.v[L] as number, names[sel.id[L] as number]);
    else if (seed > -Infinity) this.adopt(i, sel.id, sel.c, sel.count, below(seed), '');
    else this.adopt(i, sel.id, sel.c, sel.count, BOTTOM, undefined);
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
    this.bounds.set(i, value, name, this.host.n[i] as number);
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
    const sim = this.sim;
    into.reset();
    let floor = -Infinity;
    for (let p = 0; p < len; p++) {
      const j = buf[base + p] as number;
      const c = stale ? store.get(k, j) : (bufC[base + p] as number);
      if (c < min || c === 0) continue;
      const v = sim(c, nk, n[j] as number);
      if (v < floor) continue;
      into.push(v, j, c, names);
      floor = into.floor();
    }
    return len;
  }

  /**
   * The L-th best current similarity among row i's eligible candidates (-Infinity with fewer than
   * L): a floor of its top L, since the row holds at least L eligible entries at or above it. A scan
   * of row i may skip what is strictly below it (the scan's seed): it then pushes a few dozen
   * entries instead of every one that beats a selection still filling up.
   */
  candidateFloor(i: number): number {
    const L = this.L;
    const len = this.b.len[i] as number;
    if (len < L) return -Infinity;
    const { store, n } = this.host;
    const { buf, bufC } = this.b;
    const base = i * this.B;
    const ni = n[i] as number;
    const min = this.minCooccurrences;
    const stale = this.b.isStale(i);
    const sim = this.sim;
    const vals = this.candidateVals;
    let m = 0;
    for (let p = 0; p < len; p++) {
      const j = buf[base + p] as number;
      const c = stale ? store.get(i, j) : (bufC[base + p] as number);
      if (c < min || c === 0) continue;
      vals[m++] = sim(c, ni, n[j] as number);
    }
    this.work += len * 2;
    if (m < L) return -Infinity;
    // Ascending: the L-th best is L from the end.
    return vals.subarray(0, m).sort()[m - L] as number;
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

  /** Candidates kept per item (L) and the capacity of a bulk selection (L + 1). */
  get keep(): number {
    return this.L;
  }

  /** Row i's C changed (settling): its candidates' recorded counts are read again from C. */
  markStale(i: number): void {
    this.b.markStale(i);
  }

  /** Row k's top K as just computed (emit): later changes are checked against it. */
  noteTop(k: number, ids: Int32Array, values: Float64Array, m: number): void {
    this.b.noteTop(k, ids, values, m);
  }

  /**
   * Re-ranks row k's buffer on current values, drops ineligible entries, keeps the best L (raising
   * the bound with the best it drops), and leaves them sorted in `ranked`. Returns how many it kept.
   */
  protected compact(k: number): number {
    this.refresh(k);
    const sel = this.ranked;
    this.work += this.rank(k, sel) * 8;
    const L = this.L;
    const count = Math.min(sel.count, L);
    if (sel.count > L) {
      // The first entry dropped is the best of the dropped: it may raise the bound.
      const dv = sel.v[L] as number;
      const dName = this.host.names[sel.id[L] as number] as string;
      if (this.bounds.before(dv, dName, k)) {
        this.bounds.v[k] = dv;
        this.bounds.name[k] = dName;
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
    if ((this.bounds.v[k] as number) !== BOTTOM) {
      const proven =
        count >= K &&
        this.bounds.before(sel.v[K - 1] as number, this.host.names[sel.id[K - 1] as number] as string, k);
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

  bytes(): number {
    return this.b.bytes() + this.bounds.bytes();
  }
}
