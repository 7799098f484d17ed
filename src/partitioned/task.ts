// What every task (one partition of a stage) shares: its transactional sink (its own transactional
// id, so that its next owner fences it), its positions in the topics it reads, the delivery of a
// flush's records with those positions in one transaction (kafka/delivery.ts, as the single mode), the linger
// timer, and the tick that makes its changelog's active segment roll when no traffic comes.
import type { KafkaMessage, Message } from 'kafkajs';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { PartitionOffset } from '../kafka/partitions.js';
import type { Outgoing, OutputSink } from '../kafka/ports.js';
import { Delivery } from '../kafka/delivery.js';
import { PartitionPositions } from '../kafka/positions.js';
import { ChunkPolicy } from '../input/chunk-policy.js';
import type { Pause } from './item-table.js';
import type { PartitionedMetrics, ProducedKind, StageName, TaskFigures } from './metrics.js';

export interface TaskDeps {
  readonly stage: StageName;
  readonly partition: number;
  readonly sink: OutputSink;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly pmetrics: PartitionedMetrics;
  readonly batch: Config['batch'];
  readonly tickMs: number;
  /** Runs work for this task in the stage's queue (fencing handled there). */
  readonly enqueue: (work: () => Promise<void>) => void;
  /** Heartbeats the stage's consumer and yields to the event loop (long work). */
  readonly pause: Pause;
  readonly stopping: () => boolean;
  readonly now?: () => number;
  /** TOMBSTONE_KEY's fingerprint, recorded in the changelog. */
  readonly keyFingerprint: string;
}

/** A record to produce, tagged with its kind for the volume metrics. */
export interface TaggedRecord extends Outgoing {
  readonly kind: ProducedKind;
}

export function record(
  kind: ProducedKind,
  topic: string,
  partition: number | undefined,
  key: string | null,
  value: Buffer | string | null,
  extra: Partial<Message> = {},
): TaggedRecord {
  const bytes = (key === null ? 0 : Buffer.byteLength(key)) + (value === null ? 0 : Buffer.byteLength(value));
  const message: Message = { key, value, ...(partition !== undefined ? { partition } : {}), ...extra };
  return { kind, topic, message, bytes: bytes + 64 };
}

export const TICK_KEY = '~';
/**
 * The changelog record holding the input positions a transaction commits, beside the state it
 * commits: a restore takes its start from it, not from the group's offsets, which something outside
 * the transaction can overwrite (a client resetting an out-of-range position, offsets expired while
 * the group was empty) and then the inputs after it would be applied twice or skipped.
 */
export const POSITIONS_KEY = '~p';
/**
 * The changelog record holding TOMBSTONE_KEY's fingerprint (state/tombstone-key.ts), written with a
 * task's first delivery: a restore under another key blocks instead of matching nothing.
 */
export const KEY_FINGERPRINT_KEY = '~k';

export abstract class Task {
  phase: 'restoring' | 'live' = 'restoring';
  /** Next offset to read, last commit and high-water mark per topic of this task's partition. */
  readonly positions: PartitionPositions;
  stopped = false;
  private readonly delivery: Delivery;
  private readonly chunks: ChunkPolicy;
  private lastDelivery = 0;
  private fingerprintWritten = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  protected readonly log: Logger;

  constructor(protected readonly deps: TaskDeps) {
    this.positions = new PartitionPositions(deps.partition);
    this.log = deps.log.child({ module: `${deps.stage}-task`, partition: deps.partition });
    this.delivery = new Delivery(this.log, deps.metrics, () => this.now());
    this.chunks = new ChunkPolicy(deps.batch);
  }

  get partition(): number {
    return this.deps.partition;
  }

  protected now(): number {
    return (this.deps.now ?? Date.now)();
  }

  /** The task's changelog topic (its partition is the task's). */
  protected abstract get changelogTopic(): string;

  /** The topics whose positions this task commits. */
  abstract readonly inputs: readonly string[];
  abstract restoreRecord(key: string, value: string | null): void;
  abstract endRestore(): Promise<void>;
  /** After endRestore: why the restored state does not fit the configuration (the partition blocks), or undefined. */
  restoreRefusal(): string | undefined {
    return undefined;
  }
  /** Records (at or after the position) of one of its inputs, while live. */
  abstract onRecords(topic: string, messages: readonly KafkaMessage[]): Promise<void>;
  abstract flush(): Promise<void>;
  /** What the task holds and does (the stage adds where its restore stands). */
  abstract figures(): Omit<TaskFigures, 'restoreRemaining'>;
  /** Records that keep the changelog's (and deltas') segments rolling. */
  protected abstract tickRecords(now: number): TaggedRecord[];
  /** Periodic upkeep (every second, in the queue). */
  abstract periodic(now: number): Promise<void>;

  /** Milliseconds the current delivery has been failing (0 while outputs flow). */
  stuckMs(): number {
    return this.delivery.stuckMs();
  }

  lag(): number {
    return this.positions.lag(this.inputs);
  }

  /** Events (user stage) or ops (item stage) a flush may take now (input/chunk-policy.ts). */
  protected chunkLimit(): number {
    return this.chunks.chunkLimit(this.lag());
  }

  /** How long the first held event may wait now (input/chunk-policy.ts). */
  protected linger(): number {
    return this.chunks.lingerMs(this.lag());
  }

  /** A flush of `units` events or ops took `ms`: sizes the next catch-up chunk. */
  protected noteFlush(ms: number, units: number): void {
    this.chunks.noteFlush(ms, units);
  }

  protected inputOffsets(): PartitionOffset[] {
    return this.positions.offsets(this.inputs);
  }

  /** Delivers records with the input positions (or none) in one transaction; retried while retriable. */
  protected async deliver(records: readonly TaggedRecord[], withOffsets = true): Promise<void> {
    const offsets = withOffsets ? this.inputOffsets() : [];
    if (records.length === 0 && offsets.length === 0) return;
    if (offsets.length > 0) {
      const value = JSON.stringify(Object.fromEntries(offsets.map((o) => [o.topic, o.offset])));
      records = [...records, record('changelog', this.changelogTopic, this.partition, POSITIONS_KEY, value)];
      if (!this.fingerprintWritten)
        records = [
          ...records,
          record(
            'changelog',
            this.changelogTopic,
            this.partition,
            KEY_FINGERPRINT_KEY,
            this.deps.keyFingerprint,
          ),
        ];
    }
    const { pmetrics, stage } = this.deps;
    await this.delivery.run(() => this.deps.sink.deliver(records, offsets), {
      stopping: () => this.deps.stopping() || this.stopped,
      beforeWait: () => this.deps.pause(),
    });
    this.lastDelivery = this.now();
    this.positions.markCommitted(offsets);
    if (offsets.length > 0) this.fingerprintWritten = true;
    for (const r of records) {
      pmetrics.produced.inc({ stage, kind: r.kind });
      pmetrics.producedBytes.inc({ stage, kind: r.kind }, r.bytes - 64);
    }
  }

  /** A flush after `delayMs` unless one comes earlier. */
  protected scheduleFlush(delayMs: number): void {
    if (this.timer) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.deps.enqueue(() => this.flush());
      },
      Math.max(0, delayMs),
    );
    this.timer.unref?.();
  }

  protected cancelFlush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Appends a tick when nothing was written for tickMs, so that segments roll (purge bound). */
  protected async tickIfIdle(now: number): Promise<void> {
    if (now - this.lastDelivery < this.deps.tickMs) return;
    await this.deliver(this.tickRecords(now), false);
  }

  /** Starts the task's transactional producer: fences the previous owner, aborts its open transaction. */
  activate(): Promise<void> {
    return this.deps.sink.activate();
  }

  deactivate(): Promise<void> {
    return this.deps.sink.deactivate();
  }

  stop(): void {
    this.stopped = true;
    this.cancelFlush();
  }
}
