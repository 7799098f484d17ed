// The model's state and the operations its parts share: dictionaries, H, n, C, the top-K index, the
// batch in progress, memory accounting. Internal: src/model/index.ts exports none of it; Model is
// the public face, settle.ts and flush.ts work on this.

import type { CooccurrenceStore } from './cooccurrence.js';
import { DenseCooccurrence, UNBUDGETED_DENSE_BYTES } from './dense.js';
import type { History } from './history.js';
import { Interner } from './interner.js';
import {
  CHAR_BYTES,
  INTERACTION_BYTES,
  ITEM_BYTES,
  ModelCapacityError,
  NEIGHBOR_BYTES,
  SPARSE_CELL_BYTES,
  SPARSE_ROW_BYTES,
  SET_ENTRY_BYTES,
  TIME_BYTES,
  TOMBSTONE_BYTES,
  USER_BYTES,
} from './memory.js';
import { SIMILARITY_MEASURES } from './similarity.js';
import type { Step } from './slice.js';
import { SparseCooccurrence } from './sparse.js';
import { Tombstones } from './tombstones.js';
import type { TopKHost } from './topk-lists.js';
import { NeighborIndex } from './topk.js';
import type { ModelOptions, NeighborList } from './types.js';

export const DEFAULT_MODEL_OPTIONS: ModelOptions = Object.freeze({
  topK: 20,
  similarity: 'jaccard',
  minCooccurrences: 1,
  tombstoneRetentionMs: 30 * 24 * 3600 * 1000,
  tombstoneKey: 'amnesia-default-tombstone-key',
  // The work of one user is O(h²) (the pairs of their items, settled on every change and removed by a
  // forget, plus h row scans of C when they are forgotten). 10,000 bounds a forget to 10⁴ row scans and
  // 5·10⁷ pair updates (well under a second on a 27k-item catalogue, in slices), yet holds every user of
  // MovieLens ml-latest-small (max 2,698) and ML-20M (max 9,254), and far more than a person rates.
  maxItemsPerUser: 10_000,
  memoryBudgetBytes: Infinity,
  interactionTtlMs: 0,
});

export interface RepresentationOptions {
  /** Force a representation of C (benchmarks, tests); 'auto' (default) follows the memory budget. */
  readonly representation?: 'dense' | 'sparse' | 'auto';
  /**
   * Force how flushes keep the top-K candidates (benchmarks, tests): offer by offer, or rebuilt by
   * one sweep of C; 'auto' (default) sweeps when a batch changed n of half of the items or more.
   */
  readonly flushMode?: 'incremental' | 'bulk' | 'auto';
}

/**
 * At a growth point of the dense square: whether C should become sparse rows instead (copied from
 * the square at the next flush, both live meanwhile). Yes when the grown square (`square` bytes,
 * `growth` of them new) cannot fit (over budget, or without a budget beyond 2 GiB: growth Infinity),
 * or would take more than half the budget while the rows (`rows` bytes) would be smaller — provided
 * the rows fit beside everything else (`used`, the square included).
 */
export function preferSparse(
  square: number,
  rows: number,
  used: number,
  growth: number,
  budget: number,
): boolean {
  const denseFits = Number.isFinite(growth) && used + growth <= budget;
  if (denseFits && (square <= budget / 2 || square <= rows)) return false;
  return used + rows <= budget && (!denseFits || rows < square);
}

export class ModelCore {
  readonly options: ModelOptions;
  readonly itemDict = new Interner();
  readonly users = new Interner();
  history: (History | undefined)[] = [];
  /** Per user slot: latest request time of a tombstone matching the user (late-event bound). */
  readonly lateBound = new Map<number, number>();
  n = new Int32Array(64);
  store: CooccurrenceStore;
  readonly topk: NeighborIndex;
  readonly tombstones: Tombstones;
  private readonly representation: 'dense' | 'sparse' | 'auto';
  readonly flushMode: 'incremental' | 'bulk' | 'auto';
  /** C becomes sparse rows at the next flush: the dense square would not fit (budget or size). */
  sparsePlanned = false;

  // The batch since the last flush.
  /** Per user changed in the batch: their items (ascending) as C holds them. */
  readonly batchBase = new Map<number, Int32Array>();
  /** Histories (ascending) of users forgotten in the batch: C still holds their pairs. */
  forgotten: Int32Array[] = [];
  /** Items whose n changed (T), in the order of the first change. */
  changedItems: number[] = [];
  changedMark = new Uint32Array(64);
  touchedItems: number[] = [];
  touchedMark = new Uint32Array(64);
  decreasedMark = new Uint32Array(64);
  epoch = 1;
  version = 0;
  /** The last list reported per item slot (undefined: never reported, or gone). */
  reported: (NeighborList | undefined)[] = [];

  /** Interactions with a time before this were expired (expireBefore); ADDs before it are refused. */
  expiredBefore = -Infinity;
  /** Σ|H_u|, kept as it changes: stats() is read on every metrics scrape. */
  interactionCount = 0;
  /** Bytes of sparse cells the batch's ADDs may create, reserved until the flush settles them. */
  reservedBytes = 0;

  constructor(options: Partial<ModelOptions>, repr: RepresentationOptions) {
    this.options = Object.freeze({ ...DEFAULT_MODEL_OPTIONS, ...options });
    const o = this.options;
    if (!Number.isInteger(o.topK) || o.topK < 1) throw new RangeError('topK must be an integer ≥ 1');
    if (!SIMILARITY_MEASURES.includes(o.similarity))
      throw new RangeError(`similarity must be one of ${SIMILARITY_MEASURES.join(', ')}`);
    if (!Number.isInteger(o.minCooccurrences) || o.minCooccurrences < 1)
      throw new RangeError('minCooccurrences must be an integer ≥ 1');
    if (!Number.isInteger(o.maxItemsPerUser) || o.maxItemsPerUser < 1)
      throw new RangeError('maxItemsPerUser must be an integer ≥ 1');
    if (!(o.memoryBudgetBytes > 0)) throw new RangeError('memoryBudgetBytes must be > 0');
    if (!Number.isSafeInteger(o.interactionTtlMs) || o.interactionTtlMs < 0)
      throw new RangeError('interactionTtlMs must be an integer ≥ 0');
    this.representation = repr.representation ?? 'auto';
    this.flushMode = repr.flushMode ?? 'auto';
    this.store =
      this.representation === 'sparse'
        ? new SparseCooccurrence()
        : new DenseCooccurrence(o.memoryBudgetBytes === Infinity ? UNBUDGETED_DENSE_BYTES : Infinity);
    this.tombstones = new Tombstones(o.tombstoneKey, o.tombstoneRetentionMs);
    this.topk = new NeighborIndex(this.host(), o.topK, o.minCooccurrences, o.similarity);
  }

  /** Whether histories keep each interaction's time (INTERACTION_TTL_MS on). */
  get timed(): boolean {
    return this.options.interactionTtlMs > 0;
  }

  /** Bytes per interaction held: the slot and rank, and the time when timed. */
  get interactionBytes(): number {
    return INTERACTION_BYTES + (this.timed ? TIME_BYTES : 0);
  }

  /** Whether C follows the memory budget (not forced dense or sparse). */
  get autoRepresentation(): boolean {
    return this.representation === 'auto';
  }

  /** The read-only view the top-K index gets (getters: arrays are replaced as they grow). */
  private host(): TopKHost {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the view reads this core's fields
    const core = this;
    return {
      get n() {
        return core.n;
      },
      get store() {
        return core.store;
      },
      get names() {
        return core.itemDict.names;
      },
      get slots() {
        return core.itemDict.capacity;
      },
      touch(k: number) {
        core.touch(k);
      },
    };
  }

  // ---------------------------------------------------------------- items, users, batch

  /** The slot of an item, interning it; per-item arrays grow now, C and the top-K index at the flush. */
  internItem(itemId: string): number {
    const i = this.itemDict.intern(itemId);
    if (i >= this.n.length) this.growItems(i + 1);
    return i;
  }

  /** Slots the per-item arrays (n and three marks, 16 bytes a slot) would add to hold `needed`. */
  private itemArrayGrowth(needed: number): number {
    return needed <= this.n.length ? 0 : Math.max(needed, Math.ceil(this.n.length * 1.5)) - this.n.length;
  }

  growItems(needed: number): void {
    const next = this.n.length + this.itemArrayGrowth(needed);
    const grow = <T extends Int32Array | Uint32Array>(a: T, make: (n: number) => T): T => {
      const b = make(next);
      b.set(a);
      return b;
    };
    this.n = grow(this.n, (x) => new Int32Array(x));
    this.changedMark = grow(this.changedMark, (x) => new Uint32Array(x));
    this.touchedMark = grow(this.touchedMark, (x) => new Uint32Array(x));
    this.decreasedMark = grow(this.decreasedMark, (x) => new Uint32Array(x));
  }

  markChanged(i: number, decreased = false): void {
    if (decreased) this.decreasedMark[i] = this.epoch;
    if (this.changedMark[i] !== this.epoch) {
      this.changedMark[i] = this.epoch;
      this.changedItems.push(i);
    }
  }

  touch(k: number): void {
    if (this.touchedMark[k] !== this.epoch) {
      this.touchedMark[k] = this.epoch;
      this.touchedItems.push(k);
    }
  }

  /** Records u's items as C holds them, before their first change in the batch. */
  beginUserChange(u: number, h: History): void {
    if (!this.batchBase.has(u)) this.batchBase.set(u, h.sorted());
  }

  /** Item i leaves u's history (a REMOVE, or the oldest item of a user at the cap). */
  removeItem(u: number, h: History, i: number): void {
    this.beginUserChange(u, h);
    h.delete(i);
    this.n[i] = (this.n[i] as number) - 1;
    this.interactionCount--;
    this.markChanged(i, true);
  }

  dropUser(u: number): void {
    this.history[u] = undefined;
    this.lateBound.delete(u);
    this.users.release(u);
  }

  /** Whether the batch left anything to settle into C. */
  get unsettled(): boolean {
    return this.batchBase.size > 0 || this.forgotten.length > 0;
  }

  // ---------------------------------------------------------------- capacity and memory

  /** The work that makes C and the top-K index cover every slot in use (growing, or converting C). */
  capacitySteps(): Step[] {
    const slots = this.itemDict.capacity;
    const steps: Step[] = [];
    if (this.sparsePlanned && this.store.kind === 'dense') {
      const sparse = new SparseCooccurrence();
      const copy = sparse.copyFrom(this.store, this.store.capacity);
      steps.push((slice) => {
        if (!copy(slice)) return false;
        this.store = sparse;
        return true;
      });
      const watchers = this.topk.useSparseWatchers();
      if (watchers !== undefined) steps.push(watchers);
    }
    // Evaluated when reached: the store may have just become sparse.
    let grow: Step | undefined | null = null;
    steps.push((slice) => (grow ??= this.store.grow(slots)) === undefined || grow(slice));
    const topk = this.topk.grow(slots);
    if (topk !== undefined) steps.push(topk);
    return steps;
  }

  /** Estimated bytes held (see memory.ts); O(1). */
  bytes(): number {
    const o = this.options;
    return (
      this.store.bytes() +
      this.topk.bytes() +
      this.n.length * 16 +
      this.interactionCount * this.interactionBytes +
      this.users.size * USER_BYTES +
      this.itemDict.size * (ITEM_BYTES + NEIGHBOR_BYTES * o.topK) +
      (this.users.chars + this.itemDict.chars) * CHAR_BYTES +
      this.tombstones.size * TOMBSTONE_BYTES
    );
  }

  /**
   * Throws ModelCapacityError, before anything changes, when an ADD of a new pair would take the model
   * past its budget: the new user, item and interaction, the growth of C and the index a new slot
   * needs at the next flush (old and new arrays both live while copying), or the sparse cells the
   * pair can create (reserved until the flush). Plans the switch of C to sparse rows when the dense
   * square can no longer grow.
   */
  reserveAdd(userId: string, itemId: string, newUser: boolean, newItem: boolean, held: number): void {
    const budget = this.options.memoryBudgetBytes;
    const slots = this.itemDict.capacity + (newItem && this.itemDict.full ? 1 : 0);
    let sparse = this.store.kind === 'sparse' || this.sparsePlanned;
    if (sparse && budget === Infinity) return;
    let need = this.interactionBytes + this.topk.growthBytes(slots) + this.itemArrayGrowth(slots) * 16;
    if (newUser) need += USER_BYTES + userId.length * CHAR_BYTES;
    if (newItem) need += ITEM_BYTES + NEIGHBOR_BYTES * this.options.topK + itemId.length * CHAR_BYTES;
    const used = this.bytes() - this.store.bytes() + this.store.boundBytes() + this.reservedBytes + need;
    let growth = this.store.growthBytes(slots);
    let convert = false;
    if (!sparse && growth > 0 && this.autoRepresentation) {
      const rows =
        this.store.nonzeros * SPARSE_CELL_BYTES + slots * SPARSE_ROW_BYTES + this.topk.setWatcherBytes(slots);
      if (preferSparse(this.store.bytes() + growth, rows, used, growth, budget))
        [growth, sparse, convert] = [rows, true, true];
    }
    if (!Number.isFinite(growth))
      throw new ModelCapacityError(Infinity, budget, `a dense C for ${slots} items`);
    // Worst case: every pair new (a cell and a watcher entry each way), and the rows of the new item
    // and of one held item created.
    const cells = sparse ? 2 * held * (SPARSE_CELL_BYTES + SET_ENTRY_BYTES) + 2 * SPARSE_ROW_BYTES : 0;
    if (used + growth + cells > budget)
      throw new ModelCapacityError(
        used + growth + cells,
        budget,
        convert ? 'converting C to sparse rows' : 'this interaction',
      );
    if (convert) this.sparsePlanned = true;
    this.reservedBytes += cells;
  }
}
