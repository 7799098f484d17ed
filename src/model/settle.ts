// Settling C: within a batch, interactions update H and n at once but C lazily. Each user changed in
// the batch kept a copy of their items at the batch start (or, forgotten, left their whole history);
// settling applies the net difference — added × kept, added × added (+1), removed × kept, removed ×
// removed (−1) — row by row, so that every update stays inside one contiguous row of C, and offers
// every grown cell to the top-K index. Resumable: a heavy user's pairs are settled in slices.

import type { ModelCore } from './core.js';
import type { Slice } from './slice.js';

const MERGE = -1;
const ADDED = 0;
const REMOVED = 1;
const KEPT = 2;
const DONE = 3;

export class Settler {
  /** Items at the batch start and the user slot (-1: forgotten, now holding nothing). */
  private readonly queue: { readonly base: Int32Array; readonly user: number }[];
  private q = 0;
  private phase = MERGE;
  private t = 0;
  private A = new Int32Array(64);
  private R = new Int32Array(64);
  private K = new Int32Array(64);
  private a = 0;
  private r = 0;
  private k = 0;

  /**
   * Takes over the batch's pending changes (they are settled once this completes). Without offers
   * (bulk flushes), only C changes: every row's candidates are rebuilt afterwards.
   */
  constructor(
    private readonly core: ModelCore,
    private readonly offers = true,
  ) {
    this.queue = core.forgotten.map((base) => ({ base, user: -1 }));
    for (const [user, base] of core.batchBase) this.queue.push({ base, user });
    core.forgotten = [];
    core.batchBase.clear();
  }

  /** Settles until done (true) or until the slice asks to yield. */
  step(slice: Slice): boolean {
    for (; this.q < this.queue.length; this.q++) {
      const { base, user } = this.queue[this.q] as (typeof this.queue)[number];
      if (this.phase === MERGE) {
        const h = user < 0 ? undefined : this.core.history[user];
        this.merge(base, h?.items ?? base, h?.length ?? 0);
        this.phase = this.a === 0 && this.r === 0 ? DONE : ADDED;
        this.t = 0;
        if (slice.spend(base.length + (h?.length ?? 0))) return false;
      }
      if (!this.rows(slice)) return false;
      if (user >= 0 && this.core.history[user]?.length === 0) this.core.dropUser(user);
      this.phase = MERGE;
    }
    return true;
  }

  /** Splits base (ascending) and cur[0..curLen) (ascending) into added, removed and kept. */
  private merge(base: Int32Array, cur: Int32Array, curLen: number): void {
    const need = base.length + curLen;
    if (this.A.length < need) {
      this.A = new Int32Array(need);
      this.R = new Int32Array(need);
      this.K = new Int32Array(need);
    }
    const { A, R, K } = this;
    let a = 0;
    let r = 0;
    let k = 0;
    let p = 0;
    let q = 0;
    while (p < base.length || q < curLen) {
      const x = p < base.length ? (base[p] as number) : Infinity;
      const y = q < curLen ? (cur[q] as number) : Infinity;
      if (x === y) {
        K[k++] = x;
        p++;
        q++;
      } else if (x < y) {
        R[r++] = x;
        p++;
      } else {
        A[a++] = y;
        q++;
      }
    }
    [this.a, this.r, this.k] = [a, r, k];
  }

  /** The row updates of the current user, from where the last slice stopped. */
  private rows(slice: Slice): boolean {
    const { store, topk } = this.core;
    const { A, R, K, a, r, k, offers } = this;
    while (this.phase === ADDED && this.t < a) {
      const i = A[this.t++] as number;
      const work = topk.work;
      store.addRow(i, K, k, 1);
      store.addRow(i, A, a, 1);
      topk.markStale(i);
      if (offers) {
        topk.offerRow(i, K, k);
        topk.offerRow(i, A, a);
      }
      if (slice.spend(topk.work - work + k + a)) return false;
    }
    if (this.phase === ADDED) [this.phase, this.t] = [REMOVED, 0];
    while (this.phase === REMOVED && this.t < r) {
      const i = R[this.t++] as number;
      store.addRow(i, K, k, -1);
      store.addRow(i, R, r, -1);
      topk.markStale(i);
      if (slice.spend(k + r)) return false;
    }
    if (this.phase === REMOVED) [this.phase, this.t] = [KEPT, 0];
    while (this.phase === KEPT && this.t < k) {
      const i = K[this.t++] as number;
      const work = topk.work;
      if (a > 0) store.addRow(i, A, a, 1);
      if (r > 0) store.addRow(i, R, r, -1);
      // Before the offers: an offer may compact the row, which must read the new counts.
      topk.markStale(i);
      if (a > 0 && offers) topk.offerRow(i, A, a);
      if (slice.spend(topk.work - work + a + r + 1)) return false;
    }
    this.phase = DONE;
    return true;
  }
}
