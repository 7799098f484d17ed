// How a rebuild ends without re-publishing what is already out. While the inputs are replayed
// (without publishing), the similarities and receipts topics are read to their end; at the end, the
// freshly flushed state is compared with them and only the differences are queued: changed lists,
// tombstones for items that are gone, and receipts of requests that never got one. A restart over
// unchanged input thus publishes nothing.
import type { ChangeReport, Neighbor } from '../model/index.js';
import { decodeAny } from './codec.js';
import type { Outbox, PendingReceipt } from '../output/outbox.js';
import type { SchemaRegistryClient } from '../kafka/registry.js';

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

export interface ReconcileOutcome {
  readonly listsPublished: number;
  readonly listsUnchanged: number;
  readonly tombstones: number;
  readonly receipts: number;
}

/** What the output topics hold, as read during a rebuild. */
export class PublishedOutputs {
  /** Item id → canonical list currently on the similarities topic (non-null values only). */
  private readonly lists = new Map<string, string>();
  /** Request id → status of its latest receipt on the topic. */
  private readonly receiptStatuses = new Map<string, string>();

  async noteReceipt(
    requestId: string,
    value: Buffer | null,
    registry: SchemaRegistryClient | undefined,
  ): Promise<void> {
    if (value === null) {
      this.receiptStatuses.delete(requestId);
      return;
    }
    let status = 'UNKNOWN';
    try {
      const v = (await decodeAny(value, registry)) as { status?: unknown } | undefined;
      if (typeof v?.status === 'string') status = v.status;
    } catch {
      // unreadable: a receipt is there, of unknown status
    }
    this.receiptStatuses.set(requestId, status);
  }

  /** Status of the latest receipt of the request on the topic (undefined: none). */
  receiptStatus(requestId: string): string | undefined {
    return this.receiptStatuses.get(requestId);
  }

  async noteList(
    itemId: string,
    value: Buffer | null,
    registry: SchemaRegistryClient | undefined,
  ): Promise<void> {
    if (value === null) {
      this.lists.delete(itemId);
      return;
    }
    try {
      const v = await decodeAny(value, registry);
      if (v) this.lists.set(itemId, canonicalList(v as unknown as ListLike));
    } catch {
      // Unreadable (foreign) value: treat as different, so our list replaces it.
      this.lists.set(itemId, '');
    }
  }

  /**
   * Queues the differences between the state (`report`: every current list) and the topics:
   * lists that differ, tombstones for listed items the state no longer has, and the receipts
   * of `pending` requests that are not on the receipts topic yet.
   */
  reconcile(
    report: ChangeReport,
    pending: readonly PendingReceipt[],
    outbox: Outbox,
    now: number,
  ): ReconcileOutcome {
    let listsPublished = 0;
    let listsUnchanged = 0;
    for (const list of report.changed) {
      const onTopic = this.lists.get(list.itemId);
      this.lists.delete(list.itemId);
      if (onTopic === canonicalList(list)) {
        listsUnchanged++;
        continue;
      }
      outbox.addList(list, now);
      listsPublished++;
    }
    // Whatever is left on the topic has no interactions any more.
    let tombstones = 0;
    for (const itemId of [...this.lists.keys(), ...report.removed]) {
      outbox.addTombstone(itemId);
      tombstones++;
    }
    this.lists.clear();
    let receipts = 0;
    for (const p of pending) {
      if (this.receiptStatuses.has(p.receipt.requestId)) continue;
      outbox.addReceipt({ ...p.receipt, completedAt: now }, p.recordMs);
      receipts++;
    }
    return { listsPublished, listsUnchanged, tombstones, receipts };
  }
}
