// Live processing: fetched records are applied to the model as they come and their outputs published
// in flushes. A flush ends a chunk: one model flush for everything applied since the last one, its
// lists, tombstones, receipts and dead letters delivered with the input positions they reflect.
// Lingering up to BATCH_MAX_MS (or BATCH_MAX_EVENTS) lets a backlog publish each changed list once
// per chunk instead of once per fetch; a deletion request flushes at once, so its receipt does not
// wait for the window.
import type { KafkaMessage } from 'kafkajs';
import type { Model } from '../model/index.js';
import type { Logger } from '../log.js';
import type { InputKind } from './codec.js';
import { OutcomeCounts, type Intake } from './intake.js';
import type { Metrics } from './metrics.js';
import type { Outbox, PendingReceipt } from './outbox.js';
import type { TopicPartition } from './partitions.js';
import type { BatchControl } from './ports.js';
import type { Positions } from './positions.js';
import type { PublishContext, Publisher } from './publisher.js';

export interface LiveDeps {
  readonly batch: { readonly maxEvents: number; readonly maxMs: number };
  readonly intake: Intake;
  readonly outbox: Outbox;
  readonly publisher: Publisher;
  readonly positions: Positions;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly model: () => Model;
  /** Runs a task in the engine's serial queue (the linger timer's flush). */
  readonly enqueue: (task: () => Promise<void>) => Promise<void>;
  readonly stopping: () => boolean;
  readonly now?: () => number;
}

export class Live {
  /** Applied since the last flush: not yet published, not yet committed. */
  private events = 0;
  private since = 0;
  private receipts: PendingReceipt[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastEventMs: number | undefined;

  constructor(private readonly deps: LiveDeps) {}

  /** Events applied but not flushed yet. */
  get pendingEvents(): number {
    return this.events;
  }

  /** Record timestamp (epoch ms) of the newest input record applied live. */
  get lastEventTime(): number | undefined {
    return this.lastEventMs;
  }

  /** Drops what is pending (the state is being replaced). */
  reset(): void {
    this.cancelTimer();
    this.events = 0;
    this.since = 0;
    this.receipts = [];
  }

  /** Applies records (at or after the position) in chunks, flushing when one is due. */
  async onBatch(
    tp: TopicPartition,
    kind: InputKind,
    messages: readonly KafkaMessage[],
    ctl: BatchControl,
  ): Promise<void> {
    const { batch, intake, positions, metrics } = this.deps;
    let idx = 0;
    while (idx < messages.length) {
      if (!ctl.isRunning() || ctl.isStale()) break;
      const counts = new OutcomeCounts();
      const end = Math.min(messages.length, idx + Math.max(1, batch.maxEvents - this.events));
      if (this.events === 0) this.since = performance.now();
      for (; idx < end; idx++) this.apply(tp, kind, messages[idx]!, intake, counts);
      const last = Number(messages[idx - 1]!.offset);
      positions.set(tp, last + 1);
      // kafkajs may fetch on; the commit waits for the flush that publishes these changes.
      ctl.resolveOffset(last);
      this.events += counts.total;
      counts.report(metrics, tp.topic);
      const due =
        this.receipts.length > 0 ||
        this.events >= batch.maxEvents ||
        performance.now() - this.since >= batch.maxMs ||
        this.deps.stopping();
      if (due)
        await this.flush({
          heartbeat: () => ctl.heartbeat(),
          stopping: () => this.deps.stopping() || !ctl.isRunning(),
        });
      else this.scheduleFlush();
    }
  }

  private apply(
    tp: TopicPartition,
    kind: InputKind,
    m: KafkaMessage,
    intake: Intake,
    counts: OutcomeCounts,
  ): void {
    const recordMs = Number(m.timestamp);
    if (this.lastEventMs === undefined || recordMs > this.lastEventMs) this.lastEventMs = recordMs;
    if (kind === 'interaction') {
      const d = intake.decode('interaction', m);
      if (d.ok) intake.interaction(d.value, counts);
      else intake.deadLetter(tp, m, d, counts);
      return;
    }
    const d = intake.decode('deletion', m);
    if (!d.ok) {
      intake.deadLetter(tp, m, d, counts);
      return;
    }
    counts.add('applied');
    this.receipts.push({ receipt: intake.forget(d.value, recordMs), recordMs });
  }

  /** A flush at the end of the linger window, if no batch triggers one before. */
  private scheduleFlush(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.since + this.deps.batch.maxMs - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.deps
        .enqueue(() => this.flush({ stopping: this.deps.stopping }))
        .catch((e: unknown) =>
          this.deps.log.error({ err: e instanceof Error ? e.message : String(e) }, 'timed flush failed'),
        );
    }, wait);
  }

  private cancelTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Flushes the model, stages its outputs and publishes them with the positions. */
  async flush(ctx: PublishContext): Promise<void> {
    this.cancelTimer();
    const { outbox, metrics, publisher, log } = this.deps;
    const { events, since, receipts } = this;
    if (events === 0 && receipts.length === 0 && outbox.size === 0) {
      await publisher.publish(ctx); // positions of records that changed nothing
      return;
    }
    this.events = 0;
    this.receipts = [];
    const now = (this.deps.now ?? Date.now)();
    const f0 = performance.now();
    const report = this.deps.model().flush(now);
    outbox.stage(report, receipts, now);
    const f1 = performance.now();
    await publisher.publish(ctx);
    log.debug(
      {
        events,
        lists: report.changed.length,
        tombstones: report.removed.length,
        receipts: receipts.length,
        lingerMs: Math.round(f0 - since),
        flushMs: Math.round(f1 - f0),
        publishMs: Math.round(performance.now() - f1),
      },
      'chunk flushed',
    );
    if (events > 0) {
      metrics.batchSize.observe(events);
      metrics.batchDuration.observe((performance.now() - since) / 1000);
    }
  }
}
