// The stream engine: owns the model, its phase and the input positions, and composes the pieces
// that turn fetched batches into model updates and delivered outputs. Lifecycle per instance:
//
//   standby ──(assigned all partitions)──▶ rebuilding ──(inputs and outputs read to the marks)──▶ live
//      ▲                                                                      │ fenced, not assigned
//      └──────────────────────────────────────────────────────────────────────┘
//   any ──(a promise would break: retention gap, memory budget, wrong key)──▶ blocked
//
// Pieces: membership.ts (what an assignment means), replicas.ts (other members: who went ahead, who
// holds snapshots), batch-router.ts (where a batch goes), rebuild.ts (restore, replay, reconcile),
// live.ts (chunks → model → flush), publisher.ts + output-sink.ts (outputs and offsets, one
// transaction), positions.ts, intake.ts (decode, dead letters, apply), health.ts. All work on the
// model runs through one serial queue: batches, group-join transitions, timed flushes, snapshot
// captures and shutdown never interleave.
import type { EachBatchPayload } from 'kafkajs';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Model } from '../model/index.js';
import type { PendingPurge } from '../state/format.js';
import type { BoundaryCapture, SnapshotSource } from '../state/snapshotter.js';
import { BatchRouter } from './batch-router.js';
import type { InputKind } from '../input/codec.js';
import { engineParts } from './engine-parts.js';
import { FlushRunner } from './flush-runner.js';
import type { HealthVerdict } from '../kafka/health.js';
import type { Intake } from '../input/intake.js';
import { batchControl, inputBatch } from '../kafka/kafkajs-ports.js';
import type { Live } from './live.js';
import type { BatchControl, ConsumerPort, InputBatch } from '../kafka/ports.js';
import type { LaneBatch } from './deletion-lane.js';
import type { PartitionOffset } from '../kafka/partitions.js';
import { Positions, type PartitionLag } from '../kafka/positions.js';
import type { PublishContext, Publisher } from '../output/publisher.js';
import { Replicas } from './replicas.js';
import { SerialQueue, type Lane } from '../kafka/serial-queue.js';
import { Lifecycle } from './lifecycle.js';
import { ModelSlot, TopicRoles } from './holders.js';
import { newModel } from './model-factory.js';
import { HealthMonitor } from '../kafka/health.js';
import type { Phase } from '../service.js';
import type { EngineDeps } from './engine-deps.js';

const TOMBSTONE_EXPIRY_EVERY_MS = 60_000;

export class Engine implements SnapshotSource {
  private stopping = false;
  private inputsPaused = false;
  private lastBatchAt = Date.now();
  private lastTombstoneExpiry = Date.now();
  /** The heartbeat of the latest batch: long work outside a batch (timer flush, snapshot) uses it. */
  private heartbeat: (() => Promise<void>) | undefined;
  private readonly queue = new SerialQueue();
  private readonly positions = new Positions();
  private readonly log: Logger;
  private readonly kinds: ReadonlyMap<string, InputKind>;
  private readonly roles: TopicRoles;
  private readonly slot: ModelSlot;
  private readonly replicas: Replicas;
  private readonly intake: Intake;
  private readonly publisher: Publisher;
  private readonly live: Live;
  private readonly monitor: HealthMonitor;
  private readonly lifecycle: Lifecycle;
  private readonly router: BatchRouter;
  private laneRouter: BatchRouter | undefined;
  /** A lapsed lease is being checked: no snapshot may be written meanwhile (state/snapshotter.ts). */
  roleInDoubt = false;
  private lane: ConsumerPort | undefined;
  private readonly isInput = (topic: string): boolean => this.kinds.has(topic);
  /** Runs a task in the serial queue, guarded by the lifecycle (fencing and blocking handled). */
  private readonly enqueueGuarded = (task: () => Promise<void>, lane: Lane = 'normal'): Promise<void> =>
    this.queue.run(() => this.lifecycle.guarded(task), lane);
  private readonly isStopping = (): boolean => this.stopping;

  constructor(private readonly deps: EngineDeps) {
    this.log = deps.log.child({ module: 'engine' });
    const t = deps.config.topics;
    this.kinds = new Map<string, InputKind>([
      [t.interactions, 'interaction'],
      [t.deletions, 'deletion'],
    ]);
    this.roles = new TopicRoles(t);
    this.slot = new ModelSlot(newModel(deps.config, deps.tombstoneKey));
    this.replicas = new Replicas({
      offsets: deps.offsets,
      groupId: deps.config.kafka.groupId,
      inputTopics: this.roles.inputs,
      snapshots: deps.snapshots,
      progress: deps.progress,
      instanceId: deps.instanceId,
      log: this.log,
      stopping: this.isStopping,
    });
    const parts = engineParts(deps, {
      log: this.log,
      positions: this.positions,
      flushes: new FlushRunner(),
      replicas: this.replicas,
      topics: this.roles,
      slot: this.slot,
      stopping: this.isStopping,
      enqueue: this.enqueueGuarded,
      idleContext: () => this.idleContext(),
    });
    ({ intake: this.intake, publisher: this.publisher, live: this.live } = parts);
    this.lifecycle = new Lifecycle({
      ...deps,
      queue: this.queue,
      positions: this.positions,
      replicas: this.replicas,
      live: this.live,
      intake: this.intake,
      rebuildDeps: parts.rebuildDeps,
      topics: this.roles,
      slot: this.slot,
      idleContext: () => this.idleContext(),
      stopping: this.isStopping,
    });
    this.monitor = new HealthMonitor(
      {
        offsets: deps.offsets,
        positions: () => this.positions.offsets(this.isInput),
        noteHighWatermark: (tp, offset) => this.positions.noteHighWatermark(tp, offset),
        live: () => this.lifecycle.phase === 'live',
        ready: () => this.lifecycle.phase === 'live',
        notReadyReason: () => this.lifecycle.notReadyReason(),
        inputsPaused: () => this.inputsPaused,
        busy: () => this.queue.busy,
        lastBatchAt: () => this.lastBatchAt,
        outputsStuckMs: () => this.publisher.stuckMs(),
        log: this.log,
      },
      deps.config.health,
    );
    this.router = this.routerFor(deps.consumer);
  }

  /** Where batches fetched by `consumer` go (its seeks go back to it). */
  private routerFor(consumer: ConsumerPort): BatchRouter {
    return new BatchRouter({
      host: {
        phase: () => this.lifecycle.phase,
        rebuild: () => this.lifecycle.rebuild,
        finishRebuild: (ctl) => this.lifecycle.finishRebuild(ctl),
        blockForRetention: () => this.lifecycle.block('retention'),
        afterLiveBatch: () => this.expireTombstones(),
        inputGap: (tp, kind, lost) => this.lifecycle.inputGap(tp, kind, lost),
      },
      kinds: this.kinds,
      positions: this.positions,
      consumer,
      offsets: this.deps.offsets,
      intake: this.intake,
      live: this.live,
      log: this.log,
      stopping: this.isStopping,
    });
  }

  get model(): Model {
    return this.lifecycle.model;
  }

  get phase(): Phase {
    return this.lifecycle.phase;
  }

  /** When this instance was last given the active role (undefined: it does not hold it). */
  get activeSince(): number | undefined {
    return this.lifecycle.activeSince;
  }

  /** The topics the group consumer subscribes to. */
  get topics(): string[] {
    return [...this.roles.all];
  }

  /** What work outside a batch runs with: the latest batch's heartbeat, the stopping flag. */
  private idleContext(): PublishContext {
    return { heartbeat: this.heartbeat, stopping: this.isStopping };
  }

  onPhase(listener: (p: Phase) => void): () => void {
    return this.lifecycle.onPhase(listener);
  }

  /** kafkajs GROUP_JOIN: runs synchronously, before the first fetch of the new generation. */
  onAssignment(assignment: Record<string, number[]>, memberId?: string): void {
    this.lifecycle.onAssignment(assignment, memberId);
  }

  // ------------------------------------------------------------------ batches

  /** The kafkajs eachBatch handler. */
  readonly eachBatch = (payload: EachBatchPayload): Promise<void> =>
    this.eachBatchOf(inputBatch(payload), batchControl(payload));

  /**
   * Handles one fetched batch in the serial queue. A delivery the batch triggers (a full or due
   * chunk, a deletion's fast path, the end of a rebuild) may find our producer fenced like any other:
   * handled here, never thrown to kafkajs (a non-retriable error there crashes the consumer for good).
   */
  async eachBatchOf(batch: InputBatch, ctl: BatchControl): Promise<void> {
    this.lastBatchAt = Date.now();
    const lane = this.laneOf(batch.topic);
    const guarded = (task: () => Promise<void>) => this.queue.run(() => this.lifecycle.guarded(task), lane);
    try {
      await guarded(() => {
        this.heartbeat = () => ctl.heartbeat().catch(() => undefined);
        return this.router.route(batch, ctl);
      });
      // Due chunks, one queue task each: a deletion request read meanwhile goes between two.
      const ctx = this.live.contextOf(ctl);
      let more = this.lifecycle.phase === 'live';
      while (more) {
        more = false;
        await guarded(async () => {
          more = this.lifecycle.phase === 'live' && (await this.live.flushDue(ctx));
        });
      }
    } finally {
      this.lastBatchAt = Date.now();
    }
  }

  /** Deletions go ahead of queued chunks: only their user's held events must go first (live.ts). */
  private laneOf(topic: string): Lane {
    return this.kinds.get(topic) === 'deletion' ? 'urgent' : 'deferrable';
  }

  /** The lane's batches (deletion-lane.ts), taken at the task's start: while live, one delivery. */
  laneBatchesOf(take: () => readonly LaneBatch[]): Promise<void> {
    return this.queue.run(() => {
      const batches = take();
      const router = this.laneRouter;
      if (!router) return Promise.resolve();
      return this.lifecycle.guarded(() =>
        this.live.deletionsTogether(this.idleContext(), async () => {
          for (const { batch, ctl } of batches)
            if (this.lifecycle.phase === 'live' && this.kinds.get(batch.topic) === 'deletion')
              await router.route(batch, ctl);
        }),
      );
    }, 'urgent');
  }

  /** The deletion lane's consumer: its seeks, and paused with the inputs. */
  attachLane(lane: ConsumerPort): void {
    this.lane = lane;
    this.laneRouter = this.routerFor(lane);
    if (this.inputsPaused) lane.pause([...this.kinds.keys()]);
  }

  /** Where the deletion lane starts reading: the positions of the deletion partitions held. */
  deletionPositions(): PartitionOffset[] {
    return this.positions.offsets((topic) => this.kinds.get(topic) === 'deletion');
  }

  private expireTombstones(): void {
    if (Date.now() - this.lastTombstoneExpiry <= TOMBSTONE_EXPIRY_EVERY_MS) return;
    this.lastTombstoneExpiry = Date.now();
    this.lifecycle.model.expireTombstones(this.lastTombstoneExpiry);
  }

  /** Resolves once every task queued so far (batches, transitions, flushes) has ended. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  // ------------------------------------------------------------------ health and figures

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

  /** Lag per held input partition: the last seen high watermark minus the next offset to apply. */
  consumerLag(): PartitionLag[] {
    if (this.lifecycle.phase !== 'live' && this.lifecycle.phase !== 'rebuilding') return [];
    return this.positions.lag(this.isInput);
  }

  /** Record timestamp (epoch ms) of the newest input record applied live. */
  lastEventTime(): number | undefined {
    return this.live.lastEventTime;
  }

  // ------------------------------------------------------------------ snapshots (SnapshotSource)

  /**
   * Runs `take` in the serial queue at a batch boundary: everything applied is flushed, published
   * and committed, so the state reflects every record before the positions and none after.
   * Undefined unless live.
   */
  atBoundary<T>(take: BoundaryCapture<T>): Promise<T | undefined> {
    return this.queue.run(async () => {
      if (this.lifecycle.phase !== 'live') return undefined;
      await this.lifecycle.guarded(() => this.live.flush(this.idleContext()), true);
      if (this.lifecycle.phase !== 'live' || this.live.pendingEvents > 0) return undefined;
      const { model } = this.lifecycle;
      const { intake } = this;
      return take(
        () => model.exportState(),
        this.positions.offsets(this.isInput),
        () => intake.exportDedup(),
      );
    });
  }

  /** The snapshot-holder lease lapsed: no snapshot until our role is checked again (lifecycle.ts). */
  recheckRole(): Promise<void> {
    this.roleInDoubt = true;
    return this.queue
      .run(() => this.lifecycle.guarded(() => this.lifecycle.recheckRole()))
      .catch((e: unknown) => this.log.warn({ err: describeError(e) }, 'checking our role failed'))
      .finally(() => {
        this.roleInDoubt = false;
      });
  }

  othersHoldNoSnapshots(): Promise<boolean> {
    return this.replicas.othersHoldNoSnapshots();
  }

  /** Publishes PURGED receipts (with the outputs' guarantees) once no snapshot on disk holds the users. */
  publishPurged(purges: readonly PendingPurge[]): Promise<void> {
    return this.queue.run(async () => {
      const now = Date.now();
      for (const p of purges) {
        const { requestId, interactionsRemoved, itemsAffected, recordMs } = p;
        const receipt = {
          requestId,
          status: 'PURGED' as const,
          interactionsRemoved,
          itemsAffected,
          completedAt: now,
        };
        this.deps.outbox.addReceipt(receipt, recordMs);
      }
      await this.lifecycle.guarded(() => this.publisher.publish(this.idleContext()), true);
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
    for (const c of this.lane ? [this.deps.consumer, this.lane] : [this.deps.consumer])
      if (paused) c.pause(topics);
      else c.resume(topics);
  }

  /** Publishes and commits whatever has been applied but not flushed yet (shutdown). */
  flushNow(): Promise<void> {
    return this.queue.run(async () => {
      if (this.lifecycle.phase === 'live') await this.live.flush(this.idleContext());
    });
  }

  /** After the consumer has stopped: a last attempt at anything still unpublished. */
  finishStop(): Promise<void> {
    return this.queue.run(async () => {
      if (this.lifecycle.phase === 'live') {
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
      this.lifecycle.setPhase('stopped');
    });
  }
}
