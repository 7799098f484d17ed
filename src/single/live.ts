// Live processing. Interaction records are decoded as they are fetched and held in arrival order
// (with the dead letters among them) until a flush applies them to the model, flushes it and
// delivers its lists with the input positions they reflect. A flush is due when the chunk is full,
// when it has lingered BATCH_MAX_MS, at a snapshot boundary and at shutdown; during a catch-up
// (the lag summed over the held partitions above BATCH_MAX_EVENTS) chunks grow so that each flush
// takes about CATCHUP_FLUSH_MS and linger as long, so that a backlog costs about one retrain and
// publishes about one list per item (a bulk flush sweeps the catalogue whatever the chunk's size).
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
import type { InputKind, Interaction } from '../input/codec.js';
import type { FlushRunner } from './flush-runner.js';
import { CountsByTopic, type Intake } from '../input/intake.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { Outbox, PendingReceipt } from '../output/outbox.js';
import { PartitionMap, type PartitionOffset, type TopicPartition } from '../kafka/partitions.js';
import type { BatchControl } from '../kafka/ports.js';
import type { Positions } from '../kafka/positions.js';
import type { PublishContext, Publisher } from '../output/publisher.js';
import type { DecodeFailure } from '../output/reasons.js';

export interface LiveDeps {
  readonly batch: {
    readonly maxEvents: number;
    readonly maxMs: number;
    /** Latency budget of one flush while catching up (chunks grow up to it). */
    readonly catchUpFlushMs: number;
  };
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
  readonly enqueue: (task: () => Promise<void>) => Promise<void>;
  /** Context for work outside a batch (timer): heartbeat of the latest batch, stopping flag. */
  readonly idleContext: () => PublishContext;
  readonly now?: () => number;
}

/** A held interaction record: the decoded event, or the reason it goes to the DLQ. */
interface Held {
  readonly tp: TopicPartition;
  readonly offset: number;
  readonly recordMs: number;
  readonly event?: Interaction;
  readonly dead?: { readonly m: KafkaMessage; readonly failure: DecodeFailure };
}

/** Longest run of applying held events before the event loop gets a turn. */
const APPLY_SLICE_MS = 20;

/** Most events one flush takes during a catch-up, whatever the measured speed. */
const CATCH_UP_MAX_EVENTS = 2_000_000;

export class Live {
  private held: Held[] = [];
  private since = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastEventMs: number | undefined;
  /** Measured cost of flushing, ms per event (exponentially smoothed); sizes catch-up chunks. */
  private msPerEvent = 0.05;
  /** Records behind the newest batch of each interaction partition: their sum says "catching up". */
  private readonly lags = new PartitionMap<number>();

  constructor(private readonly deps: LiveDeps) {}

  /** Interaction records read but not applied yet. */
  get pendingEvents(): number {
    return this.held.length;
  }

  /** Record timestamp (epoch ms) of the newest input record handled live. */
  get lastEventTime(): number | undefined {
    return this.lastEventMs;
  }

  /** Drops what is held (the state is being replaced). */
  reset(): void {
    this.cancelTimer();
    this.held = [];
    this.lags.clear();
  }

  /** Records still to read on the interaction partitions, as of each one's newest batch. */
  private totalLag(): number {
    let sum = 0;
    for (const [, lag] of this.lags) sum += lag;
    return sum;
  }

  /** The linger now: BATCH_MAX_MS, or the catch-up budget while the lag is large. */
  private lingerMs(behind = this.totalLag()): number {
    const { maxEvents, maxMs, catchUpFlushMs } = this.deps.batch;
    return behind > maxEvents ? Math.max(maxMs, catchUpFlushMs) : maxMs;
  }

  /** The chunk size now: BATCH_MAX_EVENTS, or more while the lag is large. */
  chunkLimit(lag: number): number {
    const { maxEvents, catchUpFlushMs } = this.deps.batch;
    if (lag <= maxEvents) return maxEvents;
    const byBudget = Math.floor(catchUpFlushMs / Math.max(this.msPerEvent, 1e-4));
    return Math.min(CATCH_UP_MAX_EVENTS, Math.max(maxEvents, byBudget));
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
    const ctx = {
      heartbeat: () => ctl.heartbeat(),
      stopping: () => !ctl.isRunning() || this.deps.idleContext().stopping(),
    };
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
        this.applyHeldOf(a.deletion.userId, recordMs, counts);
        counts.of(tp.topic).add('applied');
        receipts.push({ receipt: intake.forget(a.deletion, recordMs), recordMs });
      }
      counts.report(this.deps.metrics);
      positions.set(tp, end + 1);
      ctl.resolveOffset(end);
      await this.deliver(receipts, ctx, 'deletions');
      return;
    }
    if (this.held.length === 0) this.since = performance.now();
    for (const m of messages) {
      const d = intake.decode('interaction', m);
      const base = { tp, offset: Number(m.offset), recordMs: Number(m.timestamp) };
      this.held.push(d.ok ? { ...base, event: d.value } : { ...base, dead: { m, failure: d } });
    }
    positions.set(tp, end + 1);
    this.lags.set(tp, Math.max(0, lag));
    // kafkajs may fetch on; the commit waits for the flush that publishes these changes.
    ctl.resolveOffset(end);
    const behind = this.totalLag();
    const due =
      this.held.length >= this.chunkLimit(behind) ||
      performance.now() - this.since >= this.lingerMs(behind) ||
      ctx.stopping();
    if (due) await this.flush(ctx);
    else {
      // The linger may have changed with the lag (a catch-up seen, or over): time it afresh.
      this.cancelTimer();
      this.scheduleFlush();
    }
  }

  /** Applies the held interactions of `userId` recorded no later than `recordMs` (before their deletion). */
  private applyHeldOf(userId: string, recordMs: number, counts: CountsByTopic): void {
    if (this.held.length === 0) return;
    const keep: Held[] = [];
    for (const h of this.held) {
      if (h.event !== undefined && h.event.userId === userId && h.recordMs <= recordMs) {
        this.deps.intake.interaction(h.event, counts.of(h.tp.topic));
      } else keep.push(h);
    }
    if (keep.length !== this.held.length) this.held = keep;
  }

  /** A flush after the linger even if no input comes (a refused delivery left outputs behind). */
  flushSoon(): void {
    if (this.held.length === 0) this.since = performance.now();
    this.scheduleFlush();
  }

  /** A flush at the end of the linger window, if no batch triggers one before. */
  private scheduleFlush(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.since + this.lingerMs() - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.deps
        .enqueue(() => this.flush(this.deps.idleContext()))
        .catch((e: unknown) =>
          this.deps.log.error({ err: e instanceof Error ? e.message : String(e) }, 'timed flush failed'),
        );
    }, wait);
  }

  private cancelTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Applies everything held, flushes the model and delivers its outputs with the positions. */
  async flush(ctx: PublishContext): Promise<void> {
    this.cancelTimer();
    const held = this.held;
    this.held = [];
    const counts = new CountsByTopic();
    // Applying is cheap per event but a big chunk (or a user at the cap, whose oldest items leave)
    // adds up: yield to the event loop (and heartbeat) every SLICE_MS.
    let sliceStart = performance.now();
    for (let k = 0; k < held.length; k++) {
      const h = held[k]!;
      if (h.event !== undefined) this.deps.intake.interaction(h.event, counts.of(h.tp.topic));
      else if (h.dead !== undefined)
        this.deps.intake.deadLetter(h.tp, h.dead.m, h.dead.failure, counts.of(h.tp.topic));
      if ((k & 255) === 255 && performance.now() - sliceStart > APPLY_SLICE_MS) {
        await ctx.heartbeat?.();
        await nextTurn();
        sliceStart = performance.now();
      }
    }
    counts.report(this.deps.metrics);
    await this.deliver([], ctx, held.length > 0 ? 'chunk' : 'positions', held.length);
  }

  /** Model flush → outbox → delivery with the committable positions. */
  private async deliver(
    receipts: readonly PendingReceipt[],
    ctx: PublishContext,
    what: 'chunk' | 'deletions' | 'positions',
    events = 0,
  ): Promise<void> {
    const { outbox, publisher, metrics, log, flushes } = this.deps;
    const now = (this.deps.now ?? Date.now)();
    const f0 = performance.now();
    const report = await flushes.run(this.deps.model(), now, ctx);
    outbox.stage(report, receipts, now);
    const f1 = performance.now();
    await publisher.publish(ctx, this.committable());
    if (what === 'positions' && report.changed.length === 0 && receipts.length === 0) return;
    if (events > 0) {
      this.msPerEvent = 0.7 * this.msPerEvent + (0.3 * (f1 - f0)) / events;
      metrics.batchSize.observe(events);
      metrics.batchDuration.observe((performance.now() - this.since) / 1000);
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
    for (const h of this.held) if (!firstHeld.has(h.tp)) firstHeld.set(h.tp, h.offset);
    return this.deps.positions.offsets(this.deps.isInput).map((o) => {
      const f = firstHeld.get(o);
      return f === undefined ? o : { ...o, offset: Math.min(o.offset, f) };
    });
  }
}
