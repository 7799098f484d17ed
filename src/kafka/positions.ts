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
    const out: PartitionLag[] = [];
    for (const tp of this.held) {
      if (!include(tp.topic)) continue;
      const hw = this.highWatermarks.get(tp);
      const pos = this.next.get(tp);
      if (hw === undefined || pos === undefined) continue;
      out.push({ ...tp, lag: Math.max(0, hw - pos) });
    }
    return out;
  }
}
