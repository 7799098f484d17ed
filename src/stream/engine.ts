// The stream engine: owns the model and the input positions, and composes the pieces that turn
// fetched batches into model updates and delivered outputs. Lifecycle per instance:
//
//   standby ──(assigned all partitions)──▶ rebuilding ──(inputs and outputs read to the marks)──▶ live
//
// Pieces: membership decisions here; rebuild.ts (restore + replay + reconcile), live.ts (chunks →
// model → flush), publisher.ts (outputs and offsets, retried), positions.ts (per-partition offsets),
// intake.ts (decode, dead letters, apply). All work on the model runs through one serial queue:
// batches, group-join transitions, timed flushes, snapshot captures and shutdown never interleave.
import type { EachBatchPayload } from 'kafkajs';
import type { Config } from '../config.js';
import { ConfigError, describeError, isAmnesiaError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Model, ModelState } from '../model/index.js';
import type { PendingPurge, TopicOffset } from '../state/format.js';
import type { Snapshotter, SnapshotSource } from '../state/snapshotter.js';
import type { InputKind } from './codec.js';
import { Intake } from './intake.js';
import { batchControl, inputBatch } from './kafka-ports.js';
import { Live } from './live.js';
import type { Metrics } from './metrics.js';
import type { Outbox } from './outbox.js';
import { partitionsOf, type TopicPartition } from './partitions.js';
import type { BatchControl, ConsumerPort, InputBatch, OffsetsPort, OutputSink } from './ports.js';
import { Positions, type PartitionLag } from './positions.js';
import { FlushRunner } from './flush-runner.js';
import { HealthMonitor, type HealthVerdict } from './health.js';
import type { ProgressBoard } from './purge-progress.js';
import { Publisher, type PublishContext } from './publisher.js';
import { decideOnJoin, othersWentAhead } from './membership.js';
import { modelFromState, newModel, settingsFit, tombstonesOnly } from './model-factory.js';
import { Rebuild, seekForAssignment, type RebuildDeps } from './rebuild.js';
import type { SchemaRegistryClient } from './registry.js';
import { retry } from './retry.js';
import { SerialQueue } from './serial-queue.js';

export type Phase = 'starting' | 'standby' | 'rebuilding' | 'live' | 'blocked' | 'stopped';

const TOMBSTONE_EXPIRY_EVERY_MS = 60_000;

/** The snapshot section that carries the eventIds remembered per user (dedup.ts). */
const DEDUP_SECTION = 'dedp';

/** Why an instance refuses to go on (see block()). */
type BlockReason = 'retention' | 'memory' | 'config';

export interface EngineDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly consumer: ConsumerPort;
  readonly offsets: OffsetsPort;
  readonly sink: OutputSink;
  readonly outbox: Outbox;
  readonly registry: SchemaRegistryClient | undefined;
  /** Snapshots (SNAPSHOT_DIR set): restore on assignment, forgotten users noted for PURGED. */
  readonly snapshots?: Snapshotter | undefined;
  /** Who holds snapshots among the replicas (purge-progress.ts); PURGED waits for the others. */
  readonly progress?: ProgressBoard | undefined;
  /** This instance's id (in the group's member metadata and on the progress board). */
  readonly instanceId?: string;
  /** The tombstones' secret key, resolved at start-up (state/tombstone-key.ts). */
  readonly tombstoneKey: string;
}

export class Engine implements SnapshotSource {
  private model_: Model;
  private phase_: Phase = 'starting';
  private generation = 0;
  private rebuild: Rebuild | undefined;
  private stopping = false;
  private lastTombstoneExpiry = Date.now();
  private readonly queue = new SerialQueue();
  private readonly positions = new Positions();
  private readonly phaseListeners = new Set<(p: Phase) => void>();
  private readonly log: Logger;
  private readonly kinds: ReadonlyMap<string, InputKind>;
  private readonly outputs: readonly string[];
  private readonly intake: Intake;
  private readonly publisher: Publisher;
  private readonly live: Live;
  private readonly rebuildDeps: RebuildDeps;
  private readonly flushes = new FlushRunner();
  private readonly monitor: HealthMonitor;
  private lastBatchAt = Date.now();
  /** Our member id in the group (from the last join): the fencing check asks whether it still holds partitions. */
  private memberId: string | undefined;
  private inputsPaused = false;
  private blockedReason: BlockReason | undefined;
  /** The heartbeat of the latest batch: long work outside a batch (timer flush, snapshot) uses it. */
  private heartbeat: (() => Promise<void>) | undefined;
  private readonly isInput = (topic: string): boolean => this.kinds.has(topic);
  private readonly isStopping = (): boolean => this.stopping;

  constructor(private readonly deps: EngineDeps) {
    this.log = deps.log.child({ module: 'engine' });
    const t = deps.config.topics;
    this.kinds = new Map<string, InputKind>([
      [t.interactions, 'interaction'],
      [t.deletions, 'deletion'],
    ]);
    this.outputs = [t.similarities, t.receipts];
    this.model_ = newModel(deps.config, deps.tombstoneKey);
    const model = (): Model => this.model_;
    const { metrics, outbox } = deps;
    this.intake = new Intake({
      model,
      dedupWindow: deps.config.model.dedupWindow,
      registry: deps.registry,
      inputRules: deps.config.input,
      outbox,
      metrics,
      noteForgotten: deps.snapshots ? (p) => deps.snapshots?.noteForgotten(p) : undefined,
    });
    this.publisher = new Publisher({
      outbox,
      sink: deps.sink,
      positions: this.positions,
      isInput: this.isInput,
      log: this.log,
      metrics,
    });
    this.rebuildDeps = {
      topics: deps.config.topics,
      groupId: deps.config.kafka.groupId,
      consumer: deps.consumer,
      offsets: deps.offsets,
      positions: this.positions,
      intake: this.intake,
      outbox,
      publisher: this.publisher,
      registry: deps.registry,
      metrics,
      log: this.log,
      restore: async () => deps.snapshots?.restore((s) => (settingsFit(deps.config, s) ? s : undefined)),
      buildModel: (s, withUsers) => {
        // The eventIds remembered go with the users (they name them): kept only with them.
        const dedup = s.sections?.[DEDUP_SECTION];
        if (withUsers && dedup) this.intake.resetDedup(dedup);
        return modelFromState(deps.config, deps.tombstoneKey, withUsers ? s.state : tombstonesOnly(s.state));
      },
      setModel: (m) => {
        this.model_ = m;
      },
      model,
      flushes: this.flushes,
      activate: async () => {
        // Announced before any snapshot is restored or written: PURGED elsewhere waits for us now.
        await deps.progress?.announce(true);
        await deps.sink.activate();
      },
      acceptDeletionGap: deps.config.acceptDeletionGap,
      onGaps: (gaps) => {
        metrics.retentionGap.reset();
        for (const g of gaps)
          metrics.retentionGap.set({ topic: g.topic, partition: String(g.partition) }, g.lost);
      },
      stopping: this.isStopping,
    };
    this.monitor = new HealthMonitor(
      {
        offsets: deps.offsets,
        positions: () => this.positions.offsets(this.isInput),
        noteHighWatermark: (tp, offset) => this.positions.noteHighWatermark(tp, offset),
        live: () => this.phase_ === 'live',
        ready: () => this.phase_ === 'live',
        notReadyReason: () =>
          this.phase_ !== 'blocked'
            ? `phase ${this.phase_}`
            : this.blockedReason === 'memory'
              ? 'the model reached its memory budget (MODEL_MEMORY_BYTES)'
              : this.blockedReason === 'config'
                ? 'the configuration does not fit the saved state (see the log, e.g. TOMBSTONE_KEY)'
                : 'deletion requests were deleted by retention before they were applied (see amnesia_retention_gap_records; ACCEPT_DELETION_GAP)',
        inputsPaused: () => this.inputsPaused,
        busy: () => this.queue.busy,
        lastBatchAt: () => this.lastBatchAt,
        outputsStuckMs: () => this.publisher.stuckMs(),
        log: this.log,
      },
      deps.config.health,
    );
    this.live = new Live({
      batch: deps.config.batch,
      intake: this.intake,
      outbox,
      publisher: this.publisher,
      positions: this.positions,
      metrics,
      log: this.log,
      model,
      flushes: this.flushes,
      isInput: this.isInput,
      enqueue: (task) => this.queue.run(() => this.guarded(task)),
      idleContext: () => this.idleContext(),
    });
  }

  get model(): Model {
    return this.model_;
  }

  get phase(): Phase {
    return this.phase_;
  }

  /** The topics the group consumer subscribes to. */
  get topics(): string[] {
    // Deletions first: kafkajs hands a fetch's batches over in subscription order, so a deletion
    // request is applied (and its receipt flushed) before the interactions fetched with it.
    const t = this.deps.config.topics;
    return [t.deletions, t.interactions, ...this.outputs];
  }

  /** What work outside a batch runs with: the latest batch's heartbeat, the stopping flag. */
  private idleContext(): PublishContext {
    return { heartbeat: this.heartbeat, stopping: this.isStopping };
  }

  /** Milliseconds the current delivery of outputs has been failing (0 when they flow). */
  outputsStuckMs(): number {
    return this.publisher.stuckMs();
  }

  onPhase(listener: (p: Phase) => void): () => void {
    this.phaseListeners.add(listener);
    return () => this.phaseListeners.delete(listener);
  }

  private setPhase(p: Phase): void {
    if (this.phase_ === p) return;
    this.phase_ = p;
    this.deps.metrics.ready.set(p === 'live' ? 1 : 0);
    this.deps.metrics.active.set(p === 'live' || p === 'rebuilding' ? 1 : 0);
    this.deps.metrics.blocked.set(p === 'blocked' ? 1 : 0);
    this.log.info({ phase: p, generation: this.generation }, 'phase changed');
    for (const l of this.phaseListeners) l(p);
  }

  // ------------------------------------------------------------------ group membership

  /** kafkajs GROUP_JOIN: runs synchronously, before the first fetch of the new generation. */
  onAssignment(assignment: Record<string, number[]>, memberId?: string): void {
    if (memberId !== undefined) this.memberId = memberId;
    if (this.stopping) return;
    const partitions = partitionsOf(assignment);
    const gen = ++this.generation;
    switch (decideOnJoin(this.phase_ === 'live', this.positions.partitions, partitions)) {
      case 'standby':
        this.positions.release();
        void this.queue.run(() => this.becomeStandby(gen));
        return;
      case 'keep':
        this.keepState(gen);
        return;
      case 'rebuild':
        this.startRebuild(gen, partitions);
    }
  }

  /**
   * The same partitions again (another member joined or left). Our state stays valid only if no
   * other member moved the group's offsets meanwhile (it was active while we were paused or cut
   * off): fetch from our own positions, not from the group's commits, and check before going on.
   */
  private keepState(gen: number): void {
    const { consumer } = this.deps;
    const inputs = [...this.kinds.keys()];
    consumer.pause(inputs);
    consumer.pause(this.outputs);
    for (const tp of this.positions.partitions) {
      const pos = this.positions.get(tp);
      if (pos !== undefined) consumer.seek({ ...tp, offset: pos });
    }
    void this.queue
      .run(async () => {
        if (gen !== this.generation) return;
        if (await this.othersCommitted()) {
          this.log.warn({ generation: gen }, 'another instance was active meanwhile: rebuilding');
          this.startRebuild(gen, this.positions.partitions);
          return;
        }
        consumer.resume(inputs);
        await this.guarded(() => this.live.flush(this.idleContext()));
      })
      .catch((e: unknown) => this.log.error({ err: describeError(e) }, 'could not resume after a rebalance'));
  }

  /** True when another member committed offsets ahead of our positions. */
  private async othersCommitted(): Promise<boolean> {
    const { offsets, config } = this.deps;
    const committed = await retry(() => offsets.committed(config.kafka.groupId, [...this.kinds.keys()]), {
      attempts: 5,
      stopping: this.isStopping,
    });
    return othersWentAhead(committed, this.positions.offsets(this.isInput));
  }

  /** Newly active (or the assignment changed, or our state went stale): restore and replay. */
  private startRebuild(gen: number, partitions: readonly TopicPartition[]): void {
    const { consumer, snapshots } = this.deps;
    this.positions.hold(partitions);
    // seek() now, before kafkajs fetches from the committed offsets. With a snapshot the inputs
    // resume at its offsets (the snapshot is the truth, not the group's commits); the rebuild seeks
    // again if the file turns out unusable.
    const seeked = seekForAssignment(consumer, partitions, this.isInput, snapshots?.plannedOffsets());
    consumer.resume(this.outputs);
    // Deletions first: a user's requests must be known before their interactions are replayed.
    consumer.pause([this.deps.config.topics.interactions]);
    consumer.resume([this.deps.config.topics.deletions]);
    const rebuild = new Rebuild(this.rebuildDeps, seeked);
    this.rebuild = rebuild;
    this.setPhase('rebuilding');
    void this.queue
      .run(async () => {
        if (gen !== this.generation) return;
        this.resetState();
        const current = () => gen === this.generation && this.rebuild === rebuild;
        await this.guarded(async () => {
          if ((await rebuild.begin(current)) === 'begun') await this.finishRebuild(undefined);
        });
      })
      .catch((e: unknown) => this.log.error({ err: describeError(e) }, 'rebuild could not start'));
  }

  /**
   * Runs a task; a delivery that finds our producer fenced is handled here (afterFenced) instead of
   * failing the batch, and the task ends (rethrown when the caller must know it did not happen).
   */
  private async guarded(task: () => Promise<void>, rethrow = false): Promise<void> {
    try {
      await task();
    } catch (e) {
      if (isAmnesiaError(e, 'MODEL_MEMORY_EXCEEDED')) {
        this.log.error(
          { err: describeError(e) },
          'the model reached its memory budget: consuming stops (raise MODEL_MEMORY_BYTES and the memory limit)',
        );
        this.block('memory');
        if (rethrow) throw e;
        return;
      }
      if (e instanceof ConfigError) {
        // e.g. snapshots written under another TOMBSTONE_KEY: nothing good can come of going on.
        this.log.error(
          { err: describeError(e) },
          'refusing to restore: configuration does not fit the state',
        );
        this.block('config');
        if (rethrow) throw e;
        return;
      }
      if (!isAmnesiaError(e, 'PRODUCER_FENCED')) throw e;
      await this.afterFenced();
      if (rethrow) throw e;
    }
  }

  /**
   * Our producer was fenced: another instance activated the outputs, or the broker aborted our
   * transaction after its timeout (a long pause). Nothing is published from this state until we know:
   * not holding the partitions any more → stand down (paused) until the group's next assignment;
   * still holding them and nobody else committed → a new producer, go on; else → rebuild.
   */
  private async afterFenced(): Promise<void> {
    const gen = this.generation;
    const { offsets, config, consumer, sink, metrics } = this.deps;
    metrics.producerFenced.inc();
    this.log.warn(
      { generation: gen },
      'outputs fenced: another instance took over, or our transaction timed out',
    );
    const members = await retry(() => offsets.members(config.kafka.groupId), {
      stopping: this.isStopping,
      onRetry: (e) => this.log.warn({ err: describeError(e) }, 'group membership check failed, retrying'),
    });
    if (gen !== this.generation) return; // a join meanwhile decides
    if (!members.some((m) => m.assigned && m.memberId === this.memberId)) {
      consumer.pause(this.topics);
      this.generation++;
      this.positions.release();
      this.resetState();
      this.rebuild = undefined;
      this.setPhase('standby');
      return;
    }
    if (this.phase_ === 'live' && !(await this.othersCommitted())) {
      await sink.activate();
      return;
    }
    this.startRebuild(++this.generation, this.positions.partitions);
  }

  /**
   * Going on would break a promise: retention deleted deletion requests this state never applied
   * (users they name would come back), or the model reached its memory budget (an event would be
   * lost). Consume nothing, stay not ready, say why (log, metric, /readyz) until an operator acts
   * (ACCEPT_DELETION_GAP, MODEL_MEMORY_BYTES) and restarts the instance.
   */
  private block(reason: BlockReason): void {
    this.blockedReason = reason;
    if (reason === 'memory') this.deps.metrics.modelMemoryExceeded.set(1);
    this.deps.consumer.pause(this.topics);
    this.rebuild = undefined;
    this.resetState();
    this.setPhase('blocked');
  }

  /** An empty model, nothing pending or queued for output. */
  private resetState(): void {
    this.live.reset();
    this.intake.resetDedup();
    this.model_ = newModel(this.deps.config, this.deps.tombstoneKey);
    this.deps.outbox.clear();
  }

  private async becomeStandby(gen: number): Promise<void> {
    if (gen !== this.generation) return;
    await this.deps.sink.deactivate();
    await this.holdNoSnapshots();
    this.resetState();
    this.rebuild = undefined;
    this.setPhase('standby');
  }

  private async finishRebuild(ctl: BatchControl | undefined): Promise<void> {
    const rebuild = this.rebuild;
    if (this.phase_ !== 'rebuilding' || !rebuild) return;
    if (!(await rebuild.finishIfDone(ctl))) return;
    this.rebuild = undefined;
    this.setPhase('live');
  }

  // ------------------------------------------------------------------ batches

  /** The kafkajs eachBatch handler. */
  readonly eachBatch = (payload: EachBatchPayload): Promise<void> =>
    this.eachBatchOf(inputBatch(payload), batchControl(payload));

  /** Handles one fetched batch in the serial queue. */
  eachBatchOf(batch: InputBatch, ctl: BatchControl): Promise<void> {
    this.lastBatchAt = Date.now();
    return this.queue
      .run(() => this.guarded(() => this.handleBatch(batch, ctl)))
      .finally(() => {
        this.lastBatchAt = Date.now();
      });
  }

  /** Liveness and readiness, with the reasons when either fails. */
  health(): HealthVerdict {
    return this.monitor.verdict();
  }

  /** Seconds since the last batch and since outputs started failing (metrics). */
  healthFigures(): { idleSeconds: number; outputsStuckSeconds: number } {
    return {
      idleSeconds: this.monitor.idleMs() / 1000,
      outputsStuckSeconds: this.publisher.stuckMs() / 1000,
    };
  }

  /** Starts (or stops) the periodic health probe. */
  monitorHealth(on: boolean): void {
    if (on) this.monitor.start();
    else this.monitor.stop();
  }

  /** Resolves once every task queued so far (batches, transitions, flushes) has ended. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** Lag per held input partition: the last seen high watermark minus the next offset to apply. */
  consumerLag(): PartitionLag[] {
    if (this.phase_ !== 'live' && this.phase_ !== 'rebuilding') return [];
    return this.positions.lag(this.isInput);
  }

  /** Record timestamp (epoch ms) of the newest input record applied live. */
  lastEventTime(): number | undefined {
    return this.live.lastEventTime;
  }

  private async handleBatch(batch: InputBatch, ctl: BatchControl): Promise<void> {
    const { positions } = this;
    this.heartbeat = () => ctl.heartbeat().catch(() => undefined);
    positions.noteHighWatermark(batch, batch.highWatermark);
    if (ctl.isStale() || !positions.holds(batch)) return;
    const phase = this.phase_;
    if (phase !== 'rebuilding' && phase !== 'live') return;
    if (phase === 'rebuilding' && !this.rebuild?.begun) return;
    const pos = positions.get(batch);
    if (pos === undefined) return;
    if (batch.fetchedOffset !== undefined && batch.fetchedOffset > pos) {
      // Not contiguous with what we applied (fetched from the group's commits, or before a seek):
      // never apply across a gap; fetch again from our position.
      this.log.warn(
        { topic: batch.topic, partition: batch.partition, fetched: batch.fetchedOffset, position: pos },
        'skipping a non-contiguous batch',
      );
      this.deps.consumer.seek({ topic: batch.topic, partition: batch.partition, offset: pos });
      return;
    }
    const end = batch.lastOffset;
    const messages = batch.messages.filter((m) => Number(m.offset) >= pos);
    if (messages.length === 0) {
      // Nothing new: re-delivered records, or only transaction markers and aborted records after pos.
      if (end + 1 > pos) positions.set(batch, end + 1);
      ctl.resolveOffset(end);
      if (this.rebuild) await this.finishRebuild(ctl);
      return;
    }
    const kind = this.kinds.get(batch.topic);
    if (kind === undefined) {
      if (this.rebuild) {
        await this.rebuild.onOutputBatch(batch, messages, end);
        ctl.resolveOffset(end);
        await this.finishRebuild(ctl);
      }
      return;
    }
    await this.prefetchSchemas(messages, ctl);
    if (this.rebuild) {
      if (!this.rebuild.onInputBatch(batch, kind, messages, end)) {
        if (this.rebuild.blocked) this.block('retention');
        return;
      }
      ctl.resolveOffset(end);
      await this.finishRebuild(ctl);
      return;
    }
    await this.live.onBatch(batch, kind, messages, ctl, end, batch.highWatermark - end - 1);
    if (Date.now() - this.lastTombstoneExpiry > TOMBSTONE_EXPIRY_EVERY_MS) {
      this.lastTombstoneExpiry = Date.now();
      this.model_.expireTombstones(this.lastTombstoneExpiry);
    }
  }

  /**
   * kafkajs resolves a fetch that held only transaction markers or aborted records by itself and
   * never hands it over (END_BATCH_PROCESS with batchSize 0): move the position past it, or a
   * partition whose last record is a marker would never reach its high-water mark.
   */
  onFilteredBatch(tp: TopicPartition, firstOffset: number | undefined, lastOffset: number): Promise<void> {
    this.lastBatchAt = Date.now();
    return this.queue.run(async () => {
      const pos = this.positions.get(tp);
      if (pos === undefined || !this.positions.holds(tp)) return;
      if (pos < (firstOffset ?? pos) || pos > lastOffset) return;
      this.positions.set(tp, lastOffset + 1);
      if (this.rebuild) await this.guarded(() => this.finishRebuild(undefined));
    });
  }

  /** Resolves unknown schema ids; an unreachable registry is retried here, never dead-lettered. */
  private prefetchSchemas(messages: InputBatch['messages'], ctl: BatchControl): Promise<void> {
    return retry(() => this.intake.prefetchSchemas(messages, () => ctl.heartbeat()), {
      initialDelayMs: 250,
      // Only an unreachable registry waits here; a heartbeat failing (rebalance) ends the batch.
      retriable: (e) => isAmnesiaError(e, 'REGISTRY_UNAVAILABLE'),
      stopping: () => this.stopping || !ctl.isRunning(),
      beforeWait: () => ctl.heartbeat(),
      onRetry: (e, attempt, delayMs) =>
        this.log.warn(
          { err: describeError(e), attempt, retryInMs: delayMs },
          'schema registry unavailable, retrying',
        ),
    });
  }

  // ------------------------------------------------------------------ snapshots (SnapshotSource)

  /**
   * Runs `take` in the serial queue at a batch boundary: everything applied is flushed, published
   * and committed, so the state reflects every record before the positions and none after.
   * Undefined unless live.
   */
  atBoundary<T>(
    take: (
      state: () => ModelState,
      offsets: readonly TopicOffset[],
      sections?: () => Readonly<Record<string, Uint8Array>>,
    ) => T,
  ): Promise<T | undefined> {
    return this.queue.run(async () => {
      if (this.phase_ !== 'live') return undefined;
      await this.guarded(() => this.live.flush(this.idleContext()), true);
      if (this.phase_ !== 'live' || this.live.pendingEvents > 0) return undefined;
      const model = this.model_;
      const intake = this.intake;
      return take(
        () => model.exportState(),
        this.positions.offsets(this.isInput),
        () => ({ [DEDUP_SECTION]: intake.exportDedup() }),
      );
    });
  }

  /** A standby holds no snapshot: delete ours, then say so on the progress board. */
  private async holdNoSnapshots(): Promise<void> {
    const { snapshots, progress } = this.deps;
    await retry(
      async () => {
        await snapshots?.dropAll();
        await progress?.announce(false);
      },
      {
        stopping: this.isStopping,
        onRetry: (e) =>
          this.log.error({ err: describeError(e) }, 'standby: could not clear its snapshots, retrying'),
      },
    );
  }

  /** True when every other current member of the group has announced that it holds no snapshot. */
  async othersHoldNoSnapshots(): Promise<boolean> {
    const { progress, offsets, config, instanceId } = this.deps;
    if (!progress) return true;
    const members = await offsets.members(config.kafka.groupId);
    return members.every(
      (m) => m.instanceId === undefined || m.instanceId === instanceId || progress.isClean(m.instanceId),
    );
  }

  /** Publishes PURGED receipts (with the outputs' guarantees) once no snapshot on disk holds the users. */
  publishPurged(purges: readonly PendingPurge[]): Promise<void> {
    return this.queue.run(async () => {
      const now = Date.now();
      for (const p of purges)
        this.deps.outbox.addReceipt(
          {
            requestId: p.requestId,
            status: 'PURGED',
            interactionsRemoved: p.interactionsRemoved,
            itemsAffected: p.itemsAffected,
            completedAt: now,
          },
          p.recordMs,
        );
      await this.guarded(() => this.publisher.publish(this.idleContext()), true);
    });
  }

  // ------------------------------------------------------------------ shutdown and maintenance

  /** Stops taking new chunks; the chunk in progress finishes, is published and committed. */
  beginStop(): void {
    this.stopping = true;
  }

  /** Stops (or resumes) fetching the input topics while live: maintenance and benchmarks. */
  pauseInputs(paused: boolean): void {
    this.inputsPaused = paused;
    const topics = [...this.kinds.keys()];
    if (paused) this.deps.consumer.pause(topics);
    else this.deps.consumer.resume(topics);
  }

  /** Publishes and commits whatever has been applied but not flushed yet (shutdown). */
  flushNow(): Promise<void> {
    return this.queue.run(async () => {
      if (this.phase_ === 'live') await this.live.flush(this.idleContext());
    });
  }

  /** After the consumer has stopped: a last attempt at anything still unpublished. */
  finishStop(): Promise<void> {
    return this.queue.run(async () => {
      if (this.phase_ === 'live') {
        try {
          await this.live.flush({ stopping: () => true });
        } catch (e) {
          this.log.warn(
            { err: describeError(e), pending: this.deps.outbox.size },
            'outputs left unpublished at shutdown; the next start re-derives them',
          );
        }
      }
      this.live.reset();
      this.setPhase('stopped');
    });
  }
}
