// Which role this instance plays and how it changes: the phase (standby, rebuilding, live, blocked,
// stopped), the group generation, the current rebuild and the model it owns. Transitions come from
// group joins (what an assignment means: membership.ts), from a fenced producer (replicas.ts decides
// whether to stand down, go on or rebuild), and from promises that would break (block). Every
// transition runs in the engine's serial queue; the kafkajs GROUP_JOIN part runs synchronously so
// that seeks land before the first fetch of the new generation.
import type { Config } from '../config.js';
import { ConfigError, describeError, isAmnesiaError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Model } from '../model/index.js';
import type { Snapshotter } from '../state/snapshotter.js';
import type { Intake } from '../input/intake.js';
import type { InputKind } from '../input/codec.js';
import type { Live } from './live.js';
import { classifyKafkaError } from '../kafka/classify.js';
import { decideOnJoin } from './membership.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { ModelSlot, TopicRoles } from './holders.js';
import { newModel } from './model-factory.js';
import type { Outbox } from '../output/outbox.js';
import { partitionsOf, type TopicPartition } from '../kafka/partitions.js';
import type { BatchControl, ConsumerPort, OutputSink } from '../kafka/ports.js';
import type { Positions } from '../kafka/positions.js';
import type { PublishContext } from '../output/publisher.js';
import { Rebuild, seekForAssignment, type RebuildDeps } from './rebuild.js';
import { backoffDelay, sleep } from '../kafka/retry.js';
import type { Replicas } from './replicas.js';
import type { SerialQueue } from '../kafka/serial-queue.js';
import type { Phase } from '../service.js';
import { TtlExpiry } from './expiry.js';

/** Why an instance refuses to go on (see block()). */
export type BlockReason = 'retention' | 'memory' | 'config';

export const BLOCKED_BECAUSE: Record<BlockReason, string> = {
  retention:
    'deletion requests were deleted by retention before they were applied (see amnesia_retention_gap_records; ACCEPT_DELETION_GAP)',
  memory: 'the model reached its memory budget (MODEL_MEMORY_BYTES)',
  config: 'the configuration does not fit the saved state (see the log, e.g. TOMBSTONE_KEY or SIMILARITY)',
};

export interface LifecycleDeps {
  readonly config: Config;
  readonly tombstoneKey: string;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly consumer: ConsumerPort;
  readonly sink: OutputSink;
  readonly outbox: Outbox;
  readonly snapshots?: Snapshotter | undefined;
  readonly queue: SerialQueue;
  readonly positions: Positions;
  readonly replicas: Replicas;
  readonly live: Live;
  readonly intake: Intake;
  readonly rebuildDeps: RebuildDeps;
  readonly topics: TopicRoles;
  readonly slot: ModelSlot;
  readonly idleContext: () => PublishContext;
  readonly stopping: () => boolean;
}

export class Lifecycle {
  private phase_: Phase = 'starting';
  private generation = 0;
  private rebuild_: Rebuild | undefined;
  private blockedReason_: BlockReason | undefined;
  private readonly phaseListeners = new Set<(p: Phase) => void>();
  /** When this instance was last given the active role (the assigner prefers the latest). */
  private activeSince_: number | undefined;
  /** Producers started again after a failed or fenced delivery in a row (spaced by backoff). */
  private reactivations = 0;
  private lastReactivation = 0;
  private readonly expiry: TtlExpiry;

  constructor(private readonly deps: LifecycleDeps) {
    // INTERACTION_TTL_MS: checks while live, in the serial queue (single/expiry.ts).
    this.expiry = new TtlExpiry({
      ...deps,
      model: () => this.model,
      live: () => this.phase_ === 'live',
      enqueue: (task) => deps.queue.run(() => this.guarded(task)),
      flush: () => deps.live.flush(deps.idleContext()),
    });
  }

  get model(): Model {
    return this.deps.slot.current;
  }

  get phase(): Phase {
    return this.phase_;
  }

  get activeSince(): number | undefined {
    return this.activeSince_;
  }

  get rebuild(): Rebuild | undefined {
    return this.rebuild_;
  }

  /** Why the instance is not ready (for /readyz). */
  notReadyReason(): string {
    return this.phase_ === 'blocked' && this.blockedReason_
      ? BLOCKED_BECAUSE[this.blockedReason_]
      : `phase ${this.phase_}`;
  }

  onPhase(listener: (p: Phase) => void): () => void {
    this.phaseListeners.add(listener);
    return () => this.phaseListeners.delete(listener);
  }

  setPhase(p: Phase): void {
    if (this.phase_ === p) return;
    if (p === 'standby' || p === 'blocked' || p === 'stopped') this.activeSince_ = undefined;
    if (p === 'stopped') this.expiry.stop();
    this.phase_ = p;
    const { metrics } = this.deps;
    metrics.ready.set(p === 'live' ? 1 : 0);
    metrics.active.set(p === 'live' || p === 'rebuilding' ? 1 : 0);
    metrics.blocked.set(p === 'blocked' ? 1 : 0);
    this.deps.log.info({ phase: p, generation: this.generation }, 'phase changed');
    for (const l of this.phaseListeners) l(p);
  }

  // ------------------------------------------------------------------ group membership

  /** kafkajs GROUP_JOIN: runs synchronously, before the first fetch of the new generation. */
  onAssignment(assignment: Record<string, number[]>, memberId?: string): void {
    if (memberId !== undefined) this.deps.replicas.memberId = memberId;
    if (this.deps.stopping()) return;
    const partitions = partitionsOf(assignment);
    const gen = ++this.generation;
    switch (decideOnJoin(this.phase_ === 'live', this.deps.positions.partitions, partitions)) {
      case 'standby':
        this.deps.positions.release();
        void this.deps.queue.run(() => this.becomeStandby(gen));
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
    const inputs = [...this.deps.topics.inputs];
    consumer.pause([...inputs, ...this.deps.topics.outputs]);
    for (const tp of this.deps.positions.partitions) {
      const pos = this.deps.positions.get(tp);
      if (pos !== undefined) consumer.seek({ ...tp, offset: pos });
    }
    void this.deps.queue
      .run(async () => {
        if (gen !== this.generation) return;
        if (await this.deps.replicas.othersWentAhead(this.deps.positions.offsets(this.deps.topics.isInput))) {
          this.deps.log.warn({ generation: gen }, 'another instance was active meanwhile: rebuilding');
          this.startRebuild(gen, this.deps.positions.partitions);
          return;
        }
        consumer.resume(inputs);
        await this.guarded(() => this.deps.live.flush(this.deps.idleContext()));
      })
      .catch((e: unknown) =>
        this.deps.log.error({ err: describeError(e) }, 'could not resume after a rebalance'),
      );
  }

  /** Newly active (or the assignment changed, or our state went stale): restore and replay. */
  private startRebuild(gen: number, partitions: readonly TopicPartition[]): void {
    this.activeSince_ = Date.now();
    const { consumer, snapshots, config } = this.deps;
    this.deps.positions.hold(partitions);
    // seek() now, before kafkajs fetches from the committed offsets. With a snapshot the inputs
    // resume at its offsets (the snapshot is the truth, not the group's commits); the rebuild seeks
    // again if the file turns out unusable.
    const seeked = seekForAssignment(
      consumer,
      partitions,
      this.deps.topics.isInput,
      snapshots?.plannedOffsets(),
    );
    consumer.resume(this.deps.topics.outputs);
    // Deletions first: a user's requests must be known before their interactions are replayed.
    consumer.pause([config.topics.interactions]);
    consumer.resume([config.topics.deletions]);
    const rebuild = new Rebuild(this.deps.rebuildDeps, seeked);
    this.rebuild_ = rebuild;
    this.setPhase('rebuilding');
    void this.deps.queue
      .run(async () => {
        if (gen !== this.generation) return;
        this.resetState();
        const current = () => gen === this.generation && this.rebuild_ === rebuild;
        await this.guarded(async () => {
          if ((await rebuild.begin(current)) === 'begun') await this.finishRebuild(undefined);
        });
      })
      .catch((e: unknown) => this.deps.log.error({ err: describeError(e) }, 'rebuild could not start'));
  }

  async finishRebuild(ctl: BatchControl | undefined): Promise<void> {
    const rebuild = this.rebuild_;
    if (this.phase_ !== 'rebuilding' || !rebuild) return;
    if (!(await rebuild.finishIfDone(ctl))) return;
    this.rebuild_ = undefined;
    this.setPhase('live');
  }

  private async becomeStandby(gen: number): Promise<void> {
    if (gen !== this.generation) return;
    await this.deps.sink.deactivate();
    await this.deps.replicas.holdNoSnapshots();
    this.resetState();
    this.rebuild_ = undefined;
    this.setPhase('standby');
  }

  /** An empty model, nothing pending or queued for output. */
  private resetState(): void {
    this.deps.live.reset();
    this.deps.intake.resetDedup();
    this.deps.slot.replace(newModel(this.deps.config, this.deps.tombstoneKey));
    this.deps.outbox.clear();
  }

  /**
   * Runs a task; failures that are decisions rather than errors are handled here: a fenced delivery
   * (afterFenced), a model at its memory budget or a configuration that does not fit the saved state
   * (block). The task then ends — rethrown when the caller must know it did not happen.
   */
  async guarded(task: () => Promise<void>, rethrow = false): Promise<void> {
    try {
      await task();
    } catch (e) {
      if (isAmnesiaError(e, 'PRODUCER_FENCED')) await this.afterFenced(e);
      else if (isAmnesiaError(e, 'MODEL_MEMORY_EXCEEDED') || e instanceof ConfigError) {
        this.deps.log.error(
          { err: describeError(e) },
          'refusing to go on: the model reached its budget, or the configuration does not fit the saved state',
        );
        this.block(e instanceof ConfigError ? 'config' : 'memory');
      } else throw e;
      if (rethrow) throw e;
    }
  }

  /**
   * Our producer was fenced: another instance activated the outputs, or the broker aborted our
   * transaction after its timeout (a long pause), or the sink dropped it after a failed transaction.
   * Nothing is published from this state until we know:
   * not holding the partitions any more → stand down (paused) until the group's next assignment;
   * still holding them and nobody else committed → a new producer, go on; else → rebuild.
   */
  private async afterFenced(cause: unknown): Promise<void> {
    const gen = this.generation;
    // Counted only when Kafka said so: a producer the sink dropped is no sign of another writer.
    if (classifyKafkaError(cause) === 'fenced') this.deps.metrics.producerFenced.inc();
    this.deps.log.warn(
      { generation: gen, err: describeError(cause) },
      'outputs fenced: another instance took over, or our transaction timed out',
    );
    await this.decideRole(gen, true);
  }

  /**
   * The snapshot-holder lease lapsed (a pause, a cut-off): while we were away another instance may
   * have taken over and published PURGED for requests this state has not applied. Decided as after
   * a fencing (our producer, not refused, is kept): not assigned → standby; others went ahead →
   * rebuild; else go on. Until decided, the engine writes no snapshot (Engine.roleInDoubt).
   */
  async recheckRole(): Promise<void> {
    // Not live: no snapshot is written, and a rebuild replays every request anyway.
    if (this.phase_ !== 'live') return;
    this.deps.log.warn({ generation: this.generation }, 'snapshot-holder lease lapsed: checking our role');
    await this.decideRole(this.generation, false);
  }

  private async decideRole(gen: number, fenced: boolean): Promise<void> {
    const assigned = await this.deps.replicas.stillAssigned();
    if (gen !== this.generation) return; // a join meanwhile decides
    if (!assigned) {
      this.deps.consumer.pause(this.deps.topics.all);
      this.generation++;
      this.deps.positions.release();
      this.resetState();
      this.rebuild_ = undefined;
      this.setPhase('standby');
      return;
    }
    if (
      this.phase_ === 'live' &&
      !(await this.deps.replicas.othersWentAhead(this.deps.positions.offsets(this.deps.topics.isInput)))
    ) {
      if (!fenced) return;
      await this.reactivate();
      // What the refused delivery carried is still in the outbox: out with the next flush, input or not.
      this.deps.live.flushSoon();
      return;
    }
    this.startRebuild(++this.generation, this.deps.positions.partitions);
  }

  /**
   * A new producer after a failed or fenced delivery while we still hold the role. A delivery the
   * broker keeps refusing would otherwise cycle (new producer, refused, dropped) as fast as the broker
   * answers: successive restarts within a minute are spaced by the retry policy's backoff.
   */
  private async reactivate(): Promise<void> {
    const now = Date.now();
    this.reactivations = now - this.lastReactivation < 60_000 ? this.reactivations + 1 : 1;
    this.lastReactivation = now;
    if (this.reactivations > 1) await sleep(backoffDelay(this.reactivations - 1, 200, 5_000, Math.random));
    await this.deps.sink.activate();
  }

  /** Retention deleted input records before they were read, while live or rebuilding (batch-router.ts). */
  inputGap(tp: TopicPartition, kind: InputKind, lost: number): boolean {
    this.deps.metrics.retentionGap.set({ topic: tp.topic, partition: String(tp.partition) }, lost);
    this.deps.log.error(
      { ...tp, records: lost },
      'input records were deleted (retention) before they were read: they are skipped',
    );
    if (kind !== 'deletion' || this.deps.config.acceptDeletionGap) return true;
    this.block('retention');
    return false;
  }

  /**
   * Going on would break a promise (see BLOCKED_BECAUSE). Consume nothing, stay not ready, say why
   * (log, metric, /readyz) until an operator acts and restarts the instance.
   */
  block(reason: BlockReason): void {
    this.blockedReason_ = reason;
    if (reason === 'memory') this.deps.metrics.modelMemoryExceeded.set(1);
    this.deps.consumer.pause(this.deps.topics.all);
    this.rebuild_ = undefined;
    this.resetState();
    this.setPhase('blocked');
  }
}
