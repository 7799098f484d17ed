// Where a fetched batch goes. Checks first that it may be applied at all: its partition is held,
// the engine is rebuilding (with positions set) or live, and the batch starts at or before our
// position — a batch fetched past it (from the group's commits, or before a seek) is never applied
// across the gap: the consumer is sought back to our position instead (kafkajs would otherwise
// fetch the same offset forever) — or, when retention deleted the records between, the gap is
// recorded and the position moves on (kafka/retention.ts pastPosition: never a seek loop). Records
// below the position were applied already and are skipped;
// transaction markers and aborted records after it only move the position. Then: output topics feed
// a rebuild's reconcile, input topics the rebuild's replay or live processing.
import type { Logger } from '../log.js';
import type { InputKind } from '../input/codec.js';
import type { Intake } from '../input/intake.js';
import type { Live } from './live.js';
import type { BatchControl, ConsumerPort, InputBatch, OffsetsPort } from '../kafka/ports.js';
import type { TopicPartition } from '../kafka/partitions.js';
import { pastPosition } from '../kafka/retention.js';
import type { Positions } from '../kafka/positions.js';
import type { Rebuild } from './rebuild.js';

/** What the router needs of the engine: its phase and rebuild, and the transitions it may ask for. */
export interface RouterHost {
  readonly phase: () => string;
  readonly rebuild: () => Rebuild | undefined;
  finishRebuild(ctl: BatchControl | undefined): Promise<void>;
  /** Retention deleted deletion requests an interaction may predate: refuse to go on. */
  blockForRetention(): void;
  /** Live work done: periodic model upkeep (tombstone expiry). */
  afterLiveBatch(): void;
  /**
   * Retention deleted `lost` records of an input before they were read: counted and logged; false
   * when the instance must not go on (deletion requests, without ACCEPT_DELETION_GAP: it blocks).
   */
  inputGap(tp: TopicPartition, kind: InputKind, lost: number): boolean;
}

export interface RouterDeps {
  readonly host: RouterHost;
  readonly kinds: ReadonlyMap<string, InputKind>;
  readonly positions: Positions;
  readonly consumer: ConsumerPort;
  readonly offsets: Pick<OffsetsPort, 'watermarks'>;
  readonly intake: Intake;
  readonly live: Live;
  readonly log: Logger;
  readonly stopping: () => boolean;
}

export class BatchRouter {
  constructor(private readonly deps: RouterDeps) {}

  async route(batch: InputBatch, ctl: BatchControl): Promise<void> {
    const { positions, host } = this.deps;
    positions.noteHighWatermark(batch, batch.highWatermark);
    if (ctl.isStale() || !positions.holds(batch)) return;
    const phase = host.phase();
    if (phase !== 'rebuilding' && phase !== 'live') return;
    const rebuild = host.rebuild();
    if (phase === 'rebuilding' && !rebuild?.begun) return;
    let pos = positions.get(batch);
    if (pos === undefined) return;
    if (batch.fetchedOffset !== undefined && batch.fetchedOffset > pos) {
      const kind = this.deps.kinds.get(batch.topic);
      const marks = kind ? await this.deps.offsets.watermarks(batch.topic) : [];
      const low = marks.find((w) => w.partition === batch.partition)?.low ?? 0;
      const past = pastPosition(pos, low);
      if (!past.gap || kind === undefined) {
        this.deps.log.warn(
          { topic: batch.topic, partition: batch.partition, fetched: batch.fetchedOffset, position: pos },
          'skipping a non-contiguous batch',
        );
        this.deps.consumer.seek({ topic: batch.topic, partition: batch.partition, offset: pos });
        return;
      }
      if (!host.inputGap(batch, kind, past.lost)) return;
      positions.set(batch, past.resumeAt);
      pos = past.resumeAt;
    }
    const end = batch.lastOffset;
    const messages = batch.messages.filter((m) => Number(m.offset) >= pos);
    if (messages.length === 0) {
      if (end + 1 > pos) positions.set(batch, end + 1);
      ctl.resolveOffset(end);
      if (rebuild) await host.finishRebuild(ctl);
      return;
    }
    const kind = this.deps.kinds.get(batch.topic);
    if (kind === undefined) {
      if (!rebuild) return;
      await rebuild.onOutputBatch(batch, messages, end);
      ctl.resolveOffset(end);
      await host.finishRebuild(ctl);
      return;
    }
    await this.deps.intake.resolveSchemas(messages, {
      log: this.deps.log,
      heartbeat: () => ctl.heartbeat(),
      stopping: () => this.deps.stopping() || !ctl.isRunning(),
    });
    if (rebuild) {
      if (!rebuild.onInputBatch(batch, kind, messages, end)) {
        if (rebuild.blocked) host.blockForRetention();
        return;
      }
      ctl.resolveOffset(end);
      await host.finishRebuild(ctl);
      return;
    }
    await this.deps.live.onBatch(batch, kind, messages, ctl, end, batch.highWatermark - end - 1);
    host.afterLiveBatch();
  }
}
