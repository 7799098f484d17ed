// The top-K index: exact neighbour lists per item (topk-lists.ts), kept true as C and n change.
// This module owns the rules by which each change keeps the invariant of topk-lists.ts without
// rescanning whole rows:
// - C_kj grows (a user holding one adds the other): the new value is offered to k's buffer while C
//   is updated (offerRow), so it is either a candidate or ranks after β_k.
// - n_k grows: every outside value of row k shrinks, by at most what the measure's rule says
//   (bounds.ts: Jaccard 1/(1/β + δ/n_k(old)), cosine β·sqrt(n_k(old)/n_k(new))), which becomes the
//   new value-only bound (refresh). Rows holding k as a candidate (watchers) are re-ranked where k
//   is in their last top K or now ranks before its K-th entry; elsewhere the change cannot reach
//   the list.
// - n_k shrinks (remove, forget): outside values of row k grow by at most the rule's factor
//   (refresh); every other row's value for k grows too, so one pass over row k offers k to each
//   neighbour j where it may now rank before β_j (both measures are symmetric), and the same pass
//   rebuilds row k's candidates and bound (a scan seeded by its L-th best candidate). The cost of a
//   forget is therefore one pass over the rows of the user's items, as the paper's bound says.
// - C_kj shrinks: a value only falls; buffers drop candidates whose C fell below the minimum.

import { NeighborLists } from './topk-lists.js';
import { BitWatchers } from './watchers.js';

/** An accepted offer costs its append and its share of a later compaction, in rejected offers. */
const ACCEPTED_COST = 8;

export class NeighborIndex extends NeighborLists {
  private due: number[] = [];

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
    const bounds = this.bounds;
    this.refresh(i);
    const ni = n[i] as number;
    const bv = bounds.v[i] as number;
    const min = this.minCooccurrences;
    const sim = this.sim;
    let accepted = 0;
    for (let p = 0; p < len; p++) {
      const j = cols[p] as number;
      if (j === i) continue;
      const c = store.get(i, j);
      if (c < min) continue;
      const v = sim(c, ni, n[j] as number);
      if (v < bv) continue;
      if (v > bv || (names[j] as string) < (bounds.name[i] as string)) {
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

  /** Forgets the rows due for a rescan (a bulk rebuild covers them). */
  clearDue(): void {
    this.due = [];
  }

  /**
   * n_i changed: touches every row k holding i as a candidate whose list the new value may change —
   * i is in k's top K, or now ranks before its K-th entry. Rows for which `skip(k)` holds (their own
   * n changed: recomputed anyway) are left alone.
   */
  touchWatchers(i: number, skip: (k: number) => boolean): void {
    const { store, n, names } = this.host;
    const ni = n[i] as number;
    const sim = this.sim;
    this.b.watchers.forEach(i, (k) => {
      if (skip(k)) return;
      this.work += 4;
      const c = store.get(k, i);
      const v = c < this.minCooccurrences ? -1 : sim(c, n[k] as number, ni);
      if (this.b.mayChange(k, i, v, names)) this.host.touch(k);
    });
  }

  /**
   * After n_i shrank, every neighbour k's value for i rose: offers i to each k where it may now rank
   * before β_k, and touches k when that may change its list. One pass over row i, which also
   * rebuilds row i's own candidates and bound (every value of the row changed with n_i: its
   * followed bound rarely proves the list, and a rescan at the emit would read the row again).
   */
  propagate(i: number, touch: (k: number) => void): void {
    const { n, names } = this.host;
    const len = this.loadRow(i);
    const rowIdx = this.rowIdx;
    const rowCnt = this.rowCnt;
    const ni = n[i] as number;
    const nameI = names[i] as string;
    const min = this.minCooccurrences;
    const sim = this.sim;
    const bounds = this.bounds;
    const betaV = bounds.v;
    const betaN = bounds.n;
    const b = this.b;
    const watchers = b.watchers;
    const sel = this.scanSelection();
    const seed = this.candidateFloor(i);
    let floor = seed;
    // Dense catalogues: row i of the watcher bit matrix is read in step with row i of C.
    const bitRow = watchers instanceof BitWatchers ? watchers.row(i) : undefined;
    for (let e = 0; e < len; e++) {
      const c = rowCnt[e] as number;
      if (c < min) continue;
      const k = rowIdx[e] as number;
      const nk = n[k] as number;
      const v = sim(c, ni, nk);
      if (v >= floor) {
        sel.push(v, k, c, names);
        floor = Math.max(seed, sel.floor());
      }
      const watched =
        bitRow !== undefined
          ? ((bitRow.bits[bitRow.base + (k >>> 5)] as number) & (1 << (k & 31))) !== 0
          : watchers.has(i, k);
      if (watched) {
        if (b.mayChange(k, i, v, names)) touch(k);
        continue;
      }
      if (nk !== betaN[k]) this.refresh(k);
      const bk = betaV[k] as number;
      if (v > bk || (v === bk && nameI < (bounds.name[k] as string))) {
        this.offer(k, i, c);
        if (b.mayChange(k, i, v, names)) touch(k);
      }
    }
    this.adoptScan(i, seed);
  }

  /** Whether row i is still due for a rescan (a propagation may have rebuilt it since it was listed). */
  isDue(i: number): boolean {
    return this.rescanDue[i] === 1;
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
}
