// The exact top-K of one C row by a full scan: the similarity (the model's function of the measure,
// so the same bits as the single mode's) of every neighbour with c ≥ MIN_COOCCURRENCES, ordered by
// similarity descending, then neighbour id ascending (plain string order) — the contract's order,
// the same as the single mode's lists and the oracle's.
import type { Neighbor, NeighborList, SimilarityFn } from '../model/index.js';
import type { CountMap } from './count-map.js';

export function rowTopK(
  row: CountMap,
  ni: number,
  n: readonly number[],
  names: readonly (string | undefined)[],
  k: number,
  minCooccurrences: number,
  sim: SimilarityFn,
): Neighbor[] {
  const slots: number[] = [];
  const sims: number[] = [];
  const counts: number[] = [];
  // Strictly before: higher similarity, or equal and a smaller id.
  const before = (sa: number, a: number, sb: number, b: number): boolean =>
    sa > sb || (sa === sb && names[a]! < names[b]!);
  row.forEach((j, c) => {
    if (c < minCooccurrences) return;
    const s = sim(c, ni, n[j]!);
    let at = slots.length;
    if (at === k) {
      if (!before(s, j, sims[k - 1]!, slots[k - 1]!)) return;
      at--;
      slots.pop();
      sims.pop();
      counts.pop();
    }
    while (at > 0 && before(s, j, sims[at - 1]!, slots[at - 1]!)) at--;
    slots.splice(at, 0, j);
    sims.splice(at, 0, s);
    counts.splice(at, 0, c);
  });
  return slots.map((j, p) => ({ itemId: names[j]!, similarity: sims[p]!, cooccurrences: counts[p]! }));
}

/** True when both lists say the same (n, neighbours, similarities, counts); updatedAt aside. */
export function sameList(a: NeighborList | undefined, b: NeighborList): boolean {
  if (!a || a.interactions !== b.interactions || a.neighbors.length !== b.neighbors.length) return false;
  for (let p = 0; p < a.neighbors.length; p++) {
    const x = a.neighbors[p]!;
    const y = b.neighbors[p]!;
    if (x.itemId !== y.itemId || x.cooccurrences !== y.cooccurrences || x.similarity !== y.similarity)
      return false;
  }
  return true;
}
