// An independent brute-force reference: replays events on plain Maps and Sets, then computes n, C,
// Jaccard and top-K lists from scratch. Shares no code with src/model.

export type RefOp =
  | { kind: 'add' | 'remove'; user: string; item: string; at: number }
  | { kind: 'forget'; user: string; at: number }
  | { kind: 'flush' };

export interface RefNeighbor {
  itemId: string;
  similarity: number;
  cooccurrences: number;
}
export interface RefList {
  itemId: string;
  interactions: number;
  neighbors: RefNeighbor[];
}

export class Reference {
  readonly H = new Map<string, Set<string>>();
  private readonly forgottenAt = new Map<string, number>();

  apply(op: RefOp): string | undefined {
    if (op.kind === 'flush') return undefined;
    if (op.kind === 'forget') {
      this.forgottenAt.set(op.user, Math.max(op.at, this.forgottenAt.get(op.user) ?? -Infinity));
      const had = this.H.get(op.user)?.size ?? 0;
      this.H.delete(op.user);
      return String(had);
    }
    const f = this.forgottenAt.get(op.user);
    if (f !== undefined && op.at <= f) return 'suppressed-late';
    const set = this.H.get(op.user) ?? new Set<string>();
    if (op.kind === 'add') {
      if (set.has(op.item)) return 'duplicate';
      set.add(op.item);
      this.H.set(op.user, set);
      return 'applied';
    }
    if (!set.has(op.item)) return 'duplicate';
    set.delete(op.item);
    if (set.size === 0) this.H.delete(op.user);
    return 'applied';
  }

  counts(): Map<string, number> {
    const n = new Map<string, number>();
    for (const items of this.H.values()) for (const i of items) n.set(i, (n.get(i) ?? 0) + 1);
    return n;
  }

  cooccurrences(): Map<string, Map<string, number>> {
    const C = new Map<string, Map<string, number>>();
    for (const items of this.H.values()) {
      for (const a of items)
        for (const b of items) {
          if (a === b) continue;
          const row = C.get(a) ?? new Map<string, number>();
          row.set(b, (row.get(b) ?? 0) + 1);
          C.set(a, row);
        }
    }
    return C;
  }

  lists(topK: number, minCooccurrences: number): Map<string, RefList> {
    const n = this.counts();
    const C = this.cooccurrences();
    const out = new Map<string, RefList>();
    for (const [item, ni] of n) {
      const neighbors: RefNeighbor[] = [];
      for (const [other, c] of C.get(item) ?? []) {
        if (c < minCooccurrences) continue;
        neighbors.push({
          itemId: other,
          similarity: c / (ni + (n.get(other) as number) - c),
          cooccurrences: c,
        });
      }
      neighbors.sort(
        (x, y) => y.similarity - x.similarity || (x.itemId < y.itemId ? -1 : x.itemId > y.itemId ? 1 : 0),
      );
      out.set(item, { itemId: item, interactions: ni, neighbors: neighbors.slice(0, topK) });
    }
    return out;
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
