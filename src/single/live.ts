// Live processing. Interaction records are decoded as they are fetched and held in arrival order
// (with the dead letters among them) until a flush applies them to the model, flushes it and
// delivers its lists with the input positions they reflect. A flush is due when the chunk is full,
// when it has lingered, at a snapshot boundary and at shutdown; chunk size and linger follow the
// shared policy (input/chunk-policy.ts) on the lag summed over the held partitions.
//
// Deletion requests take a fast path: each is applied at once — after the held interactions of the
// same user recorded no later than it (the order a replay would use, see replay-order.ts) — and its
// changed lists and receipt go out in a small delivery of their own, without waiting for the chunk.
// The offsets committed never pass a held record: positions of partitions with held records stop
// at the first of them.
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { KafkaMessage } from 'kafkajs';
import type { Logger } from '../log.js';
import type { Model } from '../model/index.js';
import type { InputKind } from '../input/codec.js';
import { applyChunk, HeldRecords, type HeldSink } from '../input/held.js';
import { ChunkPolicy, type BatchSettings } from '../input/chunk-policy.js';
import type { FlushRunner } from './flush-runner.js';
import { CountsByTopic, type Intake } from '../input/intake.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { ForgetEffects } from '../output/forget-effects.js';
import type { Outbox, PendingReceipt } from '../output/outbox.js';
import { PartitionMap, type PartitionOffset, type TopicPartition } from '../kafka/partitions.js';
import type { BatchControl } from '../kafka/ports.js';
import type { Positions } from '../kafka/positions.js';
import type { Lane } from '../kafka/serial-queue.js';
import type { PublishContext, Publisher } from '../output/publisher.js';

export interface LiveDeps {
  readonly batch: BatchSettings;
  readonly intake: Intake;
  readonly outbox: Outbox;
  readonly publisher: Publisher;
  readonly positions: Positions;
  readonly flushes: FlushRunner;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly model: () => Model;
  readonly isInput: (topic: string) => boolean;
  /** Runs a task in the engine's serial queue (the linger timer's flush). */
  readonly enqueue: (task: () => Promise<void>, lane?: Lane) => Promise<void>;
  /** Context for work outside a batch (timer): heartbeat of the latest batch, stopping flag. */
  readonly idleContext: () => PublishContext;
  readonly now?: () => number;
  /** What each forget changed (the query API's /forgets routes), when kept. */
  readonly effects?: ForgetEffects | undefined;
}

export class Live {
  private readonly held = new HeldRecords<TopicPartition>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastEventMs: number | undefined;
  private readonly chunks: ChunkPolicy;
  /** Records behind the newest batch of each interaction partition: their sum says "catching up". */
  private readonly lags = new PartitionMap<number>();
  /** While deletionsTogether runs: the receipts of the requests applied, delivered at its end. */
  private together: PendingReceipt[] | undefined;

  constructor(private readonly deps: LiveDeps) {
    this.chunks = new ChunkPolicy(deps.batch);
  }

  /** Interaction records read but not applied yet. */
  get pendingEvents(): number {
    return this.held.size;
  }

  /** Record timestamp (epoch ms) of the newest input record handled live. */
  get lastEventTime(): number | undefined {
    return this.lastEventMs;
  }

  /** Drops what is held (the state is being replaced). */
  reset(): void {
    this.cancelTimer();
    this.held.clear();
    this.lags.clear();
  }

  /** Records still to read on the interaction partitions, as of each one's newest batch. */
  private totalLag(): number {
    let sum = 0;
    for (const [, lag] of this.lags) sum += lag;
    return sum;
  }

  /** The linger now (see chunk-policy.ts). */
  private lingerMs(behind = this.totalLag()): number {
    return this.chunks.lingerMs(behind);
  }

  /** The chunk size now (see chunk-policy.ts). */
  chunkLimit(lag: number): number {
    return this.chunks.chunkLimit(lag);
  }

  /** Takes records (at or after the position); flushes when a chunk is due. */
  async onBatch(
    tp: TopicPartition,
    kind: InputKind,
    messages: readonly KafkaMessage[],
    ctl: BatchControl,
    end: number,
    lag: number,
  ): Promise<void> {
    const { positions, intake } = this.deps;
    const ctx = this.contextOf(ctl);
    for (const m of messages) {
      const recordMs = Number(m.timestamp);
      if (this.lastEventMs === undefined || recordMs > this.lastEventMs) this.lastEventMs = recordMs;
    }
    if (kind === 'deletion') {
      const counts = new CountsByTopic();
      const receipts: PendingReceipt[] = [];
      for (const m of messages) {
        const a = intake.answerDeletion(tp, m, counts.of(tp.topic));
        const recordMs = Number(m.timestamp);
        if ('rejected' in a) {
          receipts.push({ receipt: a.rejected, recordMs });
          continue;
        }
        this.held.applyUserBefore(a.deletion.userId, recordMs, this.sink(counts));
        counts.of(tp.topic).add('applied');
        receipts.push({ receipt: intake.forget(a.deletion, recordMs), recordMs });
      }
      counts.report(this.deps.metrics);
      positions.set(tp, end + 1);
      ctl.resolveOffset(end);
      this.chunks.noteDeletion();
      if (this.together) this.together.push(...receipts);
      else await this.deliver(receipts, ctx, 'deletions');
      return;
    }
    for (const m of messages) this.held.hold(tp, m, intake.decode('interaction', m));
    positions.set(tp, end + 1);
    this.lags.set(tp, Math.max(0, lag));
    // kafkajs may fetch on; the commit waits for the flush that publishes these changes.
    ctl.resolveOffset(end);
    // A due chunk is flushed by flushDue(), in a queue task of its own (the engine's eachBatch).
    if (!this.due(ctx)) {
      // The linger may have changed with the lag (a catch-up seen, or over): time it afresh.
      this.cancelTimer();
      this.scheduleFlush();
    }
  }

  /**
   * Runs `route` (several deletion batches: the lane's, deletion-lane.ts) and delivers the receipts
   * of every request it applied in one delivery — also when it failed part way, so that a request
   * applied is never left unanswered (its receipt stays in the outbox if the delivery fails).
   */
  async deletionsTogether(ctx: PublishContext, route: () => Promise<void>): Promise<void> {
    const receipts: PendingReceipt[] = [];
    this.together = receipts;
    try {
      await route();
    } finally {
      this.together = undefined;
      if (receipts.length > 0) await this.deliver(receipts, ctx, 'deletions');
    }
  }

  /** Context for work within a batch: its heartbeat; stopping when the consumer or the engine is. */
  contextOf(ctl: BatchControl): PublishContext {
    return {
      heartbeat: () => ctl.heartbeat(),
      stopping: () => !ctl.isRunning() || this.deps.idleContext().stopping(),
    };
  }

  /** A chunk is due: full, lingered, or the consumer stopping. */
  private due(ctx: PublishContext): boolean {
    if (this.held.size === 0) return false;
    const behind = this.totalLag();
    return (
      this.held.size >= this.chunkLimit(behind) ||
      performance.now() - this.held.since >= this.lingerMs(behind) ||
      ctx.stopping()
    );
  }

  /**
   * Flushes one chunk if one is due: what is held, or while deletion requests arrive at most
   * chunkLimit() records, oldest first (the rest stay held, their linger running). True when it
   * flushed: the caller asks again, each time in a queue task of its own, so that a deletion request
   * read meanwhile goes between two chunks.
   */
  async flushDue(ctx: PublishContext): Promise<boolean> {
    if (!this.due(ctx)) return false;
    await this.flush(ctx, this.cutLimit(ctx));
    return true;
  }

  /** How much one flush takes: all that is held, or a cut chunk while deletion requests arrive. */
  private cutLimit(ctx: PublishContext): number {
    return this.chunks.cutForDeletions() && !ctx.stopping() ? this.chunkLimit(this.totalLag()) : Infinity;
  }

  /** Applied held records go to the model (interactions) or the outbox (dead letters), counted. */
  private sink(counts: CountsByTopic): HeldSink<TopicPartition> {
    const { intake } = this.deps;
    return {
      interaction: (e, tp) => intake.interaction(e, counts.of(tp.topic)),
      deadLetter: (tp, m, failure) => intake.deadLetter(tp, m, failure, counts.of(tp.topic)),
    };
  }

  /** A flush after the linger even if no input comes (a refused delivery left outputs behind). */
  flushSoon(): void {
    this.held.restartLinger();
    this.scheduleFlush();
  }

  /** A flush at the end of the linger window, if no batch triggers one before. */
  private scheduleFlush(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.held.since + this.lingerMs() - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.deps
        .enqueue(() => {
          const ctx = this.deps.idleContext();
          return this.flush(ctx, this.cutLimit(ctx));
        }, 'deferrable')
        .catch((e: unknown) =>
          this.deps.log.error({ err: e instanceof Error ? e.message : String(e) }, 'timed flush failed'),
        );
    }, wait);
  }

  private cancelTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Applies what is held (at most `limit` records), flushes the model, delivers with the positions. */
  async flush(ctx: PublishContext, limit = Infinity): Promise<void> {
    this.cancelTimer();
    const since = this.held.since;
    const held = this.held.take(limit);
    const counts = new CountsByTopic();
    await applyChunk(held, this.sink(counts), () => ctx.heartbeat?.() ?? Promise.resolve());
    counts.report(this.deps.metrics);
    await this.deliver([], ctx, held.length > 0 ? 'chunk' : 'positions', held.length, since);
    if (this.held.size > 0) this.scheduleFlush();
  }

  /** Model flush → outbox → delivery with the committable positions. */
  private async deliver(
    receipts: readonly PendingReceipt[],
    ctx: PublishContext,
    what: 'chunk' | 'deletions' | 'positions',
    events = 0,
    since = performance.now(),
  ): Promise<void> {
    const { outbox, publisher, metrics, log, flushes } = this.deps;
    const now = (this.deps.now ?? Date.now)();
    const f0 = performance.now();
    const forgets = what === 'deletions' && this.deps.effects?.enabled ? this.deps.effects : undefined;
    // The delivery's transaction and offsets get going while the model flushes (one turn lets
    // its first request out before the flush's first slice). Not for a catch-up's chunk: its
    // flush may take CATCHUP_FLUSH_MS, and an open transaction must not come near its timeout.
    if (what !== 'chunk' || !this.chunks.catchingUp(this.totalLag())) {
      publisher.prepare(this.committable());
      await nextTurn();
    }
    const report = await flushes.run(this.deps.model(), now, ctx, { previous: forgets !== undefined });
    outbox.stage(report, receipts, now);
    const f1 = performance.now();
    // Read again, not reused from the prepare: a group join may release the positions meanwhile
    // (lifecycle.ts onAssignment runs outside the queue); a prepared delivery that no longer
    // matches is aborted by the sink.
    await publisher.publish(ctx, this.committable());
    // Noted once delivered (not before: it would delay the receipts, and a failed delivery is
    // carried out again). The deletion fast path flushes nothing but its requests (and their
    // users' held events).
    forgets?.record(
      receipts.filter((r) => r.receipt.status === 'FORGOTTEN').map((r) => r.receipt.requestId),
      report,
      now,
    );
    if (what === 'positions' && report.changed.length === 0 && receipts.length === 0) return;
    if (events > 0) {
      this.chunks.noteFlush(f1 - f0, events);
      metrics.batchSize.observe(events);
      metrics.batchDuration.observe((performance.now() - since) / 1000);
    }
    log.debug(
      {
        what,
        events,
        lists: report.changed.length,
        tombstones: report.removed.length,
        receipts: receipts.length,
        flushMs: Math.round(f1 - f0),
        publishMs: Math.round(performance.now() - f1),
      },
      'outputs delivered',
    );
  }

  /** Input positions safe to commit: never past a held record. */
  private committable(): PartitionOffset[] {
    const firstHeld = new PartitionMap<number>();
    for (const h of this.held.records) if (!firstHeld.has(h.where)) firstHeld.set(h.where, h.offset);
    return this.deps.positions.offsets(this.deps.isInput).map((o) => {
      const f = firstHeld.get(o);
      return f === undefined ? o : { ...o, offset: Math.min(o.offset, f) };
    });
  }
}
