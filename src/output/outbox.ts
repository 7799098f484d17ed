// Outputs waiting to be delivered: the latest list (or tombstone) per item, receipts and DLQ
// records. A failed delivery leaves everything here (newer lists replace older ones per item) for
// the retry; a successful one empties it and counts what went out.
import type { ChangeReport, NeighborList } from '../model/index.js';
import { encodeValue } from './encode.js';
import { DeadLetters } from './dlq.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { Outgoing } from '../kafka/ports.js';
import type { SchemaIds } from '../kafka/topics.js';

export interface Receipt {
  readonly requestId: string;
  readonly status: 'FORGOTTEN' | 'PURGED' | 'REJECTED';
  /** REJECTED only: why the request was not carried out (input/deletion-answer.ts REJECT_REASONS). */
  readonly reason?: string;
  readonly interactionsRemoved: number;
  readonly itemsAffected: number;
  readonly completedAt: number;
}

/** A receipt waiting for its flush, with the request's record time (receipt latency). */
export interface PendingReceipt {
  readonly receipt: Receipt;
  readonly recordMs: number;
}

export interface OutputTopics {
  readonly similarities: string;
  readonly receipts: string;
}

export class OutputEncoder {
  constructor(
    private readonly ids: SchemaIds | undefined,
    /** DLQ_RETENTION_MS, stated on every receipt: how long a user's dead letters may remain. */
    private readonly dlqRetentionMs = 0,
  ) {}

  list(list: NeighborList, updatedAt: number): Buffer {
    const value = {
      itemId: list.itemId,
      interactions: list.interactions,
      neighbors: list.neighbors,
      updatedAt,
    };
    return encodeValue('neighbors', value, this.ids?.neighbors);
  }

  receipt(r: Receipt): Buffer {
    return encodeValue('receipt', { ...r, dlqRetentionMs: this.dlqRetentionMs }, this.ids?.receipt);
  }
}

export class Outbox {
  private lists = new Map<string, Buffer | null>();
  /** By status and request id: a receipt queued twice (a retried PURGED) goes out once. */
  private receipts = new Map<string, PendingReceipt>();
  /** Dead letters go out with the flush that read their records. */
  readonly deadLetters: DeadLetters;

  constructor(
    private readonly topics: OutputTopics,
    private readonly encoder: OutputEncoder,
    private readonly metrics: Metrics,
    /** Largest DLQ copy (DLQ_MAX_RECORD_BYTES); bigger ones are replaced by bounded copies. */
    dlqMaxBytes = 1_000_000,
  ) {
    this.deadLetters = new DeadLetters(metrics, dlqMaxBytes);
  }

  get size(): number {
    return this.lists.size + this.receipts.size + this.deadLetters.size;
  }

  addList(list: NeighborList, updatedAt: number): void {
    this.lists.set(list.itemId, this.encoder.list(list, updatedAt));
  }

  addTombstone(itemId: string): void {
    this.lists.set(itemId, null);
  }

  addReceipt(receipt: Receipt, recordMs: number): void {
    this.receipts.set(`${receipt.status}\u0000${receipt.requestId}`, { receipt, recordMs });
  }

  /** The broker refused a record as too large: tighter DLQ copies (false: nothing to shrink). */
  tightenDlqBound(): boolean {
    return this.deadLetters.tighten();
  }

  /** A flush's outputs: its lists, tombstones for the items that vanished, then its receipts. */
  stage(report: ChangeReport, receipts: readonly PendingReceipt[], now: number): void {
    for (const list of report.changed) this.addList(list, now);
    for (const itemId of report.removed) this.addTombstone(itemId);
    for (const r of receipts) this.addReceipt({ ...r.receipt, completedAt: now }, r.recordMs);
  }

  /** Forgets everything pending (the state that produced it is being rebuilt). */
  clear(): void {
    this.lists = new Map();
    this.receipts = new Map();
    this.deadLetters.clear();
  }

  /**
   * Hands everything to `deliver` (lists and DLQ records, then receipts: a receipt promises that the
   * lists are out). Keeps the contents when it throws; empties the outbox and counts when it resolves.
   */
  async drain(deliver: (records: readonly Outgoing[]) => Promise<void>): Promise<void> {
    const { lists, receipts, deadLetters } = this;
    const records: Outgoing[] = [];
    let tombstones = 0;
    for (const [itemId, value] of lists) {
      if (value === null) tombstones++;
      records.push({
        topic: this.topics.similarities,
        message: { key: itemId, value },
        bytes: 64 + itemId.length + (value?.length ?? 0),
      });
    }
    records.push(...deadLetters.records());
    for (const r of receipts.values()) {
      const value = this.encoder.receipt(r.receipt);
      records.push({
        topic: this.topics.receipts,
        message: { key: r.receipt.requestId, value },
        bytes: 64 + value.length,
      });
    }
    await deliver(records);
    deadLetters.delivered();
    this.clear();
    this.metrics.listsPublished.inc(lists.size - tombstones);
    this.metrics.tombstonesPublished.inc(tombstones);
    const now = Date.now();
    for (const r of receipts.values()) {
      this.metrics.receiptLatency.observe({ status: r.receipt.status }, Math.max(0, now - r.recordMs) / 1000);
    }
  }
}
