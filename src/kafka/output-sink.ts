// Delivering outputs and the input offsets that produced them, in one of two ways
// (PROCESSING_GUARANTEE):
// - exactly_once (default): a transactional producer whose id belongs to the group's active role.
//   Each delivery is one transaction: records, then the group's input offsets (sendOffsets), then
//   commit. Consumers reading with isolation read_committed see a flush entirely or not at all; a
//   new active instance's activation fences the previous one (its next send fails as fenced, its
//   open transaction is aborted), so a paused or cut-off instance can never publish again.
// - at_least_once: an idempotent producer acknowledges records (acks=all), then the consumer
//   commits the offsets; a crash in between re-publishes the same keyed values.
// Records go out in produce requests of bounded size, well under the broker's default 1 MB.
import type { CompressionTypes, Producer, TopicMessages, TopicOffsets } from 'kafkajs';
import { AmnesiaError } from '../errors.js';
import type { Logger } from '../log.js';
import { describeError } from '../errors.js';
import { classifyKafkaError, isConcurrentTransaction } from './classify.js';
import type { PartitionOffset } from './partitions.js';
import { retry, type RetryOptions } from './retry.js';
import type { Outgoing, OutputSink } from './ports.js';

const MAX_REQUEST_BYTES = 512 * 1024;

/** Groups records into requests of at most MAX_REQUEST_BYTES (a bigger record goes alone). */
export function requests(records: readonly Outgoing[]): TopicMessages[][] {
  const out: TopicMessages[][] = [];
  let i = 0;
  while (i < records.length) {
    const byTopic = new Map<string, Outgoing['message'][]>();
    let bytes = 0;
    while (i < records.length && (bytes === 0 || bytes + records[i]!.bytes <= MAX_REQUEST_BYTES)) {
      const r = records[i++]!;
      bytes += r.bytes;
      let arr = byTopic.get(r.topic);
      if (!arr) byTopic.set(r.topic, (arr = []));
      arr.push(r.message);
    }
    out.push([...byTopic].map(([topic, messages]) => ({ topic, messages })));
  }
  return out;
}

/**
 * A transaction request repeated while the coordinator answers CONCURRENT_TRANSACTIONS: the previous
 * transaction's markers are still being written. The request changed nothing, so the same
 * transaction goes on; treating it as a failure would drop a healthy producer (and, in the
 * partitioned mode, restore the task from its changelog). Used for sendOffsets (AddOffsetsToTxn, the
 * first request of a transaction that carries only offsets, or that was prepared): kafkajs retries
 * AddPartitionsToTxn itself, and its commit and abort cannot be called again once they have failed.
 * Waits 2 ms doubling to 250 ms (jittered), about 4.8 s at most in all: the markers take a few ms, as
 * the producer's own first retry (kafka/client.ts) assumes.
 */
const WHILE_CONCURRENT: RetryOptions = {
  initialDelayMs: 2,
  maxDelayMs: 250,
  attempts: 27,
  retriable: isConcurrentTransaction,
};

/** Whether two offset lists name the same positions, in the same order. */
const sameOffsets = (a: readonly PartitionOffset[], b: readonly PartitionOffset[]): boolean =>
  a.length === b.length &&
  a.every((o, i) => o.topic === b[i]!.topic && o.partition === b[i]!.partition && o.offset === b[i]!.offset);

/** Offsets in the shape sendOffsets wants. */
function topicOffsets(offsets: readonly PartitionOffset[]): TopicOffsets[] {
  const byTopic = new Map<string, { partition: number; offset: string }[]>();
  for (const o of offsets) {
    let parts = byTopic.get(o.topic);
    if (!parts) byTopic.set(o.topic, (parts = []));
    parts.push({ partition: o.partition, offset: String(o.offset) });
  }
  return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
}

/** The error a failed delivery ends with, by what kafkajs threw. */
function deliveryError(cause: unknown): AmnesiaError {
  switch (classifyKafkaError(cause)) {
    case 'fenced':
      return new AmnesiaError('PRODUCER_FENCED', 'another producer took over the outputs', { cause });
    case 'record':
      return new AmnesiaError('RECORD_REJECTED', 'the broker refused an output record', { cause });
    case 'config':
      return new AmnesiaError('PUBLISH_FAILED', 'the producer lacks a feature (codec)', { cause });
    default:
      return new AmnesiaError('PUBLISH_FAILED', 'publishing outputs failed', { cause, retriable: true });
  }
}

export interface OffsetCommitter {
  commitOffsets(offsets: { topic: string; partition: number; offset: string }[]): Promise<void>;
}

/** at_least_once: acks=all, then the consumer commits. A failed commit only delays the group's offsets. */
export class AckedSink implements OutputSink {
  constructor(
    private readonly producer: Pick<Producer, 'sendBatch'>,
    private readonly committer: OffsetCommitter,
    private readonly onCommitFailure: (cause: unknown) => void,
    private readonly compression?: CompressionTypes,
  ) {}

  activate(): Promise<void> {
    return Promise.resolve();
  }

  deactivate(): Promise<void> {
    return Promise.resolve();
  }

  async deliver(records: readonly Outgoing[], offsets: readonly PartitionOffset[]): Promise<void> {
    try {
      for (const topicMessages of requests(records))
        await this.producer.sendBatch({
          topicMessages,
          acks: -1,
          ...(this.compression !== undefined ? { compression: this.compression } : {}),
        });
    } catch (cause) {
      throw deliveryError(cause);
    }
    if (offsets.length === 0) return;
    try {
      await this.committer.commitOffsets(
        offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: String(o.offset) })),
      );
    } catch (cause) {
      this.onCommitFailure(cause);
    }
  }
}

export interface TransactionalSinkOptions {
  /** A new, unconnected transactional producer (the same transactional id every time). */
  readonly makeProducer: () => Producer;
  readonly groupId: string;
  readonly compression?: CompressionTypes | undefined;
  readonly log: Logger;
}

type Transaction = Awaited<ReturnType<Producer['transaction']>>;

/** A transaction opened ahead of its delivery, its offsets on their way (TransactionalSink.prepare). */
interface Prepared {
  readonly offsets: readonly PartitionOffset[];
  readonly opened: Promise<Transaction>;
  readonly offsetsSent: Promise<void>;
}

/** exactly_once: one transaction per delivery, input offsets included. */
export class TransactionalSink implements OutputSink {
  private producer: Producer | undefined;
  private prepared: Prepared | undefined;

  constructor(private readonly options: TransactionalSinkOptions) {}

  /** Starts a producer with our transactional id: fences the previous holder, aborts its open transaction. */
  async activate(): Promise<void> {
    await this.deactivate();
    const p = this.options.makeProducer();
    try {
      await p.connect();
      // kafkajs registers the transactional id with the first transaction: an empty one fences.
      await (await p.transaction()).abort();
    } catch (cause) {
      await p.disconnect().catch(() => undefined);
      throw new AmnesiaError('PUBLISH_FAILED', 'could not start the transactional producer', {
        cause,
        retriable: true,
      });
    }
    this.producer = p;
  }

  async deactivate(): Promise<void> {
    const p = this.producer;
    this.producer = undefined;
    // A prepared transaction goes with its producer (the next activation's fencing aborts it).
    this.prepared = undefined;
    await p?.disconnect().catch(() => undefined);
  }

  /**
   * A delivery with `offsets` comes next, once the caller has computed its records: its transaction
   * is opened and the offsets sent now (AddOffsetsToTxn, TxnOffsetCommit), so that these round trips
   * — and the wait while the coordinator completes the previous transaction — overlap the caller's
   * work instead of following it. Nothing is visible before the commit. `deliver` takes the prepared
   * transaction; if its offsets are not the ones prepared (the caller's state moved meanwhile), it is
   * aborted and a fresh one is used, so offsets are never committed that the delivery does not name.
   */
  prepare(offsets: readonly PartitionOffset[]): void {
    const producer = this.producer;
    if (!producer || this.prepared || offsets.length === 0) return;
    const opened = producer.transaction();
    const offsetsSent = opened.then((t) => this.sendOffsets(t, offsets));
    // Failures are met by deliver(), which awaits both.
    offsetsSent.catch(() => undefined);
    this.prepared = { offsets, opened, offsetsSent };
  }

  private sendOffsets(t: Transaction, offsets: readonly PartitionOffset[]): Promise<void> {
    return retry(
      () => t.sendOffsets({ consumerGroupId: this.options.groupId, topics: topicOffsets(offsets) }),
      WHILE_CONCURRENT,
    );
  }

  /** The delivery's transaction: the prepared one if it names these offsets, else a new one. */
  private async transactionFor(
    producer: Producer,
    offsets: readonly PartitionOffset[],
  ): Promise<{ txn: Transaction; offsetsSent: boolean }> {
    const p = this.prepared;
    this.prepared = undefined;
    if (p === undefined) return { txn: await producer.transaction(), offsetsSent: false };
    const txn = await p.opened;
    try {
      await p.offsetsSent;
    } catch (cause) {
      // Ends as any failed delivery does (deliver's catch), its transaction aborted here.
      await txn.abort().catch(() => undefined);
      throw cause;
    }
    if (sameOffsets(p.offsets, offsets)) return { txn, offsetsSent: true };
    await txn.abort();
    return { txn: await producer.transaction(), offsetsSent: false };
  }

  async deliver(records: readonly Outgoing[], offsets: readonly PartitionOffset[]): Promise<void> {
    const producer = this.producer;
    if (!producer)
      throw new AmnesiaError('PRODUCER_FENCED', 'not the active writer of the outputs (not activated)');
    let txn: Transaction | undefined;
    try {
      const opened = await this.transactionFor(producer, offsets);
      txn = opened.txn;
      const { compression } = this.options;
      for (const topicMessages of requests(records))
        await txn.sendBatch({
          topicMessages,
          acks: -1,
          ...(compression !== undefined ? { compression } : {}),
        });
      if (offsets.length > 0 && !opened.offsetsSent) await this.sendOffsets(txn, offsets);
      await txn.commit();
    } catch (cause) {
      const error = deliveryError(cause);
      if (error.code === 'PRODUCER_FENCED') {
        await this.deactivate();
        throw error;
      }
      // Abort what may be open, and never start another transaction on this producer: when a
      // produce request fails, kafkajs rolls back the sequence numbers of every partition in it,
      // also of those the broker appended. The next transaction would send records with sequence
      // numbers the broker has seen (in the aborted transaction) and the broker would drop them as
      // duplicates: lost, while their input offsets commit. The next delivery finds no producer, and
      // the engine decides whether this instance may start a new one (PRODUCER_FENCED → afterFenced).
      await txn?.abort().catch(() => undefined);
      this.options.log.warn({ err: describeError(cause) }, 'transactional producer unusable: dropped');
      await this.deactivate();
      throw error;
    }
  }
}
