// The engine's Kafka-facing edges, as small interfaces: the engine pieces depend on these, not on
// kafkajs, so each piece is unit-tested with in-memory fakes. `kafka-ports.ts` adapts kafkajs.
import type { KafkaMessage, Message } from 'kafkajs';
import type { PartitionOffset, TopicPartition } from './partitions.js';

/** One fetched batch of one partition. */
export interface InputBatch extends TopicPartition {
  /** The partition's high-water mark when the batch was fetched. */
  readonly highWatermark: number;
  /** The offset the fetch asked for (records before it are not in the batch); undefined if unknown. */
  readonly fetchedOffset: number | undefined;
  readonly messages: readonly KafkaMessage[];
}

/** What the consumer lets a batch handler do while it runs. */
export interface BatchControl {
  /** Marks records up to and including `offset` as handled (kafkajs fetches on from there). */
  resolveOffset(offset: number): void;
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping. */
  isRunning(): boolean;
  /** True when a rebalance made this batch stale (its partition may have moved). */
  isStale(): boolean;
}

/** The group consumer, as the engine drives it. */
export interface ConsumerPort {
  /** Where the next fetch of the partition starts. Effective before the next fetch. */
  seek(at: PartitionOffset): void;
  pause(topics: readonly string[]): void;
  resume(topics: readonly string[]): void;
}

export interface Watermarks extends TopicPartition {
  /** Log start offset (retention may have deleted everything before it). */
  readonly low: number;
  /** High-water mark: the offset of the next record to be written. */
  readonly high: number;
}

/** Read-only offset queries (admin client). */
export interface OffsetsPort {
  watermarks(topic: string): Promise<Watermarks[]>;
  /** The group's committed offsets (partitions without a commit are left out). */
  committed(groupId: string, topics: readonly string[]): Promise<PartitionOffset[]>;
}

/** A record to produce: topic plus the kafkajs message (key, value, headers). */
export interface Outgoing {
  readonly topic: string;
  readonly message: Message;
  /** Approximate bytes on the wire, for request sizing. */
  readonly bytes: number;
}

/**
 * Where outputs go: `deliver` acknowledges every record (acks=all) and then the input offsets
 * that produced them, as one unit as far as the implementation allows (see output-sink.ts).
 */
export interface OutputSink {
  deliver(records: readonly Outgoing[], offsets: readonly PartitionOffset[]): Promise<void>;
}
