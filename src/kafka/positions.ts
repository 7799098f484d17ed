// Where the engine stands in every partition it holds: the next offset to apply (everything before
// it is in the model), the offset last committed for the group, and the last high-water mark a fetch
// reported. Positions make re-delivered records harmless (anything below the position is skipped)
// and are what a snapshot records and what a flush commits.
import { PartitionMap, type PartitionOffset, type TopicPartition } from './partitions.js';

export interface PartitionLag extends TopicPartition {
  readonly lag: number;
}

export class Positions {
  private readonly next = new PartitionMap<number>();
  private readonly committed = new PartitionMap<number>();
  private readonly highWatermarks = new PartitionMap<number>();
  private held: readonly TopicPartition[] = [];

  /** The partitions held now (the current assignment). */
  get partitions(): readonly TopicPartition[] {
    return this.held;
  }

  /** Takes a new assignment: positions and commits are forgotten, high-water marks kept. */
  hold(partitions: readonly TopicPartition[]): void {
    this.held = [...partitions];
    this.next.clear();
    this.committed.clear();
  }

  /** Holds nothing (standby). */
  release(): void {
    this.hold([]);
  }

  holds(tp: TopicPartition): boolean {
    return this.held.some((h) => h.topic === tp.topic && h.partition === tp.partition);
  }

  get(tp: TopicPartition): number | undefined {
    return this.next.get(tp);
  }

  set(tp: TopicPartition, offset: number): void {
    this.next.set(tp, offset);
  }

  /** Stops tracking a partition (e.g. an output topic once a rebuild has read it). */
  drop(tp: TopicPartition): void {
    this.next.delete(tp);
    this.committed.delete(tp);
  }

  noteHighWatermark(tp: TopicPartition, offset: number): void {
    this.highWatermarks.set(tp, offset);
  }

  /** The positions of the partitions that `include` accepts. */
  offsets(include: (topic: string) => boolean): PartitionOffset[] {
    const out: PartitionOffset[] = [];
    for (const [tp, offset] of this.next) if (include(tp.topic)) out.push({ ...tp, offset });
    return out;
  }

  /** Positions not committed yet (of the partitions `include` accepts). */
  uncommitted(include: (topic: string) => boolean): PartitionOffset[] {
    return this.notCommitted(this.offsets(include));
  }

  /** The offsets that differ from the last commit of their partition. */
  notCommitted(offsets: readonly PartitionOffset[]): PartitionOffset[] {
    return offsets.filter((o) => this.committed.get(o) !== o.offset);
  }

  markCommitted(offsets: readonly PartitionOffset[]): void {
    for (const o of offsets) this.committed.set(o, o.offset);
  }

  /** The last high-water mark seen minus the next offset to apply, per held partition `include` accepts. */
  lag(include: (topic: string) => boolean): PartitionLag[] {
    return this.lagOf(this.held.filter((tp) => include(tp.topic)));
  }

  /** The lag of the given partitions (those with a position and a high-water mark). */
  lagOf(partitions: readonly TopicPartition[]): PartitionLag[] {
    const out: PartitionLag[] = [];
    for (const tp of partitions) {
      const hw = this.highWatermarks.get(tp);
      const pos = this.next.get(tp);
      if (hw === undefined || pos === undefined) continue;
      out.push({ ...tp, lag: Math.max(0, hw - pos) });
    }
    return out;
  }

  committedOf(tp: TopicPartition): number | undefined {
    return this.committed.get(tp);
  }

  highWatermarkOf(tp: TopicPartition): number | undefined {
    return this.highWatermarks.get(tp);
  }
}

/**
 * One partition's positions in the topics that read it (a partitioned task: partition p of its
 * inputs and of its changelog), over the same Positions, addressed by topic.
 */
export class PartitionPositions {
  private readonly all = new Positions();

  constructor(readonly partition: number) {}

  private tp(topic: string): TopicPartition {
    return { topic, partition: this.partition };
  }

  /** Next offset to read in `topic`. */
  get(topic: string): number | undefined {
    return this.all.get(this.tp(topic));
  }

  set(topic: string, offset: number): void {
    this.all.set(this.tp(topic), offset);
  }

  /** The offset the last successful delivery committed (what the group's offsets say). */
  committed(topic: string): number | undefined {
    return this.all.committedOf(this.tp(topic));
  }

  markCommitted(offsets: readonly PartitionOffset[]): void {
    this.all.markCommitted(offsets);
  }

  noteHighWatermark(topic: string, offset: number): void {
    this.all.noteHighWatermark(this.tp(topic), offset);
  }

  highWatermark(topic: string): number | undefined {
    return this.all.highWatermarkOf(this.tp(topic));
  }

  /** The positions in `topics` (those set), in that order. */
  offsets(topics: readonly string[]): PartitionOffset[] {
    const out: PartitionOffset[] = [];
    for (const topic of topics) {
      const offset = this.get(topic);
      if (offset !== undefined) out.push({ topic, partition: this.partition, offset });
    }
    return out;
  }

  /** Records behind the high-water marks, summed over `topics`. */
  lag(topics: readonly string[]): number {
    return this.all.lagOf(topics.map((t) => this.tp(t))).reduce((sum, l) => sum + l.lag, 0);
  }
}
