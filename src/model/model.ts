// The forgetting model: H, n, C and exact top-K neighbour lists (Jaccard or cosine, similarity.ts), updated incrementally and
// decrementally. Pure and synchronous: no I/O, no clock (time arrives with the events).
//
// Within a batch (until a flush), interactions and forgets update H and n at once (a forgotten user's
// id leaves every dictionary at once) and C lazily; a flush settles C, brings the affected top-K
// lists up to date and reports the ones that differ from the last report. A flush can run in slices
// (beginFlush) so that the caller yields to the event loop between them.

import { DEFAULT_MODEL_OPTIONS, ModelCore, type RepresentationOptions } from './core.js';
import { Flush, type FlushJob } from './flush.js';
import { History } from './history.js';
import { Settler } from './settle.js';
import { runToEnd, Slice } from './slice.js';
import { exportState, restoreInto } from './restore.js';
import type { ModelState } from './state.js';
import type {
  ChangeReport,
  ForgetRequest,
  ForgetResult,
  InteractionEvent,
  InteractionOutcome,
  ModelOptions,
  ModelStats,
  NeighborList,
  PairSimilarity,
  Recommendation,
  ScoredNeighbors,
} from './types.js';

export { DEFAULT_MODEL_OPTIONS, type RepresentationOptions, type FlushJob };

export class Model {
  private readonly core: ModelCore;
  private job: Flush | undefined;

  constructor(options: Partial<ModelOptions> = {}, repr: RepresentationOptions = {}) {
    this.core = new ModelCore(options, repr);
  }

  get options(): ModelOptions {
    return this.core.options;
  }

  // ---------------------------------------------------------------- writes

  /**
   * Applies one interaction to H and n. An ADD for a user at maxItemsPerUser first removes their
   * oldest interaction (arrival order), as a REMOVE would. Throws ModelCapacityError, before changing
   * anything, when an ADD would take the model past memoryBudgetBytes.
   */
  interaction(e: InteractionEvent): InteractionOutcome {
    this.idle();
    const c = this.core;
    let u = c.users.lookup(e.userId);
    const bound = u !== undefined ? c.lateBound.get(u) : c.tombstones.requestedAt(e.userId);
    if (bound !== undefined && e.occurredAt <= bound) return 'suppressed-late';
    const timed = c.timed;
    // A REMOVE always applies (it only takes away); an ADD older than the cutoff is never seen.
    if (timed && e.action === 'ADD' && e.occurredAt < c.expiredBefore) return 'expired';
    let h = u === undefined ? undefined : c.history[u];
    const known = c.itemDict.lookup(e.itemId);
    if (e.action === 'REMOVE') {
      if (u === undefined || known === undefined || h === undefined || !h.has(known)) return 'duplicate';
      c.removeItem(u, h, known);
      c.version++;
      return 'applied';
    }
    if (known !== undefined && h?.has(known) === true) {
      // A re-ADD: a later time refreshes the interaction's time (and makes it the newest arrival).
      if (timed && h.refresh(known, e.occurredAt)) c.version++;
      return 'duplicate';
    }
    // Timed, at the cap: the most recent N by time are kept; an ADD older than all of them is the one
    // that leaves (what a replay that never saw it would hold, see expireBefore).
    if (
      timed &&
      h !== undefined &&
      h.length === c.options.maxItemsPerUser &&
      e.occurredAt < (h.timeOf(h.oldest()) as number)
    )
      return 'applied';
    c.reserveAdd(e.userId, e.itemId, u === undefined, known === undefined, h?.length ?? 0);
    if (u === undefined) {
      u = c.users.intern(e.userId);
      if (bound !== undefined) c.lateBound.set(u, bound);
    }
    if (h === undefined) h = c.history[u] = new History(4, 0, timed);
    const i = c.internItem(e.itemId);
    c.beginUserChange(u, h);
    while (h.length >= c.options.maxItemsPerUser) c.removeItem(u, h, h.oldest());
    h.add(i, e.occurredAt);
    c.n[i] = (c.n[i] as number) + 1;
    c.interactionCount++;
    c.markChanged(i);
    c.version++;
    return 'applied';
  }

  /**
   * Forgets a user: their id leaves every dictionary and their items leave H and n now (O(their
   * items)); C and the lists follow at the next flush. A tombstone (keyed hash) drops their late events.
   */
  forget(r: ForgetRequest): ForgetResult {
    this.idle();
    const c = this.core;
    c.tombstones.record(r.userId, r.requestedAt);
    const u = c.users.lookup(r.userId);
    if (u === undefined) return { interactionsRemoved: 0, itemsAffected: 0 };
    const h = c.history[u] as History;
    const removed = h.length;
    // C holds the items the user had at the batch start (or now, if they did not change since).
    const base = c.batchBase.get(u) ?? h.items.subarray(0, h.length);
    c.batchBase.delete(u);
    if (base.length > 0) c.forgotten.push(base);
    for (let p = 0; p < h.length; p++) {
      const i = h.items[p] as number;
      c.n[i] = (c.n[i] as number) - 1;
      c.markChanged(i, true);
    }
    c.interactionCount -= removed;
    c.dropUser(u);
    c.version++;
    return { interactionsRemoved: removed, itemsAffected: removed };
  }

  /** Drops expired tombstones (request time older than now - retention). */
  expireTombstones(nowMs: number): number {
    this.idle();
    const c = this.core;
    for (const [u, t] of c.lateBound) if (c.tombstones.isExpired(t, nowMs)) c.lateBound.delete(u);
    return c.tombstones.expire(nowMs);
  }

  /**
   * INTERACTION_TTL_MS: forgets every interaction with a time before `cutoffMs` (the caller's now −
   * TTL: the model has no clock) from H and n now, C and the lists at the next flush, exactly as a
   * REMOVE would; from then on an ADD older than the cutoff is refused ('expired'). The cutoff only
   * moves forward. O(users) plus the expired interactions. With the rules of interaction() (a re-ADD
   * keeps the later time, the cap keeps the most recent by time, a REMOVE always applies), the state
   * equals that of a model that never saw the ADDs before the cutoff, however often this ran.
   * Returns the interactions expired.
   */
  expireBefore(cutoffMs: number): number {
    this.idle();
    const c = this.core;
    if (!c.timed) throw new Error('expireBefore needs interactionTtlMs > 0');
    if (!(cutoffMs > c.expiredBefore)) return 0;
    c.expiredBefore = cutoffMs;
    let expired = 0;
    for (const u of c.users.slots()) {
      const h = c.history[u];
      if (h === undefined || !(h.minTime < cutoffMs)) continue;
      for (const i of h.before(cutoffMs)) {
        c.removeItem(u, h, i);
        expired++;
      }
    }
    if (expired > 0) c.version++;
    return expired;
  }

  /**
   * Starts a flush that runs in slices; no other mutating model call until it is done. With
   * `previous`, its report also holds the lists the changed and removed items had before it.
   */
  beginFlush(updatedAt?: number, opts: { readonly previous?: boolean } = {}): FlushJob {
    this.idle();
    this.job = new Flush(this.core, updatedAt, () => (this.job = undefined), opts.previous === true);
    return this.job;
  }

  /**
   * Ends a batch at once: settles C, brings every affected top-K list up to date and returns the
   * lists that differ from the last ones returned, plus the items that disappeared since. `updatedAt`
   * (epoch ms, from the caller: the model has no clock) is stamped on the lists this flush produces.
   */
  flush(updatedAt?: number): ChangeReport {
    const job = this.beginFlush(updatedAt);
    while (!job.step(() => false));
    return job.result();
  }

  private idle(): void {
    if (this.job !== undefined)
      throw new Error('a flush is in progress: complete it before changing the model');
  }

  /** Settles C (outside a flush) for reads that need it. */
  private settled(): void {
    this.idle();
    if (!this.core.unsettled && this.core.store.capacity >= this.core.itemDict.capacity) return;
    for (const step of this.core.capacitySteps()) runToEnd(step);
    const settler = new Settler(this.core);
    const slice = new Slice(() => false);
    while (!settler.step(slice));
  }

  // ---------------------------------------------------------------- reads

  /** Grows whenever H changes or a flush reports changes: a cheap "has anything changed" test. */
  get version(): number {
    return this.core.version;
  }

  /** The last flushed list of the item, with at most k (≤ topK) neighbours. Answers during a flush too. */
  neighbors(itemId: string, k = this.options.topK): NeighborList | undefined {
    const c = this.core;
    const i = c.itemDict.lookup(itemId);
    const list = i === undefined ? undefined : c.reported[i];
    if (list === undefined) return undefined;
    return k >= list.neighbors.length
      ? list
      : { ...list, neighbors: list.neighbors.slice(0, Math.max(0, k)) };
  }

  similarity(a: string, b: string): PairSimilarity | undefined {
    const c = this.core;
    const i = c.itemDict.lookup(a);
    const j = c.itemDict.lookup(b);
    if (i === undefined || j === undefined) return undefined;
    const ni = c.n[i] as number;
    const nj = c.n[j] as number;
    if (ni === 0 || nj === 0) return undefined;
    this.settled();
    const cij = i === j ? ni : c.store.get(i, j);
    return { similarity: c.topk.sim(cij, ni, nj), cooccurrences: cij, interactionsA: ni, interactionsB: nj };
  }

  /**
   * Items not in the user's history, scored by the sum of the similarities of the user's items to
   * them (via the lists). `lists` replaces the current list of the items it names (an empty list:
   * none), e.g. by the lists as they were before a forget (what-if, nothing changes).
   */
  recommend(userId: string, k: number, lists?: ReadonlyMap<string, ScoredNeighbors>): Recommendation[] {
    const c = this.core;
    const u = c.users.lookup(userId);
    const h = u === undefined ? undefined : c.history[u];
    if (h === undefined || h.length === 0) return [];
    const scores = new Map<string, number>();
    for (let p = 0; p < h.length; p++) {
      const i = h.items[p] as number;
      const neighbors = (lists && lists.get(c.itemDict.name(i))) ?? c.reported[i]?.neighbors;
      if (neighbors === undefined) continue;
      for (const nb of neighbors) {
        const j = c.itemDict.lookup(nb.itemId);
        if (j !== undefined && h.has(j)) continue;
        scores.set(nb.itemId, (scores.get(nb.itemId) ?? 0) + nb.similarity);
      }
    }
    return [...scores]
      .map(([itemId, score]) => ({ itemId, score }))
      .sort((x, y) => y.score - x.score || byString(x.itemId, y.itemId))
      .slice(0, Math.max(0, k));
  }

  /** The items stored for the user (right of access), in id order; empty when unknown or forgotten. */
  itemsOf(userId: string): string[] {
    const c = this.core;
    const u = c.users.lookup(userId);
    const h = u === undefined ? undefined : c.history[u];
    if (h === undefined) return [];
    return Array.from(h.sorted(), (i) => c.itemDict.name(i)).sort(byString);
  }

  /** Alias of itemsOf (the contract's `GET /users/{userId}/items`). */
  items(userId: string): string[] {
    return this.itemsOf(userId);
  }

  interactions(itemId: string): number {
    const i = this.core.itemDict.lookup(itemId);
    return i === undefined ? 0 : (this.core.n[i] as number);
  }

  /** Ids of the items with at least one interaction, in id order. */
  itemIds(): string[] {
    const c = this.core;
    const out: string[] = [];
    for (const i of c.itemDict.slots()) if ((c.n[i] as number) > 0) out.push(c.itemDict.name(i));
    return out.sort(byString);
  }

  /** Ids of the users held in memory, in id order (personal data: for the inspector and audits only). */
  userIds(): string[] {
    const c = this.core;
    const out: string[] = [];
    for (const u of c.users.slots()) if ((c.history[u]?.length ?? 0) > 0) out.push(c.users.name(u));
    return out.sort(byString);
  }

  hasUser(userId: string): boolean {
    return this.core.users.lookup(userId) !== undefined;
  }

  /** O(1): every term is a running total. */
  stats(): ModelStats {
    const c = this.core;
    return {
      users: c.users.size,
      items: c.itemDict.size,
      pairs: c.store.nonzeros / 2,
      bytes: c.bytes(),
      tombstones: c.tombstones.size,
    };
  }

  /** How C is held (benchmarks, diagnostics). */
  get representation(): 'dense' | 'sparse' {
    return this.core.store.kind;
  }

  /** Rows rescanned because a bound could not prove a list (diagnostics). */
  get forcedRescans(): number {
    return this.core.topk.forcedRescans;
  }

  /** Up to `limit` user ids with a non-empty history, in slot order from `cursor` (0 = start); `next` undefined at the end. O(limit + free slots skipped). */
  userPage(cursor: number, limit: number): { ids: string[]; next: number | undefined } {
    const c = this.core;
    return c.users.page(cursor, limit, (u) => (c.history[u]?.length ?? 0) > 0);
  }

  /** The same for items with n > 0. */
  itemPage(cursor: number, limit: number): { ids: string[]; next: number | undefined } {
    const c = this.core;
    return c.itemDict.page(cursor, limit, (i) => (c.n[i] as number) > 0);
  }

  // ---------------------------------------------------------------- durable state (see state.ts)

  /** The state at a batch boundary (after flush()), copied: later changes do not affect it. */
  exportState(): ModelState {
    this.idle();
    if (this.core.unsettled || this.core.changedItems.length > 0)
      throw new Error('exportState needs a flushed model: call flush() first');
    return exportState(this.core);
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
    restoreInto(m.core, state);
    return m;
  }
}

function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
