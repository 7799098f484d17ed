// A flush: ends a batch by settling C, bringing every affected top-K list up to date exactly and
// reporting the lists that differ from the last ones reported, plus the items that disappeared.
// It runs as resumable phases so that the caller can yield to the event loop between slices:
//
//   capacity   grow C and the top-K index to every slot in use (or convert C to sparse rows)
//   settle     apply the batch's net history changes to C, offering grown cells to the index
//   propagate  rows of items whose n fell: offer the item where it may now rank, and rebuild the
//              row's own candidates from the same pass; collect the rows holding a changed item as a
//              candidate (watchers)
//   rescan     rows that took too many offers are rebuilt from a scan
//   emit       the exact top-K of every affected row, compared with the last reported list
//   commit     (at once) publish the new lists to readers, drop the items whose n reached 0
//
// Until commit, readers of the lists (Model.neighbors) keep seeing the last reported ones.

import type { ModelCore } from './core.js';
import { BulkRebuild } from './bulk.js';
import { Settler } from './settle.js';
import { Slice, type Step } from './slice.js';
import type { ChangeReport, Neighbor, NeighborList } from './types.js';

/** A flush in progress; no other mutating model call until it is complete. */
export interface FlushJob {
  /** Does work until shouldYield() returns true (checked often enough that a slice stays ≲ 20 ms) or the flush is complete; true when complete. */
  step(shouldYield: () => boolean): boolean;
  /** The change report; only after step() returned true. */
  result(): ChangeReport;
}

/**
 * A batch that changed n of at least 1/BULK_SHARE of the items is flushed in bulk. Half, not a
 * quarter: on ml-latest-small, live-shaped chunks of 5–10k events (a quarter to a half of the items)
 * flushed 2× faster offer by offer (≈ 120 vs 270 ms per 5k-event chunk; docs/journal.md).
 */
const BULK_SHARE = 2;

export class Flush implements FlushJob {
  private readonly steps: Step[];
  private s = 0;
  private report: ChangeReport | undefined;
  private readonly changed: NeighborList[] = [];
  /** Slot of each list in `changed`. */
  private readonly changedSlots: number[] = [];
  private cursor = 0;
  private due: number[] = [];
  private order: Int32Array = new Int32Array(0);
  private readonly outId: Int32Array;
  private readonly outC: Int32Array;
  private readonly outV: Float64Array;
  /** Every row's candidates rebuilt by one sweep of C (see bulk.ts) instead of offer by offer. */
  readonly bulk: boolean;
  private rebuild: BulkRebuild | undefined;

  constructor(
    private readonly core: ModelCore,
    private readonly updatedAt: number | undefined,
    private readonly done: () => void,
    /** Report the lists the changed and removed items had before (ChangeReport.previous). */
    private readonly keepPrevious = false,
  ) {
    const K = core.options.topK;
    this.outId = new Int32Array(K);
    this.outC = new Int32Array(K);
    this.outV = new Float64Array(K);
    this.bulk =
      core.flushMode === 'bulk' ||
      (core.flushMode === 'auto' && core.changedItems.length * BULK_SHARE >= core.itemDict.size);
    let settler: Settler | undefined;
    const upkeep: Step[] = this.bulk
      ? [(slice) => (this.rebuild ??= new BulkRebuild(core)).step(slice)]
      : [(slice) => this.propagate(slice), (slice) => this.rescan(slice)];
    this.steps = [
      ...core.capacitySteps(),
      (slice) => (settler ??= new Settler(core, !this.bulk)).step(slice),
      ...upkeep,
      (slice) => this.emitChanged(slice),
      (slice) => this.emitTouched(slice),
    ];
  }

  step(shouldYield: () => boolean): boolean {
    if (this.report !== undefined) return true;
    const slice = new Slice(shouldYield);
    for (; this.s < this.steps.length; this.s++) {
      if (!(this.steps[this.s] as Step)(slice)) return false;
      this.cursor = 0;
    }
    this.commit();
    return true;
  }

  result(): ChangeReport {
    if (this.report === undefined)
      throw new Error('the flush is not complete: call step() until it returns true');
    return this.report;
  }

  /**
   * Where n fell, one pass over the row offers the item to its neighbours; rows holding a changed
   * item as a candidate are touched where the change may reach their top K.
   */
  private propagate(slice: Slice): boolean {
    const { core } = this;
    const { n, topk, changedItems: T, decreasedMark, changedMark, epoch } = core;
    const touch = (k: number): void => core.touch(k);
    const inT = (k: number): boolean => changedMark[k] === epoch;
    while (this.cursor < T.length) {
      const i = T[this.cursor++] as number;
      const work = topk.work;
      if ((n[i] as number) > 0 && decreasedMark[i] === epoch) topk.propagate(i, touch);
      topk.touchWatchers(i, inT);
      if (slice.spend(topk.work - work + (core.itemDict.capacity >>> 5))) return false;
    }
    this.due = topk.takeDueRescans();
    return true;
  }

  /** Rows that took too many offers are rebuilt from a scan before they are read. */
  private rescan(slice: Slice): boolean {
    const { n, topk } = this.core;
    while (this.cursor < this.due.length) {
      const i = this.due[this.cursor++] as number;
      const work = topk.work;
      if ((n[i] as number) > 0 && topk.isDue(i)) {
        topk.rescan(i);
        this.core.touch(i);
      }
      if (slice.spend(topk.work - work + 1)) return false;
    }
    return true;
  }

  private emitChanged(slice: Slice): boolean {
    const { n, changedItems: T } = this.core;
    while (this.cursor < T.length) {
      const i = T[this.cursor++] as number;
      if ((n[i] as number) > 0 && this.emit(i, slice)) return false;
    }
    // Slot order: the order in which watchers were found depends on the watcher index's history
    // (set insertion order in sparse mode), and a restored model must report in the same order. A
    // bulk flush looks at every row; the lists that changed come out in the same order either way.
    this.order = this.bulk
      ? Int32Array.from({ length: this.core.itemDict.capacity }, (_, k) => k)
      : Int32Array.from(this.core.touchedItems).sort();
    return true;
  }

  private emitTouched(slice: Slice): boolean {
    const { n, changedMark, epoch } = this.core;
    while (this.cursor < this.order.length) {
      const k = this.order[this.cursor++] as number;
      if (changedMark[k] !== epoch && (n[k] as number) > 0 && this.emit(k, slice)) return false;
    }
    return true;
  }

  /** Computes row i's exact top-K and keeps it if it differs from the last reported; true to yield. */
  private emit(i: number, slice: Slice): boolean {
    const { core, outId, outC, outV } = this;
    const names = core.itemDict.names as readonly string[];
    const work = core.topk.work;
    const fromSweep = this.rebuild?.top(i, core.options.topK, outId, outC, outV) ?? -1;
    const m = fromSweep >= 0 ? fromSweep : core.topk.top(i, outId, outC, outV);
    core.topk.noteTop(i, outId, outV, m);
    const prev = core.reported[i];
    const ni = core.n[i] as number;
    let same = prev !== undefined && prev.interactions === ni && prev.neighbors.length === m;
    for (let p = 0; p < m && same; p++) {
      const nb = (prev as NeighborList).neighbors[p] as Neighbor;
      same =
        nb.cooccurrences === outC[p] && nb.similarity === outV[p] && nb.itemId === names[outId[p] as number];
    }
    if (!same) {
      const neighbors = new Array<Neighbor>(m);
      for (let p = 0; p < m; p++)
        neighbors[p] = {
          itemId: names[outId[p] as number] as string,
          similarity: outV[p] as number,
          cooccurrences: outC[p] as number,
        };
      const itemId = names[i] as string;
      this.changed.push(
        this.updatedAt === undefined
          ? { itemId, interactions: ni, neighbors }
          : { itemId, interactions: ni, neighbors, updatedAt: this.updatedAt },
      );
      this.changedSlots.push(i);
    }
    return slice.spend(core.topk.work - work + m * 8);
  }

  /** The new lists become the reported ones; items whose n reached 0 leave. The batch ends. */
  private commit(): void {
    const core = this.core;
    const previous = this.keepPrevious ? new Map<string, NeighborList>() : undefined;
    const keep = (list: NeighborList | undefined) => list && previous?.set(list.itemId, list);
    this.changedSlots.forEach((slot, p) => {
      keep(core.reported[slot]);
      core.reported[slot] = this.changed[p];
    });
    const removed: string[] = [];
    for (const i of core.changedItems) {
      if ((core.n[i] as number) !== 0) continue;
      if (core.reported[i] !== undefined) {
        keep(core.reported[i]);
        removed.push(core.itemDict.name(i));
        core.reported[i] = undefined;
      }
      core.topk.clear(i);
      core.itemDict.release(i);
    }
    core.changedItems = [];
    core.touchedItems = [];
    core.epoch++;
    core.reservedBytes = 0;
    if (this.changed.length > 0 || removed.length > 0) core.version++;
    this.report = previous
      ? { changed: this.changed, removed, previous }
      : { changed: this.changed, removed };
    this.done();
  }
}
