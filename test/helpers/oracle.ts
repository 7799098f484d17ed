// The one independent oracle of the tests, written from the contract alone (it shares no code with
// src/): H from the surviving events on plain Maps and Sets, then n, C, the similarity (Jaccard or
// cosine, each written out from the contract's formula) and the top-K lists by brute force over all
// item pairs. `Reference` replays operations one by one (model property tests);
// `survivingHistory` computes H from whole streams of events and deletions (end-to-end tests).

export interface RefEvent {
  readonly userId: string;
  readonly itemId: string;
  readonly action: 'ADD' | 'REMOVE';
  readonly occurredAt: number;
}

export interface RefDeletion {
  readonly userId: string;
  readonly requestedAt: number;
}

export interface RefList {
  readonly itemId: string;
  readonly interactions: number;
  readonly neighbors: { itemId: string; similarity: number; cooccurrences: number }[];
}

/**
 * One JSON record of the similarities topic folded into a compacted view, as RefLists (the
 * published `updatedAt` left out): a tombstone removes the item.
 */
export function foldListRecord(
  out: Map<string, RefList>,
  m: { readonly key: Buffer | null; readonly value: Buffer | null },
): void {
  const key = m.key!.toString();
  if (m.value === null) out.delete(key);
  else {
    const { itemId, interactions, neighbors } = JSON.parse(m.value.toString()) as RefList;
    out.set(key, { itemId, interactions, neighbors });
  }
}

/**
 * H after the events (in per-user order) and the deletions. Valid when each user's interactions
 * that occurred after their deletion were only produced after the deletion took effect (the test
 * generators guarantee it), so the outcome does not depend on how the two topics interleave:
 * a forgotten user keeps exactly the effect of their events with occurredAt > requestedAt.
 */
export function survivingHistory(
  events: readonly RefEvent[],
  deletions: readonly RefDeletion[],
): Map<string, Set<string>> {
  const forgottenAt = new Map<string, number>();
  for (const d of deletions)
    forgottenAt.set(d.userId, Math.max(d.requestedAt, forgottenAt.get(d.userId) ?? -Infinity));
  const h = new Map<string, Set<string>>();
  for (const e of events) {
    const t = forgottenAt.get(e.userId);
    if (t !== undefined && e.occurredAt <= t) continue;
    let s = h.get(e.userId);
    if (!s) h.set(e.userId, (s = new Set()));
    if (e.action === 'ADD') s.add(e.itemId);
    else s.delete(e.itemId);
  }
  for (const [u, s] of h) if (s.size === 0) h.delete(u);
  return h;
}

/** n: per item, the users holding it. */
export function countsOf(h: ReadonlyMap<string, ReadonlySet<string>>): Map<string, number> {
  const n = new Map<string, number>();
  for (const items of h.values()) for (const i of items) n.set(i, (n.get(i) ?? 0) + 1);
  return n;
}

/** C = HᵀH without the diagonal: per item, the users it shares with every other item. */
export function cooccurrenceOf(
  h: ReadonlyMap<string, ReadonlySet<string>>,
): Map<string, Map<string, number>> {
  const c = new Map<string, Map<string, number>>();
  for (const items of h.values()) {
    for (const i of items) {
      let row = c.get(i);
      if (!row) c.set(i, (row = new Map()));
      for (const j of items) if (i !== j) row.set(j, (row.get(j) ?? 0) + 1);
    }
  }
  return c;
}

export type RefMeasure = 'jaccard' | 'cosine';

/**
 * The contract's S_ij, in the contract's order of float64 operations: Jaccard C_ij / (n_i + n_j −
 * C_ij); cosine C_ij / sqrt(n_i · n_j).
 */
export function refSimilarity(measure: RefMeasure, cij: number, ni: number, nj: number): number {
  return measure === 'cosine' ? cij / Math.sqrt(ni * nj) : cij / (ni + nj - cij);
}

/** Top-K neighbour lists of every item with n > 0, by brute force. */
export function bruteForceLists(
  h: ReadonlyMap<string, ReadonlySet<string>>,
  topK: number,
  minCooccurrences: number,
  measure: RefMeasure = 'jaccard',
): Map<string, RefList> {
  const n = countsOf(h);
  const c = cooccurrenceOf(h);
  const lists = new Map<string, RefList>();
  for (const [i, ni] of n) {
    const candidates: { itemId: string; similarity: number; cooccurrences: number }[] = [];
    for (const [j, cij] of c.get(i) ?? new Map<string, number>()) {
      if (cij < minCooccurrences) continue;
      const nj = n.get(j)!;
      candidates.push({ itemId: j, similarity: refSimilarity(measure, cij, ni, nj), cooccurrences: cij });
    }
    candidates.sort(
      (a, b) => b.similarity - a.similarity || (a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : 0),
    );
    lists.set(i, { itemId: i, interactions: ni, neighbors: candidates.slice(0, topK) });
  }
  return lists;
}

export type RefOp =
  | { kind: 'add' | 'remove'; user: string; item: string; at: number }
  | { kind: 'forget'; user: string; at: number }
  | { kind: 'flush' }
  /** INTERACTION_TTL_MS: everything with a time before `at` is forgotten (the cutoff never goes back). */
  | { kind: 'expire'; at: number };

export class Reference {
  /** Per user, the items held; a Set iterates in insertion order, which is the arrival order. */
  readonly H = new Map<string, Set<string>>();
  private readonly forgottenAt = new Map<string, number>();
  /** Timed (the TTL on): per user and item, its time and an arrival counter. */
  private readonly times = new Map<string, Map<string, { t: number; seq: number }>>();
  private seq = 0;
  private cutoff = -Infinity;

  /**
   * maxItemsPerUser: an ADD for a user holding that many first drops their oldest item. `timed`
   * (INTERACTION_TTL_MS on), the contract's TTL rules: an ADD older than the cutoff is not applied,
   * a re-ADD with a later time takes that time (and counts as the newest arrival), the oldest at
   * the cap is the smallest (time, arrival) — and an ADD older than all held at the cap is the one
   * that does not stay; a REMOVE always applies.
   */
  constructor(
    private readonly maxItemsPerUser = Infinity,
    private readonly timed = false,
  ) {}

  apply(op: RefOp): string | undefined {
    if (op.kind === 'flush') return undefined;
    if (op.kind === 'expire') return String(this.expire(op.at));
    if (op.kind === 'forget') {
      this.forgottenAt.set(op.user, Math.max(op.at, this.forgottenAt.get(op.user) ?? -Infinity));
      const had = this.H.get(op.user)?.size ?? 0;
      this.H.delete(op.user);
      this.times.delete(op.user);
      return String(had);
    }
    const f = this.forgottenAt.get(op.user);
    if (f !== undefined && op.at <= f) return 'suppressed-late';
    if (this.timed && op.kind === 'add' && op.at < this.cutoff) return 'expired';
    const set = this.H.get(op.user) ?? new Set<string>();
    const times = this.times.get(op.user) ?? new Map<string, { t: number; seq: number }>();
    if (op.kind === 'add') {
      if (set.has(op.item)) {
        const held = times.get(op.item);
        if (this.timed && held && op.at > held.t) times.set(op.item, { t: op.at, seq: this.seq++ });
        return 'duplicate';
      }
      while (set.size >= this.maxItemsPerUser) {
        const victim = this.timed ? this.oldestByTime(times) : (set.values().next().value as string);
        if (this.timed && set.size === this.maxItemsPerUser && op.at < times.get(victim)!.t) return 'applied';
        set.delete(victim);
        times.delete(victim);
      }
      set.add(op.item);
      times.set(op.item, { t: op.at, seq: this.seq++ });
      this.H.set(op.user, set);
      this.times.set(op.user, times);
      return 'applied';
    }
    if (!set.has(op.item)) return 'duplicate';
    set.delete(op.item);
    times.delete(op.item);
    if (set.size === 0) this.H.delete(op.user);
    return 'applied';
  }

  /** The time of each held interaction (timed), per user. */
  timesOf(user: string): Map<string, number> {
    return new Map([...(this.times.get(user) ?? [])].map(([i, v]) => [i, v.t]));
  }

  private expire(cutoff: number): number {
    if (!(cutoff > this.cutoff)) return 0;
    this.cutoff = cutoff;
    let n = 0;
    for (const [user, times] of this.times)
      for (const [item, v] of times)
        if (v.t < cutoff) {
          times.delete(item);
          const set = this.H.get(user)!;
          set.delete(item);
          if (set.size === 0) this.H.delete(user);
          n++;
        }
    return n;
  }

  private oldestByTime(times: Map<string, { t: number; seq: number }>): string {
    let best: [string, number, number] | undefined;
    for (const [item, v] of times)
      if (!best || v.t < best[1] || (v.t === best[1] && v.seq < best[2])) best = [item, v.t, v.seq];
    return best![0];
  }

  counts(): Map<string, number> {
    return countsOf(this.H);
  }

  cooccurrences(): Map<string, Map<string, number>> {
    return cooccurrenceOf(this.H);
  }

  lists(topK: number, minCooccurrences: number, measure: RefMeasure = 'jaccard'): Map<string, RefList> {
    return bruteForceLists(this.H, topK, minCooccurrences, measure);
  }
}

/** What a consolidated change report must contain, given the lists before and after a batch. */
export function expectedReport(
  before: Map<string, RefList>,
  after: Map<string, RefList>,
): { changed: Map<string, RefList>; removed: string[] } {
  const changed = new Map<string, RefList>();
  for (const [item, list] of after) {
    const prev = before.get(item);
    if (prev === undefined || JSON.stringify(prev) !== JSON.stringify(list)) changed.set(item, list);
  }
  const removed = [...before.keys()].filter((i) => !after.has(i)).sort();
  return { changed, removed };
}
