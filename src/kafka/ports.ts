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
  /**
   * The last offset the fetch covered: the last message's, or later when transaction markers or
   * aborted records (which are not handed over) follow it. The position after the batch is this + 1.
   */
  readonly lastOffset: number;
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
  /** The group's current members. */
  members(groupId: string): Promise<GroupMember[]>;
}

export interface GroupMember {
  readonly memberId: string;
  /** The instance id the member announced in its metadata (undefined: another client). */
  readonly instanceId: string | undefined;
  /** True when its assignment is not empty. */
  readonly assigned: boolean;
}

/** A record to produce: topic plus the kafkajs message (key, value, headers). */
export interface Outgoing {
  readonly topic: string;
  readonly message: Message;
  /** Approximate bytes on the wire, for request sizing. */
  readonly bytes: number;
}

/**
 * Where outputs go: `deliver` acknowledges every record (acks=all) and the input offsets that
 * produced them, as one unit as far as the implementation allows (see output-sink.ts). A delivery
 * fails with code PRODUCER_FENCED when another instance took over the outputs, RECORD_REJECTED
 * when the broker refuses a record, PUBLISH_FAILED (retriable) otherwise.
 */
export interface OutputSink {
  /** Becomes the one writer of the outputs (fences any earlier one); before reading the outputs. */
  activate(): Promise<void>;
  /** Stops writing (standby, shutdown). */
  deactivate(): Promise<void>;
  deliver(records: readonly Outgoing[], offsets: readonly PartitionOffset[]): Promise<void>;
  /**
   * Optional: a delivery with these offsets follows once the caller has computed its records; the
   * sink may start on it meanwhile (a transaction opened, its offsets sent). Commits nothing.
   */
  prepare?(offsets: readonly PartitionOffset[]): void;
}
