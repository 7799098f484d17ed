// The forgetting model: H, n, C and exact top-K Jaccard neighbour lists, updated incrementally and
// decrementally. Pure and synchronous: no I/O, no clock (time arrives with the events).
//
// Within a batch (until flush), interactions update H and n at once but C lazily: each user changed
// in the batch keeps a copy of their history at the batch start, and settle() applies the net
// difference (added × kept, added × added, removed × kept, removed × removed) row by row, which keeps
// every C update inside one contiguous row. flush() settles everything, brings the top-K lists of
// changed items up to date and reports the ones that differ from the last report.

import { DenseCooccurrence, SparseCooccurrence, type CooccurrenceStore } from './cooccurrence.js';
import { Interner } from './interner.js';
import { History } from './history.js';
import type { ModelState } from './state.js';
import { Tombstones } from './tombstones.js';
import { NeighborIndex, type TopKHost } from './topk.js';
import type {
  ChangeReport,
  ForgetRequest,
  ForgetResult,
  InteractionEvent,
  InteractionOutcome,
  ModelOptions,
  ModelStats,
  Neighbor,
  NeighborList,
  PairSimilarity,
  Recommendation,
} from './types.js';

export const DEFAULT_MODEL_OPTIONS: ModelOptions = Object.freeze({
  topK: 20,
  minCooccurrences: 1,
  tombstoneRetentionMs: 30 * 24 * 3600 * 1000,
  tombstoneKey: 'amnesia-default-tombstone-key',
});

export interface RepresentationOptions {
  /** Largest dense square, in bytes, before switching C to sparse rows (default 2 GiB). */
  readonly denseMaxBytes?: number;
  /** Force a representation (benchmarks, tests). */
  readonly representation?: 'dense' | 'sparse' | 'auto';
}

export class Model {
  readonly options: ModelOptions;
  private readonly itemDict = new Interner();
  private readonly users = new Interner();
  private history: (History | undefined)[] = [];
  /** Per user slot: latest request time of a tombstone matching the user (late-event bound). */
  private readonly lateBound = new Map<number, number>();
  private n = new Int32Array(64);
  private store: CooccurrenceStore;
  /** Interactions held (Σ|H_u|), kept as they change: stats() is read on every metrics scrape. */
  private interactionCount = 0;
  private readonly topk: NeighborIndex;
  private readonly tombstones: Tombstones;
  private readonly denseMaxItems: number;
  private readonly forcedRepresentation: 'dense' | 'sparse' | 'auto';

  // batch state
  private readonly batchBase = new Map<number, Int32Array>();
  private changedItems: number[] = [];
  private changedMark = new Uint32Array(64);
  private touchedItems: number[] = [];
  private touchedMark = new Uint32Array(64);
  private decreasedMark = new Uint32Array(64);
  private epoch = 1;
  private version_ = 0;
  /** The last list reported per item slot (undefined: never reported, or gone). */
  private reported: (NeighborList | undefined)[] = [];
  // scratch for settle
  private sA = new Int32Array(64);
  private sR = new Int32Array(64);
  private sK = new Int32Array(64);

  constructor(options: Partial<ModelOptions> = {}, repr: RepresentationOptions = {}) {
    this.options = Object.freeze({ ...DEFAULT_MODEL_OPTIONS, ...options });
    if (!Number.isInteger(this.options.topK) || this.options.topK < 1)
      throw new RangeError('topK must be an integer ≥ 1');
    if (!Number.isInteger(this.options.minCooccurrences) || this.options.minCooccurrences < 1)
      throw new RangeError('minCooccurrences must be an integer ≥ 1');
    this.forcedRepresentation = repr.representation ?? 'auto';
    this.denseMaxItems = Math.floor(Math.sqrt((repr.denseMaxBytes ?? 2 ** 31) / 2));
    this.store = this.forcedRepresentation === 'sparse' ? new SparseCooccurrence() : new DenseCooccurrence();
    this.tombstones = new Tombstones(this.options.tombstoneKey, this.options.tombstoneRetentionMs);
    this.topk = new NeighborIndex(this.topKHost(), this.options.topK, this.options.minCooccurrences);
    this.store.ensureCapacity(this.n.length);
    this.topk.ensureCapacity(this.n.length);
    if (this.store.kind === 'sparse') this.topk.useSparseWatchers();
  }

  // ---------------------------------------------------------------- writes

  interaction(e: InteractionEvent): InteractionOutcome {
    let u = this.users.lookup(e.userId);
    const bound = u !== undefined ? this.lateBound.get(u) : this.tombstones.requestedAt(e.userId);
    if (bound !== undefined && e.occurredAt <= bound) return 'suppressed-late';
    if (e.action === 'ADD') {
      if (u === undefined) {
        u = this.users.intern(e.userId);
        if (bound !== undefined) this.lateBound.set(u, bound);
      }
      let h = this.history[u];
      if (h === undefined) h = this.history[u] = new History();
      const i = this.internItem(e.itemId);
      if (h.has(i)) return 'duplicate';
      this.beginUserChange(u, h);
      h.add(i);
      this.n[i] = (this.n[i] as number) + 1;
      this.interactionCount++;
      this.markChanged(i);
      this.version_++;
      return 'applied';
    }
    if (u === undefined) return 'duplicate';
    const i = this.itemDict.lookup(e.itemId);
    const h = this.history[u];
    if (i === undefined || h === undefined || !h.has(i)) return 'duplicate';
    this.beginUserChange(u, h);
    h.delete(i);
    this.n[i] = (this.n[i] as number) - 1;
    this.interactionCount--;
    this.markChanged(i, true);
    this.version_++;
    return 'applied';
  }

  forget(r: ForgetRequest): ForgetResult {
    this.tombstones.record(r.userId, r.requestedAt);
    const u = this.users.lookup(r.userId);
    if (u === undefined) return { interactionsRemoved: 0, itemsAffected: 0 };
    const h = this.history[u];
    let removed = 0;
    if (h !== undefined && h.length > 0) {
      this.beginUserChange(u, h);
      removed = h.length;
      for (let p = 0; p < h.length; p++) {
        const i = h.items[p] as number;
        this.n[i] = (this.n[i] as number) - 1;
        this.markChanged(i, true);
      }
      h.length = 0;
      this.interactionCount -= removed;
    }
    // Settle now: the slot (and the id with it) leaves the dictionary immediately.
    this.settleUser(u);
    this.dropUser(u);
    this.version_++;
    return { interactionsRemoved: removed, itemsAffected: removed };
  }

  /** Drops expired tombstones (request time older than now - retention). */
  expireTombstones(nowMs: number): number {
    for (const [u, t] of this.lateBound) if (this.tombstones.isExpired(t, nowMs)) this.lateBound.delete(u);
    return this.tombstones.expire(nowMs);
  }

  /**
   * Ends a batch: settles C, brings every affected top-K list up to date and returns the lists that
   * differ from the last ones returned, plus the items that disappeared since. `updatedAt` (epoch
   * ms, from the caller: the model has no clock) is stamped on the lists this flush produces.
   */
  flush(updatedAt?: number): ChangeReport {
    this.settleAll();
    const epoch = this.epoch;
    const changed: NeighborList[] = [];
    const removed: string[] = [];
    const T = this.changedItems;
    const changedMark = this.changedMark;
    const inT = (k: number): boolean => changedMark[k] === epoch;
    const decreasedMark = this.decreasedMark;
    const inD = (k: number): boolean => decreasedMark[k] === epoch;
    const touchedMark = this.touchedMark;
    const touched = this.touchedItems;
    const touch = (k: number): void => {
      if (touchedMark[k] !== epoch) {
        touchedMark[k] = epoch;
        touched.push(k);
      }
    };
    // Every row keeps its candidates under a bound adjusted to its new n (refresh). Where n fell,
    // every neighbour's value for the item rose: one pass over the row offers it where it may now
    // rank high enough. Rows holding a changed item as a candidate are re-ranked (watchers).
    for (const i of T) {
      if ((this.n[i] as number) > 0 && inD(i)) this.topk.propagate(i, touch);
      this.topk.forEachWatcher(i, touch);
    }
    // Rows that took too many offers are rebuilt from a scan.
    for (const i of this.topk.takeDueRescans()) if ((this.n[i] as number) > 0) this.topk.rescan(i);
    const K = this.options.topK;
    const outId = new Int32Array(K);
    const outC = new Int32Array(K);
    const outV = new Float64Array(K);
    const emit = (i: number): void => {
      const m = this.topk.top(i, outId, outC, outV);
      const prev = this.reported[i];
      const ni = this.n[i] as number;
      if (prev !== undefined && prev.interactions === ni && prev.neighbors.length === m) {
        let same = true;
        for (let p = 0; p < m && same; p++) {
          const nb = prev.neighbors[p] as Neighbor;
          same =
            nb.cooccurrences === outC[p] &&
            nb.similarity === outV[p] &&
            nb.itemId === this.itemDict.name(outId[p] as number);
        }
        if (same) return;
      }
      const neighbors = new Array<Neighbor>(m);
      for (let p = 0; p < m; p++)
        neighbors[p] = {
          itemId: this.itemDict.name(outId[p] as number),
          similarity: outV[p] as number,
          cooccurrences: outC[p] as number,
        };
      const list: NeighborList =
        updatedAt === undefined
          ? { itemId: this.itemDict.name(i), interactions: ni, neighbors }
          : { itemId: this.itemDict.name(i), interactions: ni, neighbors, updatedAt };
      this.reported[i] = list;
      changed.push(list);
    };
    for (const i of T) if ((this.n[i] as number) > 0) emit(i);
    // Slot order: the order in which watchers were found depends on the watcher index's history
    // (set insertion order in sparse mode), and a restored model must report in the same order.
    for (const k of Int32Array.from(touched).sort()) if (!inT(k) && (this.n[k] as number) > 0) emit(k);
    for (const i of T) {
      if ((this.n[i] as number) !== 0) continue;
      if (this.reported[i] !== undefined) {
        removed.push(this.itemDict.name(i));
        this.reported[i] = undefined;
      }
      this.topk.clear(i);
      this.itemDict.release(i);
    }
    this.changedItems = [];
    this.touchedItems = [];
    this.epoch++;
    if (changed.length > 0 || removed.length > 0) this.version_++;
    return { changed, removed };
  }

  // ---------------------------------------------------------------- reads

  /** Grows whenever H changes or a flush reports changes: a cheap "has anything changed" test. */
  get version(): number {
    return this.version_;
  }

  /** The last flushed list of the item, with at most k (≤ topK) neighbours. */
  neighbors(itemId: string, k = this.options.topK): NeighborList | undefined {
    const i = this.itemDict.lookup(itemId);
    const list = i === undefined ? undefined : this.reported[i];
    if (list === undefined) return undefined;
    return k >= list.neighbors.length
      ? list
      : { ...list, neighbors: list.neighbors.slice(0, Math.max(0, k)) };
  }

  similarity(a: string, b: string): PairSimilarity | undefined {
    const i = this.itemDict.lookup(a);
    const j = this.itemDict.lookup(b);
    if (i === undefined || j === undefined) return undefined;
    const ni = this.n[i] as number;
    const nj = this.n[j] as number;
    if (ni === 0 || nj === 0) return undefined;
    this.settleAll();
    const c = i === j ? ni : this.store.get(i, j);
    return { similarity: c / (ni + nj - c), cooccurrences: c, interactionsA: ni, interactionsB: nj };
  }

  /** Items not in the user's history, scored by the sum of the similarities of the user's items to them (via the lists). */
  recommend(userId: string, k: number): Recommendation[] {
    const u = this.users.lookup(userId);
    const h = u === undefined ? undefined : this.history[u];
    if (h === undefined || h.length === 0) return [];
    const scores = new Map<string, number>();
    for (let p = 0; p < h.length; p++) {
      const list = this.reported[h.items[p] as number];
      if (list === undefined) continue;
      for (const nb of list.neighbors) {
        const j = this.itemDict.lookup(nb.itemId);
        if (j !== undefined && h.has(j)) continue;
        scores.set(nb.itemId, (scores.get(nb.itemId) ?? 0) + nb.similarity);
      }
    }
    return [...scores]
      .map(([itemId, score]) => ({ itemId, score }))
      .sort((x, y) => y.score - x.score || (x.itemId < y.itemId ? -1 : x.itemId > y.itemId ? 1 : 0))
      .slice(0, Math.max(0, k));
  }

  /** The items stored for the user (right of access), in id order; empty when unknown or forgotten. */
  itemsOf(userId: string): string[] {
    const u = this.users.lookup(userId);
    const h = u === undefined ? undefined : this.history[u];
    if (h === undefined) return [];
    return Array.from(h.sorted(), (i) => this.itemDict.name(i)).sort(byString);
  }

  /** Alias of itemsOf (the contract's `GET /users/{userId}/items`). */
  items(userId: string): string[] {
    return this.itemsOf(userId);
  }

  interactions(itemId: string): number {
    const i = this.itemDict.lookup(itemId);
    return i === undefined ? 0 : (this.n[i] as number);
  }

  /** Ids of the items with at least one interaction, in id order. */
  itemIds(): string[] {
    const out: string[] = [];
    for (const i of this.itemDict.slots()) if ((this.n[i] as number) > 0) out.push(this.itemDict.name(i));
    return out.sort(byString);
  }

  /** Ids of the users held in memory, in id order (personal data: for the inspector and audits only). */
  userIds(): string[] {
    const out: string[] = [];
    for (const u of this.users.slots()) if ((this.history[u]?.length ?? 0) > 0) out.push(this.users.name(u));
    return out.sort(byString);
  }

  hasUser(userId: string): boolean {
    return this.users.lookup(userId) !== undefined;
  }

  /** O(1): every term is a running total. */
  stats(): ModelStats {
    return {
      users: this.users.size,
      items: this.itemDict.size,
      pairs: this.store.nonzeros / 2,
      bytes: this.store.bytes() + this.topk.bytes() + this.interactionCount * 4 + this.n.byteLength,
      tombstones: this.tombstones.size,
    };
  }

  /** How C is held (benchmarks, diagnostics). */
  get representation(): 'dense' | 'sparse' {
    return this.store.kind;
  }

  /** Rows rescanned because a bound could not prove a list (diagnostics). */
  get forcedRescans(): number {
    return this.topk.forcedRescans;
  }

  /** Up to `limit` user ids with a non-empty history, in slot order from `cursor` (0 = start); `next` undefined at the end. O(limit + free slots skipped). */
  userPage(cursor: number, limit: number): { ids: string[]; next: number | undefined } {
    return this.users.page(cursor, limit, (u) => (this.history[u]?.length ?? 0) > 0);
  }
  /** The same for items with n > 0. */
  itemPage(cursor: number, limit: number): { ids: string[]; next: number | undefined } {
    return this.itemDict.page(cursor, limit, (i) => (this.n[i] as number) > 0);
  }

  // ---------------------------------------------------------------- internals

  /** The read-only view the top-K index gets of this model (getters: the arrays are replaced as they grow). */
  private topKHost(): TopKHost {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the view reads this model's private fields
    const model = this;
    return {
      get n() {
        return model.n;
      },
      get store() {
        return model.store;
      },
      get names() {
        return model.itemDict.names;
      },
      get slots() {
        return model.itemDict.capacity;
      },
    };
  }

  private internItem(itemId: string): number {
    const i = this.itemDict.intern(itemId);
    if (i >= this.n.length) this.growItems(i + 1);
    // C grows to the slots in use, not to the per-item arrays' headroom: its size is N² and its
    // row scans stop at the highest slot.
    this.store.ensureCapacity(i + 1);
    return i;
  }

  private growItems(needed: number): void {
    const next = Math.max(needed, Math.ceil(this.n.length * 1.5));
    const grow32 = <T extends Int32Array | Uint32Array>(a: T, make: (n: number) => T): T => {
      const b = make(next);
      b.set(a);
      return b;
    };
    this.n = grow32(this.n, (x) => new Int32Array(x));
    this.changedMark = grow32(this.changedMark, (x) => new Uint32Array(x));
    this.touchedMark = grow32(this.touchedMark, (x) => new Uint32Array(x));
    this.decreasedMark = grow32(this.decreasedMark, (x) => new Uint32Array(x));
    if (this.store.kind === 'dense' && this.forcedRepresentation !== 'dense' && next > this.denseMaxItems)
      this.toSparse();
    this.topk.ensureCapacity(next);
  }

  private toSparse(): void {
    // Rebuild C from H: every settled history contributes its pairs.
    this.settleAll();
    const sparse = new SparseCooccurrence();
    sparse.ensureCapacity(this.n.length);
    for (const h of this.history) {
      if (h === undefined) continue;
      for (let p = 0; p < h.length; p++) sparse.addRow(h.items[p] as number, h.items, h.length, 1);
    }
    this.store = sparse;
    this.topk.useSparseWatchers();
  }

  private markChanged(i: number, decreased = false): void {
    if (decreased) this.decreasedMark[i] = this.epoch;
    if (this.changedMark[i] !== this.epoch) {
      this.changedMark[i] = this.epoch;
      this.changedItems.push(i);
    }
  }

  private beginUserChange(u: number, h: History): void {
    if (!this.batchBase.has(u)) this.batchBase.set(u, h.sorted());
  }

  private settleAll(): void {
    if (this.batchBase.size === 0) return;
    for (const u of [...this.batchBase.keys()]) {
      this.settleUser(u);
      const h = this.history[u];
      if (h !== undefined && h.length === 0) this.dropUser(u);
    }
  }

  private dropUser(u: number): void {
    this.history[u] = undefined;
    this.lateBound.delete(u);
    this.users.release(u);
  }

  /** Applies user u's net history change since the batch start to C. */
  private settleUser(u: number): void {
    const base = this.batchBase.get(u);
    if (base === undefined) return;
    this.batchBase.delete(u);
    const h = this.history[u] as History;
    const cur = h.items;
    const curLen = h.length;
    const need = base.length + curLen;
    if (this.sA.length < need) {
      this.sA = new Int32Array(need);
      this.sR = new Int32Array(need);
      this.sK = new Int32Array(need);
    }
    const A = this.sA;
    const R = this.sR;
    const Kp = this.sK;
    let a = 0;
    let r = 0;
    let k = 0;
    let p = 0;
    let q = 0;
    while (p < base.length || q < curLen) {
      const x = p < base.length ? (base[p] as number) : Infinity;
      const y = q < curLen ? (cur[q] as number) : Infinity;
      if (x === y) {
        Kp[k++] = x;
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
    if (a === 0 && r === 0) return;
    const store = this.store;
    const topk = this.topk;
    for (let t = 0; t < a; t++) {
      const i = A[t] as number;
      store.addRow(i, Kp, k, 1);
      store.addRow(i, A, a, 1);
      topk.offerRow(i, Kp, k);
      topk.offerRow(i, A, a);
    }
    for (let t = 0; t < r; t++) {
      const i = R[t] as number;
      store.addRow(i, Kp, k, -1);
      store.addRow(i, R, r, -1);
    }
    for (let t = 0; t < k; t++) {
      const i = Kp[t] as number;
      if (a > 0) {
        store.addRow(i, A, a, 1);
        topk.offerRow(i, A, a);
      }
      if (r > 0) store.addRow(i, R, r, -1);
      if (this.touchedMark[i] !== this.epoch) {
        this.touchedMark[i] = this.epoch;
        this.touchedItems.push(i);
      }
    }
  }

  // ---------------------------------------------------------------- durable state (see state.ts)

  /** The state at a batch boundary (after flush()), copied: later changes do not affect it. */
  exportState(): ModelState {
    if (this.batchBase.size > 0 || this.changedItems.length > 0)
      throw new Error('exportState needs a flushed model: call flush() first');
    const { names, free } = this.itemDict.exportSlots();
    const userIds: string[] = [];
    const histories: Int32Array[] = [];
    const bounds: number[] = [];
    for (const u of this.users.slots()) {
      userIds.push(this.users.name(u));
      histories.push(this.history[u]?.arrival() ?? new Int32Array(0));
      bounds.push(this.lateBound.get(u) ?? NaN);
    }
    return {
      settings: { topK: this.options.topK, minCooccurrences: this.options.minCooccurrences },
      itemNames: names,
      itemFree: free,
      userIds,
      histories,
      lateBounds: Float64Array.from(bounds),
      // Lists are immutable once reported: sharing them is a copy.
      lists: Array.from({ length: names.length }, (_, i) => this.reported[i]),
      tombstones: [...this.tombstones.entries()],
      topk: this.topk.exportState(names.length, (name) => this.itemDict.lookup(name)),
    };
  }

  /**
   * A model equal to the one that exported `state`: n and C are rebuilt from H, the top-K candidates
   * restored (or every row rescanned without them), and the reported lists are the exported ones (so
   * only lists that differ are reported next). Throws RangeError when the state does not add up.
   */
  static fromState(
    state: ModelState,
    options: Partial<ModelOptions> = {},
    repr: RepresentationOptions = {},
  ): Model {
    const m = new Model(options, repr);
    const s = state.settings;
    if (m.options.topK !== s.topK || m.options.minCooccurrences !== s.minCooccurrences)
      throw new RangeError(
        `state built with topK=${s.topK}, minCooccurrences=${s.minCooccurrences}; ` +
          `model configured with topK=${m.options.topK}, minCooccurrences=${m.options.minCooccurrences}`,
      );
    const slots = state.itemNames.length;
    m.itemDict.restoreSlots(state.itemNames, state.itemFree);
    if (slots > m.n.length) m.growItems(slots);
    m.store.ensureCapacity(slots);
    const n = new Int32Array(slots);
    const sorted: Int32Array[] = [];
    for (let k = 0; k < state.userIds.length; k++) {
      const items = state.histories[k] as Int32Array;
      for (let p = 0; p < items.length; p++) {
        const i = items[p] as number;
        if (i < 0 || i >= slots || state.itemNames[i] === undefined)
          throw new RangeError(`history ${k} holds an item slot not in use`);
        n[i] = (n[i] as number) + 1;
      }
      const u = m.users.intern(state.userIds[k] as string);
      const h = History.fromArrival(items);
      m.history[u] = h;
      sorted.push(h.sorted());
      const bound = state.lateBounds[k] as number;
      if (!Number.isNaN(bound)) m.lateBound.set(u, bound);
    }
    for (let i = 0; i < slots; i++)
      if ((n[i] === 0) !== (state.itemNames[i] === undefined))
        throw new RangeError(`item slot ${i} is in use but held by no one, or free but held`);
    // C row by row (item → its users' histories): each row is written while it sits in cache, which
    // is several times faster than user by user over the whole square.
    const holders = new Int32Array(slots + 1);
    for (let i = 0; i < slots; i++) holders[i + 1] = (holders[i] as number) + (n[i] as number);
    const fill = holders.slice(0, slots);
    const byItem = new Int32Array(holders[slots] as number);
    for (let k = 0; k < sorted.length; k++) {
      const items = sorted[k] as Int32Array;
      for (let p = 0; p < items.length; p++) {
        const i = items[p] as number;
        byItem[fill[i] as number] = k;
        fill[i] = (fill[i] as number) + 1;
      }
    }
    for (let i = 0; i < slots; i++) {
      for (let q = holders[i] as number; q < (holders[i + 1] as number); q++) {
        const items = sorted[byItem[q] as number] as Int32Array;
        m.store.addRow(i, items, items.length, 1);
      }
    }
    m.n.set(n);
    m.interactionCount = byItem.length;
    m.tombstones.restore(state.tombstones);
    m.reported = state.lists.slice();
    const restored =
      state.topk !== undefined && state.topk.offsets.length === slots + 1 && m.topk.importState(state.topk);
    if (!restored) for (let i = 0; i < slots; i++) if ((n[i] as number) > 0) m.topk.rescan(i);
    return m;
  }
}

function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
