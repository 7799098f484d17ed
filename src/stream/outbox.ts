// Outputs waiting to be acknowledged: the latest list (or tombstone) per item, receipts and DLQ
// records. Everything here is sent with acks=all before the offsets that produced it are
// committed; a failed send leaves it here (newer lists replace older ones per item) for the retry.
import type { Message, Producer, TopicMessages } from 'kafkajs';
import { AmnesiaError } from '../errors.js';
import type { NeighborList } from '../model/index.js';
import { encodeValue } from './codec.js';
import type { DecodeReason } from './reasons.js';
import type { Metrics } from './metrics.js';
import type { SchemaIds } from './topics.js';

export interface Receipt {
  readonly requestId: string;
  readonly status: 'FORGOTTEN' | 'PURGED';
  readonly interactionsRemoved: number;
  readonly itemsAffected: number;
  readonly completedAt: number;
}

export interface OutputTopics {
  readonly similarities: string;
  readonly receipts: string;
}

/** Keeps one produce request per partition well under the broker's default 1 MB message.max.bytes. */
const MAX_REQUEST_BYTES = 512 * 1024;

export class OutputEncoder {
  constructor(private readonly ids: SchemaIds | undefined) {}

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
    return encodeValue('receipt', r, this.ids?.receipt);
  }
}

interface PendingReceipt {
  readonly receipt: Receipt;
  /** Record timestamp of the request, for the receipt latency histogram. */
  readonly requestedAtRecordMs: number;
}

interface PendingDlq {
  readonly topic: string;
  readonly sourceTopic: string;
  readonly reason: DecodeReason;
  readonly message: Message;
}

export class Outbox {
  private lists = new Map<string, Buffer | null>();
  private receipts: PendingReceipt[] = [];
  private dlq: PendingDlq[] = [];

  constructor(
    private readonly producer: Producer,
    private readonly topics: OutputTopics,
    private readonly encoder: OutputEncoder,
    private readonly metrics: Metrics,
  ) {}

  get size(): number {
    return this.lists.size + this.receipts.length + this.dlq.length;
  }

  addList(list: NeighborList, updatedAt: number): void {
    this.lists.set(list.itemId, this.encoder.list(list, updatedAt));
  }

  addTombstone(itemId: string): void {
    this.lists.set(itemId, null);
  }

  addReceipt(receipt: Receipt, requestedAtRecordMs: number): void {
    this.receipts.push({ receipt, requestedAtRecordMs });
  }

  addDlq(topic: string, sourceTopic: string, reason: DecodeReason, message: Message): void {
    this.dlq.push({ topic, sourceTopic, reason, message });
  }

  /** Forgets everything pending (the state that produced it is being rebuilt elsewhere). */
  clear(): void {
    this.lists = new Map();
    this.receipts = [];
    this.dlq = [];
  }

  /** Sends everything, awaiting acks=all. Throws PUBLISH_FAILED and keeps the contents on failure. */
  async drain(): Promise<void> {
    if (this.size === 0) return;
    const lists = this.lists;
    const receipts = this.receipts;
    const dlq = this.dlq;
    // Receipts go last: a receipt promises that the lists are already out.
    const messages: { topic: string; message: Message; bytes: number }[] = [];
    let tombstones = 0;
    for (const [itemId, value] of lists) {
      if (value === null) tombstones++;
      messages.push({
        topic: this.topics.similarities,
        message: { key: itemId, value },
        bytes: 64 + itemId.length + (value?.length ?? 0),
      });
    }
    for (const d of dlq) {
      const size = (d.message.value as Buffer | null)?.length ?? 0;
      messages.push({ topic: d.topic, message: d.message, bytes: 256 + size });
    }
    const receiptMessages = receipts.map((r) => {
      const value = this.encoder.receipt(r.receipt);
      return {
        topic: this.topics.receipts,
        message: { key: r.receipt.requestId, value },
        bytes: 64 + value.length,
      };
    });
    try {
      await this.send(messages);
      await this.send(receiptMessages);
    } catch (cause) {
      this.metrics.publishFailures.inc();
      throw new AmnesiaError('PUBLISH_FAILED', 'publishing outputs failed', { cause, retriable: true });
    }
    this.lists = new Map();
    this.receipts = [];
    this.dlq = [];
    this.metrics.listsPublished.inc(lists.size - tombstones);
    this.metrics.tombstonesPublished.inc(tombstones);
    for (const d of dlq) this.metrics.dlqRecords.inc({ topic: d.sourceTopic, reason: d.reason });
    const now = Date.now();
    for (const r of receipts) {
      this.metrics.receiptLatency.observe(
        { status: r.receipt.status },
        Math.max(0, now - r.requestedAtRecordMs) / 1000,
      );
    }
  }

  private async send(messages: { topic: string; message: Message; bytes: number }[]): Promise<void> {
    let i = 0;
    while (i < messages.length) {
      const byTopic = new Map<string, Message[]>();
      let bytes = 0;
      while (i < messages.length && (bytes === 0 || bytes + messages[i]!.bytes <= MAX_REQUEST_BYTES)) {
        const m = messages[i++]!;
        bytes += m.bytes;
        let arr = byTopic.get(m.topic);
        if (!arr) byTopic.set(m.topic, (arr = []));
        arr.push(m.message);
      }
      const topicMessages: TopicMessages[] = [...byTopic].map(([topic, msgs]) => ({ topic, messages: msgs }));
      await this.producer.sendBatch({ topicMessages, acks: -1 });
    }
  }
}
