// An item-stage task: delta partition q. Deltas are applied as they come (item-table.ts); a flush —
// after BATCH_MAX_MS, after BATCH_MAX_EVENTS ops, or at once when a deletion marker arrives —
// publishes the changed lists of q's items to item-similarities partition q, tombstones for items
// gone, the acknowledgements of the markers applied, its changelog records and the delta offsets in
// one transaction. Delta records it has committed past are then made unreadable (DeleteRecords), as
// Kafka Streams purges its repartition topics: a forgotten user's deltas do not stay in Kafka.
import type { Admin, KafkaMessage } from 'kafkajs';
import type { SimilarityMeasure } from '../model/index.js';
import type { OutputEncoder } from '../output/outbox.js';
import { decodeDelta } from './deltas.js';
import type { ItemPartitions } from './ids.js';
import { ItemTable } from './item-table.js';
import type { TaskFigures } from './metrics.js';
import { CommittedPurge } from './purge.js';
import { record, Task, TICK_KEY, type TaggedRecord, type TaskDeps } from './task.js';

export interface ItemTaskDeps extends TaskDeps {
  readonly topics: {
    readonly deltas: string;
    readonly acks: string;
    readonly changelog: string;
    readonly similarities: string;
  };
  readonly parts: ItemPartitions;
  readonly topK: number;
  readonly minCooccurrences: number;
  readonly similarity?: SimilarityMeasure;
  readonly encoder: OutputEncoder;
  readonly admin: Pick<Admin, 'deleteTopicRecords'>;
}

export class ItemTask extends Task {
  readonly inputs: readonly string[];
  private readonly table: ItemTable;
  private since = 0;
  private ops = 0;
  private readonly purge: CommittedPurge;
  private reported = { cellUpdates: 0, cellsScanned: 0, ops: 0 };

  constructor(private readonly it: ItemTaskDeps) {
    super(it);
    this.inputs = [it.topics.deltas];
    this.purge = new CommittedPurge(it.admin, it.topics.deltas, it.partition, this.log, (n) =>
      it.pmetrics.purgedDeltas.inc(n),
    );
    this.table = new ItemTable({
      partition: it.partition,
      parts: it.parts,
      topK: it.topK,
      minCooccurrences: it.minCooccurrences,
      ...(it.similarity ? { similarity: it.similarity } : {}),
    });
  }

  /** The published list of an item of this partition (tests). */
  list(itemId: string): ReturnType<ItemTable['list']> {
    return this.table.list(itemId);
  }

  protected get changelogTopic(): string {
    return this.it.topics.changelog;
  }

  figures(): Omit<TaskFigures, 'restoreRemaining'> {
    const s = this.table.stats();
    return {
      stage: 'items',
      partition: this.partition,
      phase: this.phase,
      lag: this.lag(),
      stateBytes: s.bytes,
      entries: s.cells,
    };
  }

  restoreRecord(key: string, value: string | null): void {
    if (key !== TICK_KEY) this.table.restore(key, value);
  }

  async endRestore(): Promise<void> {
    await this.table.endRestore(this.it.pause);
    this.reportWork();
  }

  override restoreRefusal(): string | undefined {
    return this.table.restoreRefusal();
  }

  async onRecords(topic: string, messages: readonly KafkaMessage[]): Promise<void> {
    if (this.ops === 0 && !this.table.pending) this.since = performance.now();
    for (const m of messages) {
      if (m.value === null || m.key?.toString('utf8') === TICK_KEY) continue;
      const rec = decodeDelta(m.value);
      this.table.apply(rec);
      this.ops += rec.o.length + rec.n.length;
    }
    this.positions.set(topic, Number(messages[messages.length - 1]!.offset) + 1);
    const waited = performance.now() - this.since;
    if (this.table.pendingMarkers > 0 || this.ops >= this.chunkLimit() || waited >= this.linger())
      await this.flush();
    else this.scheduleFlush(this.linger() - waited);
  }

  async flush(): Promise<void> {
    this.cancelFlush();
    const started = performance.now();
    const ops = this.ops;
    const t = this.it.topics;
    const result = await this.table.flush(this.it.pause);
    const now = this.now();
    const records: TaggedRecord[] = [];
    for (const list of result.changed)
      records.push(
        record('lists', t.similarities, this.partition, list.itemId, this.it.encoder.list(list, now)),
      );
    for (const itemId of result.removed)
      records.push(record('lists', t.similarities, this.partition, itemId, null));
    for (const c of result.changelog)
      records.push(record('changelog', t.changelog, this.partition, c.key, c.value));
    for (const m of result.markers)
      records.push(
        record('acks', t.acks, m.origin, String(m.id), JSON.stringify({ m: m.id, q: this.partition })),
      );
    await this.deliver(records);
    this.noteFlush(performance.now() - started, ops);
    this.ops = 0;
    this.it.metrics.listsPublished.inc(result.changed.length);
    this.it.metrics.tombstonesPublished.inc(result.removed.length);
    this.reportWork();
  }

  private reportWork(): void {
    const w = this.table.work;
    const labels = (kind: string) => ({ stage: 'items', partition: String(this.partition), kind });
    const { work } = this.it.pmetrics;
    work.inc(labels('ops'), w.ops - this.reported.ops);
    work.inc(labels('cell_updates'), w.cellUpdates - this.reported.cellUpdates);
    work.inc(labels('cells_scanned'), w.cellsScanned - this.reported.cellsScanned);
    this.reported = { ...w };
  }

  async periodic(now: number): Promise<void> {
    await this.tickIfIdle(now);
    await this.purge.run(this.positions.committed(this.it.topics.deltas), now);
  }

  protected tickRecords(now: number): TaggedRecord[] {
    return [record('ticks', this.it.topics.changelog, this.partition, TICK_KEY, String(now))];
  }
}
