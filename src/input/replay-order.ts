// Where a deletion request falls in its user's history when the input topics are replayed. The two
// topics are read separately, so fetch order says nothing about how they interleaved live; record
// time does. The deletion requests are read first and buffered per user; each is applied just before
// the first interaction of its user recorded after it (a tie goes to the interaction: the deletion
// then removes it, the privacy-safe order). Only a user's own order matters to the state.
import type { Deletion } from './codec.js';

/** A deletion request read during a rebuild, applied at its place in its user's history. */
export interface BufferedDeletion {
  readonly deletion: Deletion;
  /** Kafka record timestamp (ms): where the request falls among the user's interactions. */
  readonly recordMs: number;
  /** Handled by an earlier run already (below the committed offset): no receipt check needed. */
  readonly silent: boolean;
}

export class DeletionsByUser {
  private readonly byUser = new Map<string, BufferedDeletion[]>();

  get size(): number {
    return this.byUser.size;
  }

  add(d: BufferedDeletion): void {
    const list = this.byUser.get(d.deletion.userId);
    if (list) list.push(d);
    else this.byUser.set(d.deletion.userId, [d]);
  }

  /** The user's buffered deletions recorded before `recordMs` (strictly), oldest first; taken out. */
  takeBefore(userId: string, recordMs: number): BufferedDeletion[] | undefined {
    const list = this.byUser.get(userId);
    if (!list) return undefined;
    list.sort((a, b) => a.recordMs - b.recordMs);
    let k = 0;
    while (k < list.length && list[k]!.recordMs < recordMs) k++;
    if (k === 0) return undefined;
    if (k === list.length) this.byUser.delete(userId);
    return list.splice(0, k);
  }

  /** Every deletion not applied yet, oldest record first; taken out. */
  takeAll(): BufferedDeletion[] {
    const all = [...this.byUser.values()].flat().sort((a, b) => a.recordMs - b.recordMs);
    this.byUser.clear();
    return all;
  }
}
