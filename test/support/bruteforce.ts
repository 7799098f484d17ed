// An independent reference for the service's outputs, written from the contract alone (it shares
// no code with src/model): recompute H from the surviving events, then n, C, Jaccard, and the
// top-K lists by brute force over all item pairs.

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

/** Top-K neighbour lists of every item with n > 0, by brute force. */
export function bruteForceLists(
  h: Map<string, Set<string>>,
  topK: number,
  minCooccurrences: number,
): Map<string, RefList> {
  const n = new Map<string, number>();
  const c = new Map<string, Map<string, number>>();
  for (const items of h.values()) {
    const arr = [...items];
    for (const i of arr) n.set(i, (n.get(i) ?? 0) + 1);
    for (const i of arr) {
      let row = c.get(i);
      if (!row) c.set(i, (row = new Map()));
      for (const j of arr) if (i !== j) row.set(j, (row.get(j) ?? 0) + 1);
    }
  }
  const lists = new Map<string, RefList>();
  for (const [i, ni] of n) {
    const candidates: { itemId: string; similarity: number; cooccurrences: number }[] = [];
    for (const [j, cij] of c.get(i) ?? new Map<string, number>()) {
      if (cij < minCooccurrences) continue;
      const nj = n.get(j)!;
      candidates.push({ itemId: j, similarity: cij / (ni + nj - cij), cooccurrences: cij });
    }
    candidates.sort(
      (a, b) => b.similarity - a.similarity || (a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : 0),
    );
    lists.set(i, { itemId: i, interactions: ni, neighbors: candidates.slice(0, topK) });
  }
  return lists;
}
