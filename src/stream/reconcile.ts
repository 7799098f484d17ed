// What a rebuild learns and how it ends. While the inputs are replayed (without publishing), the
// similarities and receipts topics are read to their end; at the end, the freshly flushed state is
// compared with them and only the differences are published: changed lists, tombstones for items
// that are gone, and receipts of requests that never got one. A restart over unchanged input thus
// publishes nothing.
import type { ChangeReport, Neighbor } from '../model/index.js';
import { decodeAny, type Deletion } from './codec.js';
import type { Outbox, Receipt } from './outbox.js';
import type { SchemaRegistryClient } from './registry.js';

interface ListLike {
  readonly itemId: unknown;
  readonly interactions: unknown;
  readonly neighbors: unknown;
}

/** A list's identity without updatedAt: equal strings ⇔ equal published content. */
export function canonicalList(l: ListLike): string {
  const neighbors = Array.isArray(l.neighbors) ? (l.neighbors as Neighbor[]) : [];
  return JSON.stringify([
    l.itemId,
    Number(l.interactions),
    neighbors.map((n) => [n.itemId, n.similarity, Number(n.cooccurrences)]),
  ]);
}

/** A deletion request read during a rebuild, applied at its place in its user's history. */
export interface BufferedDeletion {
  readonly deletion: Deletion;
  /** Kafka record timestamp (ms): where the request falls among the user's interactions. */
  readonly recordMs: number;
  /** Handled by an earlier run already (below the committed offset): no receipt check needed. */
  readonly silent: boolean;
}

export interface ReconcileOutcome {
  readonly listsPublished: number;
  readonly listsUnchanged: number;
  readonly tombstones: number;
  readonly receipts: number;
}

export class RebuildState {
  /** Item id → canonical list currently on the similarities topic (non-null values only). */
  private readonly published = new Map<string, string>();
  private readonly receiptKeys = new Set<string>();
  private readonly pendingReceipts: { receipt: Receipt; recordMs: number }[] = [];
  private readonly deletionsByUser = new Map<string, BufferedDeletion[]>();
  /**
   * 'deletions': the deletion requests and the outputs are read first (interactions paused);
   * 'interactions': then the interactions are replayed, each user's deletions applied in between.
   */
  stage: 'deletions' | 'interactions' = 'deletions';

  constructor(
    readonly generation: number,
    private readonly marks: ReadonlyMap<string, { low: number; high: number }>,
    /** Committed group offsets at the start: records below them were handled by an earlier run. */
    readonly committedAtStart: ReadonlyMap<string, number>,
    readonly startedAt: number,
  ) {}

  /** True once a partition has been read up to the high-water mark taken at the start. */
  reached(key: string, position: number | undefined): boolean {
    const m = this.marks.get(key);
    if (!m || m.high <= m.low) return true;
    return position !== undefined && position >= m.high;
  }

  recordsToReplay(inputs: ReadonlyMap<string, unknown>): number {
    let n = 0;
    for (const [key, m] of this.marks)
      if (inputs.has(key.slice(0, key.lastIndexOf(':')))) n += m.high - m.low;
    return n;
  }

  noteReceipt(requestId: string, present: boolean): void {
    if (present) this.receiptKeys.add(requestId);
    else this.receiptKeys.delete(requestId);
  }

  async notePublished(
    itemId: string,
    value: Buffer | null,
    registry: SchemaRegistryClient | undefined,
  ): Promise<void> {
    if (value === null) {
      this.published.delete(itemId);
      return;
    }
    try {
      const v = await decodeAny(value, registry);
      if (v) this.published.set(itemId, canonicalList(v as unknown as ListLike));
    } catch {
      // Unreadable (foreign) value: treat as different, so our list replaces it.
      this.published.set(itemId, '');
    }
  }

  bufferDeletion(d: BufferedDeletion): void {
    const list = this.deletionsByUser.get(d.deletion.userId);
    if (list) list.push(d);
    else this.deletionsByUser.set(d.deletion.userId, [d]);
  }

  /**
   * The user's buffered deletions whose record precedes an interaction recorded at recordMs (a tie
   * goes to the interaction: the deletion then removes it, the privacy-safe order). Taken out.
   */
  takeDeletionsBefore(userId: string, recordMs: number): BufferedDeletion[] | undefined {
    const list = this.deletionsByUser.get(userId);
    if (!list) return undefined;
    list.sort((a, b) => a.recordMs - b.recordMs);
    let k = 0;
    while (k < list.length && list[k]!.recordMs < recordMs) k++;
    if (k === 0) return undefined;
    if (k === list.length) this.deletionsByUser.delete(userId);
    return list.splice(0, k);
  }

  /** Every deletion not applied yet, oldest record first. */
  takeAllDeletions(): BufferedDeletion[] {
    const all = [...this.deletionsByUser.values()].flat().sort((a, b) => a.recordMs - b.recordMs);
    this.deletionsByUser.clear();
    return all;
  }

  addPendingReceipt(receipt: Receipt, recordMs: number): void {
    this.pendingReceipts.push({ receipt, recordMs });
  }

  /** Queues the differences between the state (a full flush) and the output topics. */
  reconcile(report: ChangeReport, outbox: Outbox, now: number): ReconcileOutcome {
    let listsPublished = 0;
    let listsUnchanged = 0;
    for (const list of report.changed) {
      const onTopic = this.published.get(list.itemId);
      this.published.delete(list.itemId);
      if (onTopic === canonicalList(list)) {
        listsUnchanged++;
        continue;
      }
      outbox.addList(list, now);
      listsPublished++;
    }
    // Whatever is left on the topic has no interactions any more.
    let tombstones = 0;
    for (const itemId of this.published.keys()) {
      outbox.addTombstone(itemId);
      tombstones++;
    }
    for (const itemId of report.removed) {
      outbox.addTombstone(itemId);
      tombstones++;
    }
    let receipts = 0;
    for (const p of this.pendingReceipts) {
      if (this.receiptKeys.has(p.receipt.requestId)) continue;
      outbox.addReceipt({ ...p.receipt, completedAt: now }, p.recordMs);
      receipts++;
    }
    return { listsPublished, listsUnchanged, tombstones, receipts };
  }
}
