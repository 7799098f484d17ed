// Typed partition keys: a `TopicPartition` value and a map keyed by it, so that per-partition state
// (positions, marks, commits) never goes through strings that must be split again.

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

export interface PartitionOffset extends TopicPartition {
  /** Next offset to read: everything before it has been handled. */
  readonly offset: number;
}

/** A map from (topic, partition) to V; iteration is by topic in insertion order, then partition. */
export class PartitionMap<V> {
  private readonly byTopic = new Map<string, Map<number, V>>();
  private count = 0;

  static of<V>(entries: Iterable<readonly [TopicPartition, V]>): PartitionMap<V> {
    const m = new PartitionMap<V>();
    for (const [tp, v] of entries) m.set(tp, v);
    return m;
  }

  get size(): number {
    return this.count;
  }

  get(tp: TopicPartition): V | undefined {
    return this.byTopic.get(tp.topic)?.get(tp.partition);
  }

  has(tp: TopicPartition): boolean {
    return this.byTopic.get(tp.topic)?.has(tp.partition) ?? false;
  }

  set(tp: TopicPartition, value: V): this {
    let parts = this.byTopic.get(tp.topic);
    if (!parts) this.byTopic.set(tp.topic, (parts = new Map<number, V>()));
    if (!parts.has(tp.partition)) this.count++;
    parts.set(tp.partition, value);
    return this;
  }

  delete(tp: TopicPartition): boolean {
    const parts = this.byTopic.get(tp.topic);
    if (!parts?.delete(tp.partition)) return false;
    this.count--;
    if (parts.size === 0) this.byTopic.delete(tp.topic);
    return true;
  }

  clear(): void {
    this.byTopic.clear();
    this.count = 0;
  }

  *entries(): IterableIterator<[TopicPartition, V]> {
    for (const [topic, parts] of this.byTopic)
      for (const [partition, v] of parts) yield [{ topic, partition }, v];
  }

  *keys(): IterableIterator<TopicPartition> {
    for (const [tp] of this.entries()) yield tp;
  }

  /** The topics with at least one partition in the map. */
  topics(): string[] {
    return [...this.byTopic.keys()];
  }

  /** The entries of one topic, by partition. */
  ofTopic(topic: string): ReadonlyMap<number, V> {
    return this.byTopic.get(topic) ?? new Map<number, V>();
  }

  [Symbol.iterator](): IterableIterator<[TopicPartition, V]> {
    return this.entries();
  }
}

/** The partitions of a kafkajs member assignment (`{ topic: [partitions] }`). */
export function partitionsOf(assignment: Readonly<Record<string, readonly number[]>>): TopicPartition[] {
  return Object.entries(assignment).flatMap(([topic, parts]) =>
    [...parts].sort((a, b) => a - b).map((partition) => ({ topic, partition })),
  );
}

/** True when both lists hold the same partitions (any order). */
export function samePartitions(a: readonly TopicPartition[], b: readonly TopicPartition[]): boolean {
  if (a.length !== b.length) return false;
  const set = PartitionMap.of(a.map((tp) => [tp, true] as const));
  return b.every((tp) => set.has(tp));
}
