// Rebuilding the state when this instance becomes active: restore the newest usable snapshot (or
// start empty), replay the input topics from its offsets (or the beginning) up to the high-water
// marks taken at the start, without publishing, while reading the output topics to their end; then
// publish only what differs from them (reconcile.ts). Deletion requests are read before the
// interactions and applied at their place in each user's history (replay-order.ts).
//
// One Rebuild per generation of the group: a newer assignment abandons it.
import { PROGRESS_LOG_MS, progressFields } from '../telemetry/progress.js';
import type { KafkaMessage } from 'kafkajs';
import type { Model } from '../model/index.js';
import type { Logger } from '../log.js';
import type { Snapshot } from '../state/format.js';
import type { Restored } from '../state/snapshotter.js';
import { DeletionGapGuard, retentionGaps, type RetentionGap } from '../kafka/retention.js';
import type { InputKind } from '../input/codec.js';
import type { FlushRunner } from './flush-runner.js';
import { OutcomeCounts, type Intake } from '../input/intake.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { Outbox, PendingReceipt } from '../output/outbox.js';
import { PartitionMap, type TopicPartition } from '../kafka/partitions.js';
import type { BatchControl, ConsumerPort, OffsetsPort } from '../kafka/ports.js';
import type { Positions } from '../kafka/positions.js';
import type { Publisher } from '../output/publisher.js';
import { PublishedOutputs, type ReconcileOutcome } from '../input/reconcile.js';
import type { SchemaRegistryClient } from '../kafka/registry.js';
import { DeletionsByUser } from '../input/replay-order.js';
import { retry } from '../kafka/retry.js';
import { describeError } from '../errors.js';
import type { ModelSlot } from './holders.js';

export interface RebuildTopics {
  readonly interactions: string;
  readonly deletions: string;
  readonly similarities: string;
  readonly receipts: string;
}

/** Where a rebuild starts from: the newest usable snapshot, and how a model is built from it. */
export interface SnapshotRestore {
  /** The newest snapshot that fits the model settings (undefined: none, or SNAPSHOT_DIR unset). */
  restore(): Promise<Restored<Snapshot> | undefined>;
  /** A model from a snapshot: whole, or only its tombstones (when its users cannot be trusted). */
  buildModel(s: Snapshot, withUsers: boolean): Model;
  /** Drops the snapshot's pending PURGED receipts that `published` says are on the topic already. */
  dropPublished(published: (requestId: string) => boolean): void;
}

/** What a rebuild publishes through, once it ends. */
export interface RebuildOutputs {
  readonly outbox: Outbox;
  readonly publisher: Publisher;
  /** Becomes the one writer of the outputs (output-sink.ts). */
  activate(): Promise<void>;
}

/** What retention deleted: ACCEPT_DELETION_GAP, and where the gaps found at every rebuild go. */
export interface RetentionPolicy {
  readonly acceptDeletionGap: boolean;
  onGaps(gaps: readonly RetentionGap[]): void;
}

export interface RebuildDeps {
  readonly topics: RebuildTopics;
  readonly groupId: string;
  readonly consumer: ConsumerPort;
  readonly offsets: OffsetsPort;
  readonly positions: Positions;
  readonly intake: Intake;
  readonly registry: SchemaRegistryClient | undefined;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly slot: ModelSlot;
  readonly snapshot: SnapshotRestore;
  readonly outputs: RebuildOutputs;
  readonly retention: RetentionPolicy;
  readonly flushes: FlushRunner;
  readonly stopping: () => boolean;
}

interface Marks {
  readonly low: number;
  readonly high: number;
}

/** Where each assigned partition's first fetch starts: a snapshot's offsets for the inputs, else 0. */
export function seekForAssignment(
  consumer: ConsumerPort,
  partitions: readonly TopicPartition[],
  isInput: (topic: string) => boolean,
  planned: ReadonlyMap<string, ReadonlyMap<number, number>> | undefined,
): PartitionMap<number> {
  const seeked = new PartitionMap<number>();
  for (const tp of partitions) {
    const offset = isInput(tp.topic) ? (planned?.get(tp.topic)?.get(tp.partition) ?? 0) : 0;
    seeked.set(tp, offset);
    consumer.seek({ ...tp, offset });
  }
  return seeked;
}

export class Rebuild {
  private marks = new PartitionMap<Marks>();
  private committedAtStart = new PartitionMap<number>();
  private readonly outputs = new PublishedOutputs();
  private readonly deletions = new DeletionsByUser();
  private readonly receipts: PendingReceipt[] = [];
  /** Every request replayed (silent ones too): PURGED is due where the topic has none. */
  private readonly forgotten: PendingReceipt[] = [];
  private stage: 'starting' | 'deletions' | 'interactions' | 'done' = 'starting';
  private restoredFrom: string | undefined;
  private readonly startedAt = Date.now();
  /** Input records the replay had to read when it began, and when progress was last logged. */
  private toReplay = 0;
  private progressAt = 0;
  private guard = new DeletionGapGuard([]);
  /** Set when an interaction may predate a deletion request lost to retention: the instance must block. */
  blocked = false;

  constructor(
    private readonly deps: RebuildDeps,
    private readonly seeked: PartitionMap<number>,
  ) {}

  /** True once begin() has set the positions: batches can be applied. */
  get begun(): boolean {
    return this.stage !== 'starting';
  }

  get done(): boolean {
    return this.stage === 'done';
  }

  private isInput(topic: string): boolean {
    return topic === this.deps.topics.interactions || topic === this.deps.topics.deletions;
  }

  /**
   * Becomes the outputs' writer (fencing any earlier one, so that its open transaction is aborted
   * before the outputs are read), takes the marks and the group's commits, restores a snapshot, sets
   * positions, seeks. 'abandoned' when a newer assignment took over meanwhile.
   */
  async begin(isCurrent: () => boolean): Promise<'begun' | 'abandoned'> {
    const { positions, offsets, groupId, consumer, log } = this.deps;
    await retry(() => this.deps.outputs.activate(), {
      stopping: () => this.deps.stopping() || !isCurrent(),
      onRetry: (e, attempt, delayMs) =>
        log.warn(
          { err: describeError(e), attempt, retryInMs: delayMs },
          'could not become the outputs writer, retrying',
        ),
    });
    if (!isCurrent()) return 'abandoned';
    const held = positions.partitions;
    const marks = new PartitionMap<Marks>();
    for (const topic of new Set(held.map((tp) => tp.topic)))
      for (const w of await offsets.watermarks(topic))
        if (positions.holds(w)) marks.set(w, { low: w.low, high: w.high });
    const inputTopics = [...new Set(held.map((tp) => tp.topic))].filter((t) => this.isInput(t));
    const committed = PartitionMap.of(
      (await offsets.committed(groupId, inputTopics)).map((o) => [o, o.offset] as const),
    );
    let restored = await this.deps.snapshot.restore();
    if (!isCurrent()) return 'abandoned';
    this.marks = marks;
    this.committedAtStart = committed;
    const inputs = held.filter((tp) => this.isInput(tp.topic));
    // Where each input partition starts: the snapshot's offset, or 0 (replay from the beginning).
    let start = PartitionMap.of((restored?.offsets ?? []).map((o) => [o, o.offset] as const));
    let gaps = retentionGaps(inputs, marks, start);
    const isDeletion = (g: RetentionGap) => g.topic === this.deps.topics.deletions;
    if (restored && gaps.some(isDeletion)) {
      // The snapshot predates deletion requests that are gone: it may hold users they named.
      log.error(
        { snapshot: restored.file.name, partitions: gaps.filter(isDeletion).length },
        'the snapshot predates deletion requests deleted by retention: replaying the topics instead (its tombstones kept)',
      );
      this.deps.slot.replace(this.deps.snapshot.buildModel(restored.value, false));
      restored = undefined;
      start = new PartitionMap<number>();
      gaps = retentionGaps(inputs, marks, start);
    } else if (restored) this.deps.slot.replace(this.deps.snapshot.buildModel(restored.value, true));
    this.deps.retention.onGaps(gaps);
    for (const g of gaps)
      log.warn(
        { ...g },
        isDeletion(g)
          ? 'deletion requests were deleted by retention: replaying only if no interaction predates them'
          : 'interactions were deleted by retention before they were applied: their history is lost',
      );
    this.guard = new DeletionGapGuard(this.deps.retention.acceptDeletionGap ? [] : gaps.filter(isDeletion));
    for (const tp of held) positions.set(tp, Math.max(start.get(tp) ?? 0, marks.get(tp)?.low ?? 0));
    this.restoredFrom = restored?.file.name;
    for (const tp of held) {
      const pos = positions.get(tp)!;
      if (this.isInput(tp.topic) && (this.seeked.get(tp) ?? 0) !== pos) consumer.seek({ ...tp, offset: pos });
    }
    this.stage = 'deletions';
    this.toReplay = this.recordsToReplay();
    this.deps.metrics.restoreProgress.update('single', 'rebuild', 0, this.toReplay);
    log.info(
      { partitions: held.length, records: this.toReplay, snapshot: this.restoredFrom },
      'rebuilding state from the input topics',
    );
    return 'begun';
  }

  private recordsToReplay(): number {
    let n = 0;
    for (const [tp, m] of this.marks)
      if (this.isInput(tp.topic)) n += m.high - Math.max(m.low, this.deps.positions.get(tp) ?? 0);
    return n;
  }

  private reached(tp: TopicPartition): boolean {
    const m = this.marks.get(tp);
    if (!m || m.high <= m.low) return true;
    const pos = this.deps.positions.get(tp);
    return pos !== undefined && pos >= m.high;
  }

  /** Applies a batch of an input topic (records at or after the position); false when not now. */
  onInputBatch(tp: TopicPartition, kind: InputKind, messages: readonly KafkaMessage[], end: number): boolean {
    if (kind === 'interaction' && this.stage === 'deletions') return false; // fetched before the pause took effect
    const { intake, metrics, positions } = this.deps;
    const committed = this.committedAtStart.get(tp) ?? -1;
    const counts = new OutcomeCounts();
    for (const m of messages) {
      const silent = Number(m.offset) < committed; // handled (and dead-lettered) by an earlier run
      const recordMs = Number(m.timestamp);
      if (kind === 'interaction' && !this.guard.allows(recordMs)) {
        this.deps.log.error(
          { topic: tp.topic, partition: tp.partition, offset: m.offset },
          'an interaction may predate deletion requests deleted by retention: refusing to go on',
        );
        this.blocked = true;
        return false;
      }
      if (kind === 'deletion') this.guard.noteDeletion(tp, recordMs);
      if (kind === 'interaction') {
        const d = intake.decode('interaction', m);
        if (!d.ok) {
          if (!silent) intake.deadLetter(tp, m, d, counts);
          continue;
        }
        for (const b of this.deletions.takeBefore(d.value.userId, recordMs) ?? [])
          this.forget(b.deletion, b.silent, b.recordMs);
        intake.interaction(d.value, silent ? undefined : counts);
      } else {
        const a = intake.answerDeletion(tp, m, silent ? undefined : counts);
        if ('rejected' in a) {
          if (!silent) this.receipts.push({ receipt: a.rejected, recordMs });
          continue;
        }
        if (!silent) counts.add('applied');
        this.deletions.add({ deletion: a.deletion, recordMs, silent });
      }
    }
    counts.report(metrics, tp.topic);
    positions.set(tp, end + 1);
    this.logProgress();
    return true;
  }

  /** The progress gauge after every batch; every PROGRESS_LOG_MS a log line: how far, and when it should end. */
  private logProgress(): void {
    const now = Date.now();
    const done = this.toReplay - this.recordsToReplay();
    this.deps.metrics.restoreProgress.update('single', 'rebuild', done, this.toReplay);
    if (now - Math.max(this.progressAt, this.startedAt) < PROGRESS_LOG_MS || this.toReplay === 0) return;
    this.progressAt = now;
    this.deps.log.info(
      progressFields(done, this.toReplay, now - this.startedAt),
      'rebuilding state from the input topics',
    );
  }

  private forget(d: Parameters<Intake['forget']>[0], silent: boolean, recordMs: number): void {
    const receipt = this.deps.intake.forget(d, recordMs, false);
    this.forgotten.push({ receipt, recordMs });
    if (!silent) this.receipts.push({ receipt, recordMs });
  }

  /** Notes what an output topic holds (records at or after the position). */
  async onOutputBatch(tp: TopicPartition, messages: readonly KafkaMessage[], end: number): Promise<void> {
    for (const m of messages) {
      if (m.key === null) continue;
      const key = m.key.toString('utf8');
      if (tp.topic === this.deps.topics.receipts)
        await this.outputs.noteReceipt(key, m.value, this.deps.registry);
      else await this.outputs.noteList(key, m.value, this.deps.registry);
    }
    this.deps.positions.set(tp, end + 1);
  }

  /** Ends the rebuild once every partition has reached its mark: reconcile, publish. True when done. */
  async finishIfDone(ctl: Pick<BatchControl, 'heartbeat'> | undefined): Promise<boolean> {
    if (this.stage === 'starting' || this.stage === 'done') return this.stage === 'done';
    const { positions, consumer, topics } = this.deps;
    const held = positions.partitions;
    if (this.stage === 'deletions') {
      if (held.some((tp) => tp.topic !== topics.interactions && !this.reached(tp))) return false;
      this.stage = 'interactions';
      const bound = this.guard.seal();
      if (bound !== undefined)
        this.deps.log.warn(
          { bound },
          'replaying: every interaction must be recorded after the lost deletion requests',
        );
      consumer.resume([topics.interactions]);
    }
    if (held.some((tp) => !this.reached(tp))) return false;
    await ctl?.heartbeat();
    for (const b of this.deletions.takeAll()) this.forget(b.deletion, b.silent, b.recordMs);
    // PURGED is due for every replayed request that has none on the receipts topic yet, and for
    // none the snapshot carried that got one before a crash (at most one PURGED per request).
    this.deps.snapshot.dropPublished((id) => this.outputs.receiptStatus(id) === 'PURGED');
    for (const f of this.forgotten)
      if (this.outputs.receiptStatus(f.receipt.requestId) !== 'PURGED')
        this.deps.intake.notePurge(f.receipt, f.recordMs);
    const now = Date.now();
    const model = this.deps.slot.current;
    const report = await this.deps.flushes.run(model, now, {
      heartbeat: ctl ? () => ctl.heartbeat() : undefined,
    });
    // A restored model reports only what changed since its snapshot: reconcile every current list.
    const out = this.outputs.reconcile(
      this.restoredFrom ? currentLists(model) : report,
      this.receipts,
      this.deps.outputs.outbox,
      now,
    );
    await this.deps.outputs.publisher.publish({ heartbeat: ctl?.heartbeat, stopping: this.deps.stopping });
    consumer.pause([topics.similarities, topics.receipts]);
    for (const tp of held) if (!this.isInput(tp.topic)) positions.drop(tp);
    this.stage = 'done';
    this.report(out, model);
    return true;
  }

  private report(out: ReconcileOutcome, model: Model): void {
    this.deps.metrics.restoreProgress.finish('single', 'rebuild');
    this.deps.log.info(
      { ...out, durationMs: Date.now() - this.startedAt, stats: model.stats(), snapshot: this.restoredFrom },
      'state rebuilt',
    );
  }
}

/** Every current list (a full report), for reconciling a restored state with the topics. */
function currentLists(m: Model): {
  changed: NonNullable<ReturnType<Model['neighbors']>>[];
  removed: string[];
} {
  const changed = [];
  for (const id of m.itemIds()) {
    const l = m.neighbors(id);
    if (l) changed.push(l);
  }
  return { changed, removed: [] };
}
