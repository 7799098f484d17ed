// What a forget changed for the people who remain (the query API's /forgets routes, the
// inspector): per forget carried out live, the items whose top-K lists its flush changed, each list
// before and after. Nothing here identifies the forgotten user: a record is keyed by the deletion
// request id (never a user id) and holds item ids and similarities only (no n, no co-occurrence
// counts, no user); it lives in memory only (never in snapshots, on Kafka or in logs), for
// FORGET_EFFECT_RETENTION_MS at most, and only the newest FORGET_EFFECTS_KEPT records.
import type { ChangeReport, ScoredNeighbors } from '../model/index.js';

/** Records kept at most (the newest); the receipts panel shows as many receipts. */
export const FORGET_EFFECTS_KEPT = 20;

export interface ItemEffect {
  readonly itemId: string;
  /** The neighbours before the forget, in list order (empty: none). */
  readonly before: ScoredNeighbors;
  /** After it; null when the item has no interactions left (its list is gone). */
  readonly after: ScoredNeighbors | null;
}

export interface ForgetEffect {
  /**
   * The deletion requests whose flush this was: one, unless several requests read in one batch
   * were carried out by one flush (their effect is then recorded together, under each id).
   */
  readonly requestIds: readonly string[];
  /** The flush's time: the FORGOTTEN receipt's `completedAt`. */
  readonly completedAt: number;
  /** The items whose neighbours (ids or similarities) changed, in item id order. */
  readonly items: readonly ItemEffect[];
}

export interface RankedNeighbor {
  readonly itemId: string;
  /** 1-based place in the list. */
  readonly rank: number;
  readonly similarity: number;
}

/** How one list changed: neighbours that dropped out, came in, or moved (a new rank or score). */
export interface ListChange {
  readonly dropped: readonly RankedNeighbor[];
  readonly added: readonly RankedNeighbor[];
  readonly moved: readonly {
    readonly itemId: string;
    readonly rankBefore: number;
    readonly rankAfter: number;
    readonly similarityBefore: number;
    readonly similarityAfter: number;
  }[];
}

export function listChange(before: ScoredNeighbors, after: ScoredNeighbors | null): ListChange {
  const ranked = (l: ScoredNeighbors) =>
    new Map(l.map((nb, p) => [nb.itemId, { itemId: nb.itemId, rank: p + 1, similarity: nb.similarity }]));
  const b = ranked(before);
  const a = ranked(after ?? []);
  const moved: ListChange['moved'][number][] = [];
  for (const [id, x] of b) {
    const y = a.get(id);
    if (y && (y.rank !== x.rank || y.similarity !== x.similarity))
      moved.push({
        itemId: id,
        rankBefore: x.rank,
        rankAfter: y.rank,
        similarityBefore: x.similarity,
        similarityAfter: y.similarity,
      });
  }
  return {
    dropped: [...b.values()].filter((x) => !a.has(x.itemId)),
    added: [...a.values()].filter((y) => !b.has(y.itemId)),
    moved,
  };
}

const scored = (l: ScoredNeighbors): ScoredNeighbors =>
  l.map(({ itemId, similarity }) => ({ itemId, similarity }));

const sameNeighbors = (x: ScoredNeighbors, y: ScoredNeighbors) =>
  x.length === y.length &&
  x.every((nb, p) => nb.itemId === y[p]!.itemId && nb.similarity === y[p]!.similarity);

/** The items a flush's report changed, from a flush begun with `{ previous: true }`. */
export function effectItems(report: ChangeReport): ItemEffect[] {
  const before = (id: string) => scored(report.previous?.get(id)?.neighbors ?? []);
  const items: ItemEffect[] = [];
  for (const list of report.changed) {
    const b = before(list.itemId);
    // A change of n alone (same neighbours, same scores) changes nobody's recommendations.
    if (!sameNeighbors(b, list.neighbors))
      items.push({ itemId: list.itemId, before: b, after: scored(list.neighbors) });
  }
  for (const id of report.removed) items.push({ itemId: id, before: before(id), after: null });
  return items.sort((x, y) => (x.itemId < y.itemId ? -1 : x.itemId > y.itemId ? 1 : 0));
}

/** The lists as they were on one side of the forget, for `Model.recommend(…, lists)`. */
export function listsOf(effect: ForgetEffect, side: 'before' | 'after'): Map<string, ScoredNeighbors> {
  return new Map(effect.items.map((e) => [e.itemId, (side === 'before' ? e.before : e.after) ?? []]));
}

export class ForgetEffects {
  /** Newest first. */
  private kept: ForgetEffect[] = [];

  constructor(
    /** FORGET_EFFECT_RETENTION_MS: 0 keeps none. */
    private readonly retentionMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether records are kept at all (FORGET_EFFECT_RETENTION_MS > 0). */
  get enabled(): boolean {
    return this.retentionMs > 0;
  }

  /** Notes what the flush of `requestIds` (the FORGOTTEN ones) changed. */
  record(requestIds: readonly string[], report: ChangeReport, completedAt: number): void {
    if (!this.enabled || requestIds.length === 0) return;
    this.kept.unshift({ requestIds: [...requestIds], completedAt, items: effectItems(report) });
    this.kept.length = Math.min(this.kept.length, FORGET_EFFECTS_KEPT);
    // Dropped on time even when nobody asks (a read drops expired records too).
    setTimeout(() => this.expire(), this.retentionMs + 1).unref();
  }

  /** The record of a request, unless unknown or expired. */
  get(requestId: string): ForgetEffect | undefined {
    return this.list().find((e) => e.requestIds.includes(requestId));
  }

  /** The records kept, newest first. */
  list(): readonly ForgetEffect[] {
    this.expire();
    return this.kept;
  }

  private expire(): void {
    const oldest = this.now() - this.retentionMs;
    this.kept = this.kept.filter((e) => e.completedAt > oldest);
  }
}
