// The stream engine: owns the model and the input positions, and turns fetched batches into model
// updates and acknowledged outputs. Lifecycle per instance:
//
//   standby ──(assigned all partitions)──▶ rebuilding ──(inputs and outputs read to the marks)──▶ live
//
// Rebuilding replays both input topics from the beginning up to their high-water marks without
// publishing, reads the similarities and receipts topics to their end, then publishes only what
// differs from them (see reconcile.ts). The deletion requests are read first and each is applied
// just before the first interaction of its user recorded after it: only a user's own order matters
// to the state, and record time is the best record of the order the live service saw. Live, each chunk of a batch is applied, flushed and its
// outputs acknowledged (acks=all) before its offsets are resolved and committed.
//
// All work on the model runs through one serial queue: kafkajs batches, group-join transitions and
// shutdown never interleave. Positions (next offset to apply per partition) make re-delivered
// records harmless: anything below the position has been applied already and is skipped.
/* eslint-disable @typescript-eslint/unbound-method -- kafkajs declares the payload's arrow functions as methods; removed with the engine split */
import type { Admin, Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import type { Config } from '../config.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { Model, type InteractionOutcome } from '../model/index.js';
import type { ModelState } from '../model/state.js';
import type { PendingPurge, Snapshot, TopicOffset } from '../state/format.js';
import type { Snapshotter } from '../state/snapshotter.js';
import {
  decodeDeletion,
  decodeInteraction,
  prefetchSchemas,
  uncachedSchemaIds,
  type InputKind,
} from './codec.js';
import { dlqMessage, dlqTopic } from './dlq.js';
import type { Metrics } from './metrics.js';
import type { Outbox } from './outbox.js';
import { type Receipt } from './outbox.js';
import { RebuildState } from './reconcile.js';
import type { Deletion } from './codec.js';
import type { SchemaRegistryClient } from './registry.js';

export type Phase = 'starting' | 'standby' | 'rebuilding' | 'live' | 'stopped';

const OUTCOME_LABEL: Record<InteractionOutcome, string> = {
  applied: 'applied',
  duplicate: 'duplicate',
  'suppressed-late': 'suppressed_late',
};
const TOMBSTONE_EXPIRY_EVERY_MS = 60_000;

const tp = (topic: string, partition: number): string => `${topic}:${partition}`;
const countOf = (counts: Map<string, number>): number => {
  let n = 0;
  for (const v of counts.values()) n += v;
  return n;
};
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface EngineDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly admin: Admin;
  readonly outbox: Outbox;
  readonly registry: SchemaRegistryClient | undefined;
  /** Snapshots (SNAPSHOT_DIR set): restore on assignment, forgotten users noted for PURGED. */
  readonly snapshots?: Snapshotter | undefined;
}

export class Engine {
  private model_: Model;
  private phase_: Phase = 'starting';
  private consumer: Consumer | undefined;
  /** Next offset to apply, per held input (and, while rebuilding, output) partition. */
  private readonly positions = new Map<string, number>();
  private readonly committed = new Map<string, number>();
  private holding = new Set<string>();
  private generation = 0;
  private rebuild: RebuildState | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private stopping = false;
  private readonly highWatermarks = new Map<string, number>();
  private lastEventMs: number | undefined;
  private lastTombstoneExpiry = Date.now();
  /** Applied since the last flush: not yet published, not yet committed. */
  private pending: { events: number; since: number; receipts: { receipt: Receipt; recordMs: number }[] } = {
    events: 0,
    since: 0,
    receipts: [],
  };
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly phaseListeners = new Set<(p: Phase) => void>();
  private readonly log: Logger;
  private readonly inputs: ReadonlyMap<string, InputKind>;
  private readonly outputs: readonly string[];
  /** Where each input partition was sought at assignment (a snapshot's offsets, or 0). */
  private seekedTo = new Map<string, number>();
  /** The snapshot file the current state was restored from (undefined: rebuilt from the start). */
  private restoredFrom: string | undefined;

  constructor(private readonly deps: EngineDeps) {
    this.log = deps.log.child({ module: 'engine' });
    const t = deps.config.topics;
    this.inputs = new Map<string, InputKind>([
      [t.interactions, 'interaction'],
      [t.deletions, 'deletion'],
    ]);
    this.outputs = [t.similarities, t.receipts];
    this.model_ = this.newModel();
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

  onPhase(listener: (p: Phase) => void): () => void {
    this.phaseListeners.add(listener);
    return () => this.phaseListeners.delete(listener);
  }

  attach(consumer: Consumer): void {
    this.consumer = consumer;
  }

  private newModel(): Model {
    return new Model(this.modelOptions());
  }

  private modelOptions() {
    const m = this.deps.config.model;
    return {
      topK: m.topK,
      minCooccurrences: m.minCooccurrences,
      tombstoneRetentionMs: m.tombstoneRetentionMs,
      ...(m.tombstoneKey ? { tombstoneKey: m.tombstoneKey } : {}),
    };
  }

  /** A model from a snapshot, or undefined when the snapshot was built with other model settings. */
  private modelFromSnapshot(s: Snapshot): Model | undefined {
    const { topK, minCooccurrences } = this.deps.config.model;
    if (s.state.settings.topK !== topK || s.state.settings.minCooccurrences !== minCooccurrences)
      return undefined;
    return Model.fromState(s.state, this.modelOptions());
  }

  private setPhase(p: Phase): void {
    if (this.phase_ === p) return;
    this.phase_ = p;
    this.deps.metrics.ready.set(p === 'live' ? 1 : 0);
    this.deps.metrics.active.set(p === 'live' || p === 'rebuilding' ? 1 : 0);
    this.log.info({ phase: p, generation: this.generation }, 'phase changed');
    for (const l of this.phaseListeners) l(p);
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  // ------------------------------------------------------------------ group membership

  /** kafkajs GROUP_JOIN: runs synchronously, before the first fetch of the new generation. */
  onAssignment(assignment: Record<string, number[]>): void {
    const keys = Object.entries(assignment).flatMap(([topic, parts]) => parts.map((p) => tp(topic, p)));
    if (this.stopping) return;
    if (keys.length === 0) {
      const gen = ++this.generation;
      this.holding = new Set();
      void this.enqueue(() => Promise.resolve(this.becomeStandby(gen)));
      return;
    }
    const same = keys.length === this.holding.size && keys.every((k) => this.holding.has(k));
    if (this.phase_ === 'live' && same) {
      // Same partitions again (another member joined or left): keep state, resume at our commits.
      this.consumer?.pause(this.outputs.map((topic) => ({ topic })));
      void this.enqueue(async () => this.retryPendingOutputs());
      return;
    }
    // Newly active (or the assignment changed mid-rebuild): replay everything from the start.
    // seek() must happen now, before kafkajs fetches from the committed offsets.
    // With a snapshot, the inputs resume at its offsets (the snapshot is the truth, not the group's
    // commits); beginRebuild seeks again if the file turns out unusable.
    const planned = this.deps.snapshots?.plannedOffsets();
    this.seekedTo = new Map();
    for (const [topic, parts] of Object.entries(assignment)) {
      for (const partition of parts) {
        const offset = this.inputs.has(topic) ? (planned?.get(tp(topic, partition)) ?? 0) : 0;
        this.seekedTo.set(tp(topic, partition), offset);
        this.consumer?.seek({ topic, partition, offset: String(offset) });
      }
    }
    this.consumer?.resume(this.outputs.map((topic) => ({ topic })));
    // Deletions first: a user's requests must be known before their interactions are replayed.
    this.consumer?.pause([{ topic: this.deps.config.topics.interactions }]);
    const gen = ++this.generation;
    this.holding = new Set(keys);
    this.rebuild = undefined;
    this.setPhase('rebuilding');
    void this.enqueue(async () => this.beginRebuild(gen, assignment)).catch((e) => {
      this.log.error({ err: describeError(e) }, 'rebuild could not start');
    });
  }

  /** An empty model, no positions, nothing pending or queued for output. */
  private resetState(): void {
    this.pending = { events: 0, since: 0, receipts: [] };
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.model_ = this.newModel();
    this.positions.clear();
    this.committed.clear();
    this.deps.outbox.clear();
  }

  private becomeStandby(gen: number): void {
    if (gen !== this.generation) return;
    this.resetState();
    this.rebuild = undefined;
    this.setPhase('standby');
  }

  private async beginRebuild(gen: number, assignment: Record<string, number[]>): Promise<void> {
    if (gen !== this.generation) return;
    const started = Date.now();
    this.resetState();
    const { admin, config } = this.deps;
    const marks = new Map<string, { low: number; high: number }>();
    for (const topic of Object.keys(assignment)) {
      for (const o of await admin.fetchTopicOffsets(topic)) {
        marks.set(tp(topic, o.partition), { low: Number(o.low), high: Number(o.high) });
      }
    }
    const committedAtStart = new Map<string, number>();
    const inputTopics = Object.keys(assignment).filter((t) => this.inputs.has(t));
    for (const t of await admin.fetchOffsets({ groupId: config.kafka.groupId, topics: inputTopics })) {
      for (const p of t.partitions) committedAtStart.set(tp(t.topic, p.partition), Number(p.offset));
    }
    const restored = await this.deps.snapshots?.restore((s) => this.modelFromSnapshot(s));
    if (gen !== this.generation) return;
    this.rebuild = new RebuildState(gen, marks, committedAtStart, started);
    for (const key of this.holding) this.positions.set(key, marks.get(key)?.low ?? 0);
    this.restoredFrom = restored?.file.name;
    if (restored) {
      this.model_ = restored.value;
      for (const o of restored.offsets) {
        const key = tp(o.topic, o.partition);
        if (!this.holding.has(key)) continue;
        const low = marks.get(key)?.low ?? 0;
        if (o.offset < low)
          this.log.warn(
            { topic: o.topic, partition: o.partition, offset: o.offset, low },
            'records after the snapshot were deleted by retention',
          );
        this.positions.set(key, Math.max(o.offset, low));
      }
    }
    for (const key of this.holding) {
      const pos = this.positions.get(key) as number;
      if (!this.inputs.has(key.slice(0, key.lastIndexOf(':'))) || (this.seekedTo.get(key) ?? 0) === pos)
        continue;
      const partition = Number(key.slice(key.lastIndexOf(':') + 1));
      this.consumer?.seek({ topic: key.slice(0, key.lastIndexOf(':')), partition, offset: String(pos) });
    }
    this.log.info(
      { generation: gen, partitions: this.holding.size, records: this.rebuild.recordsToReplay(this.inputs) },
      'rebuilding state from the input topics',
    );
    await this.finishRebuildIfDone();
  }

  // ------------------------------------------------------------------ batches

  /** The kafkajs eachBatch handler. */
  readonly eachBatch = (payload: EachBatchPayload): Promise<void> =>
    this.enqueue(() => this.handleBatch(payload));

  /** Lag per held input partition: the last seen high watermark minus the next offset to apply. */
  consumerLag(): { topic: string; partition: number; lag: number }[] {
    const out: { topic: string; partition: number; lag: number }[] = [];
    if (this.phase_ !== 'live' && this.phase_ !== 'rebuilding') return out;
    for (const key of this.holding) {
      const hw = this.highWatermarks.get(key);
      const pos = this.positions.get(key);
      if (hw === undefined || pos === undefined) continue;
      const at = key.lastIndexOf(':');
      const topic = key.slice(0, at);
      if (!this.inputs.has(topic)) continue;
      out.push({ topic, partition: Number(key.slice(at + 1)), lag: Math.max(0, hw - pos) });
    }
    return out;
  }

  /** Record timestamp (epoch ms) of the newest input record applied live. */
  lastEventTime(): number | undefined {
    return this.lastEventMs;
  }

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, isStale } = payload;
    const key = tp(batch.topic, batch.partition);
    this.highWatermarks.set(key, Number(batch.highWatermark));
    if (isStale() || !this.holding.has(key)) return;
    const phase = this.phase_;
    if (phase === 'rebuilding' && this.rebuild?.generation !== this.generation) return; // rebuild not begun
    if (phase !== 'rebuilding' && phase !== 'live') return;
    const pos = this.positions.get(key);
    if (pos === undefined) return;
    const fetched = Number((batch as { fetchedOffset?: string }).fetchedOffset ?? batch.firstOffset() ?? pos);
    if (fetched > pos) {
      // Not contiguous with what we applied (a fetch from before a seek): never apply across a gap.
      this.log.warn(
        { topic: batch.topic, partition: batch.partition, fetched, position: pos },
        'skipping a non-contiguous batch',
      );
      return;
    }

    const kind = this.inputs.get(batch.topic);
    if (kind === undefined) {
      if (phase === 'rebuilding') await this.readOutputBatch(payload, key, pos);
      return;
    }
    const messages = batch.messages.filter((m) => Number(m.offset) >= pos);
    if (messages.length === 0) {
      resolveOffset(batch.lastOffset());
      return;
    }
    await this.prefetchSchemas(messages, payload);
    if (phase === 'rebuilding') {
      if (kind === 'interaction' && this.rebuild!.stage === 'deletions') return; // paused; fetched before
      const committed = this.rebuild!.committedAtStart.get(key) ?? -1;
      const counts = new Map<string, number>();
      for (const m of messages)
        this.apply(kind, batch.topic, batch.partition, m, Number(m.offset) < committed, counts);
      this.countEvents(batch.topic, counts);
      this.positions.set(key, Number(batch.lastOffset()) + 1);
      resolveOffset(batch.lastOffset());
      await this.finishRebuildIfDone(payload.heartbeat);
      return;
    }
    await this.processLive(kind, messages, payload, key);
  }

  private async readOutputBatch(payload: EachBatchPayload, key: string, pos: number): Promise<void> {
    const { batch } = payload;
    const rb = this.rebuild!;
    for (const m of batch.messages) {
      if (Number(m.offset) < pos || m.key === null) continue;
      const k = m.key.toString('utf8');
      if (batch.topic === this.deps.config.topics.receipts) rb.noteReceipt(k, m.value !== null);
      else await rb.notePublished(k, m.value, this.deps.registry);
    }
    this.positions.set(key, Number(batch.lastOffset()) + 1);
    payload.resolveOffset(batch.lastOffset());
    await this.finishRebuildIfDone(payload.heartbeat);
  }

  private async processLive(
    kind: InputKind,
    messages: KafkaMessage[],
    payload: EachBatchPayload,
    key: string,
  ): Promise<void> {
    const { batch, resolveOffset, isRunning, isStale } = payload;
    const { maxEvents, maxMs } = this.deps.config.batch;
    let idx = 0;
    while (idx < messages.length) {
      if (!isRunning() || isStale()) break;
      const counts = new Map<string, number>();
      const room = Math.max(1, maxEvents - this.pending.events);
      const end = Math.min(messages.length, idx + room);
      if (this.pending.events === 0) this.pending.since = performance.now();
      for (; idx < end; idx++) {
        const m = messages[idx]!;
        const r = this.apply(kind, batch.topic, batch.partition, m, false, counts);
        if (r) this.pending.receipts.push({ receipt: r, recordMs: Number(m.timestamp) });
        const ts = Number(m.timestamp);
        if (this.lastEventMs === undefined || ts > this.lastEventMs) this.lastEventMs = ts;
      }
      const last = messages[idx - 1]!;
      this.positions.set(key, Number(last.offset) + 1);
      // kafkajs may fetch on; the commit waits for the flush that publishes these changes.
      resolveOffset(last.offset);
      this.countEvents(batch.topic, counts);
      this.pending.events += countOf(counts);
      const due =
        this.pending.receipts.length > 0 ||
        this.pending.events >= maxEvents ||
        performance.now() - this.pending.since >= maxMs ||
        this.stopping;
      if (due) await this.flushPending(payload.heartbeat, isRunning);
      else this.scheduleFlush(maxMs);
    }
    if (Date.now() - this.lastTombstoneExpiry > TOMBSTONE_EXPIRY_EVERY_MS) {
      this.lastTombstoneExpiry = Date.now();
      this.model_.expireTombstones(this.lastTombstoneExpiry);
    }
  }

  /** A flush at the end of the linger window, if no batch triggers one before. */
  private scheduleFlush(maxMs: number): void {
    if (this.flushTimer) return;
    const wait = Math.max(0, this.pending.since + maxMs - performance.now());
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.enqueue(() => this.flushPending()).catch((e) => {
        this.log.error({ err: describeError(e) }, 'timed flush failed');
      });
    }, wait);
  }

  /**
   * Ends a chunk: one model flush for everything applied since the last one, its lists, tombstones
   * and receipts acknowledged, then the positions committed. Lingering up to BATCH_MAX_MS (or
   * BATCH_MAX_EVENTS) lets a backlog publish each changed list once per chunk instead of once per
   * fetch; a deletion request flushes at once, so its receipt does not wait for the window.
   */
  private async flushPending(
    heartbeat?: () => Promise<void>,
    isRunning: () => boolean = () => true,
  ): Promise<void> {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    if (this.phase_ !== 'live' || (this.pending.events === 0 && this.deps.outbox.size === 0)) return;
    const { metrics, outbox } = this.deps;
    const { events, since, receipts } = this.pending;
    this.pending = { events: 0, since: 0, receipts: [] };
    const now = Date.now();
    const f0 = performance.now();
    const report = this.model_.flush(now);
    for (const list of report.changed) outbox.addList(list, now);
    for (const itemId of report.removed) outbox.addTombstone(itemId);
    for (const r of receipts) outbox.addReceipt({ ...r.receipt, completedAt: now }, r.recordMs);
    const f1 = performance.now();
    await this.drainOutbox(heartbeat, isRunning);
    const f2 = performance.now();
    await this.commitPositions();
    this.log.debug(
      {
        events,
        lists: report.changed.length,
        tombstones: report.removed.length,
        receipts: receipts.length,
        lingerMs: Math.round(f0 - since),
        flushMs: Math.round(f1 - f0),
        publishMs: Math.round(f2 - f1),
        commitMs: Math.round(performance.now() - f2),
      },
      'chunk flushed',
    );
    if (events > 0) {
      metrics.batchSize.observe(events);
      metrics.batchDuration.observe((performance.now() - since) / 1000);
    }
  }

  /**
   * Decodes one record and applies it. Bad records go to the outbox's DLQ part unless `silent`
   * (a replayed record that an earlier run has already dead-lettered). Returns the receipt of a
   * deletion request (completedAt filled in at flush time).
   */
  private apply(
    kind: InputKind,
    topic: string,
    partition: number,
    m: KafkaMessage,
    silent: boolean,
    counts: Map<string, number>,
  ): Receipt | undefined {
    const registry = this.deps.registry;
    if (kind === 'interaction') {
      const d = decodeInteraction(m, registry);
      if (!d.ok) {
        if (!silent) this.deadLetter(topic, partition, m, d.reason, d.message, counts);
        return undefined;
      }
      if (this.phase_ === 'rebuilding') {
        const due = this.rebuild?.takeDeletionsBefore(d.value.userId, Number(m.timestamp));
        if (due) for (const b of due) this.forgetNow(b.deletion, b.silent, b.recordMs);
      }
      const outcome = this.model_.interaction(d.value);
      if (!silent) counts.set(OUTCOME_LABEL[outcome], (counts.get(OUTCOME_LABEL[outcome]) ?? 0) + 1);
      return undefined;
    }
    const d = decodeDeletion(m, registry);
    if (!d.ok) {
      if (!silent) this.deadLetter(topic, partition, m, d.reason, d.message, counts);
      return undefined;
    }
    if (!silent) counts.set('applied', (counts.get('applied') ?? 0) + 1);
    if (this.phase_ === 'rebuilding') {
      this.rebuild?.bufferDeletion({ deletion: d.value, recordMs: Number(m.timestamp), silent });
      return undefined;
    }
    return this.forgetNow(d.value, silent, Number(m.timestamp));
  }

  /** Forgets the user now; while rebuilding, also notes the receipt to check against the topic. */
  private forgetNow(d: Deletion, silent: boolean, recordMs: number): Receipt {
    const t0 = performance.now();
    const r = this.model_.forget({ userId: d.userId, requestedAt: d.requestedAt });
    this.deps.metrics.forgetDuration.observe((performance.now() - t0) / 1000);
    const receipt: Receipt = {
      requestId: d.requestId,
      status: 'FORGOTTEN',
      interactionsRemoved: r.interactionsRemoved,
      itemsAffected: r.itemsAffected,
      completedAt: 0,
    };
    if (this.phase_ === 'rebuilding' && !silent) this.rebuild?.addPendingReceipt(receipt, recordMs);
    this.deps.snapshots?.noteForgotten({
      requestId: d.requestId,
      interactionsRemoved: r.interactionsRemoved,
      itemsAffected: r.itemsAffected,
      recordMs,
    });
    return receipt;
  }

  private deadLetter(
    topic: string,
    partition: number,
    m: KafkaMessage,
    reason: Parameters<Outbox['addDlq']>[2],
    message: string,
    counts: Map<string, number>,
  ): void {
    const rec = {
      topic,
      partition,
      offset: m.offset,
      key: m.key,
      value: m.value,
      headers: m.headers,
      timestamp: m.timestamp,
    };
    this.deps.outbox.addDlq(dlqTopic(topic), topic, reason, dlqMessage(rec, { ok: false, reason, message }));
    counts.set('invalid', (counts.get('invalid') ?? 0) + 1);
    this.log.debug({ topic, partition, offset: m.offset, reason }, 'record dead-lettered');
  }

  private countEvents(topic: string, counts: Map<string, number>): void {
    for (const [outcome, n] of counts) this.deps.metrics.eventsConsumed.inc({ topic, outcome }, n);
  }

  /** Resolves unknown schema ids; an unreachable registry is retried here, never dead-lettered. */
  private async prefetchSchemas(messages: KafkaMessage[], payload: EachBatchPayload): Promise<void> {
    const ids = uncachedSchemaIds(
      messages.map((m) => m.value),
      this.deps.registry,
    );
    if (ids.length === 0) return;
    for (let delay = 250; ; delay = Math.min(delay * 2, 5_000)) {
      try {
        await prefetchSchemas(ids, this.deps.registry);
        return;
      } catch (e) {
        if (this.stopping || !payload.isRunning()) throw e;
        this.log.warn({ err: describeError(e), retryInMs: delay }, 'schema registry unavailable, retrying');
        await payload.heartbeat();
        await sleep(delay);
      }
    }
  }

  /** Sends the outbox, retrying until it is acknowledged; offsets are not committed before that. */
  private async drainOutbox(
    heartbeat?: () => Promise<void>,
    isRunning: () => boolean = () => true,
  ): Promise<void> {
    for (let delay = 250; ; delay = Math.min(delay * 2, 5_000)) {
      try {
        await this.deps.outbox.drain();
        return;
      } catch (e) {
        this.log.error(
          {
            err: describeError((e as { cause?: unknown }).cause ?? e),
            pending: this.deps.outbox.size,
            retryInMs: delay,
          },
          'publishing failed, retrying',
        );
        if (this.stopping || !isRunning()) throw e;
        await heartbeat?.();
        await sleep(delay);
      }
    }
  }

  private async retryPendingOutputs(): Promise<void> {
    if (this.phase_ !== 'live') return;
    await this.flushPending();
    await this.commitPositions();
  }

  /** Commits input positions (lag monitoring only: a restart replays from the beginning anyway). */
  private async commitPositions(): Promise<void> {
    const offsets: { topic: string; partition: number; offset: string }[] = [];
    for (const [key, pos] of this.positions) {
      const [topic, p] = [key.slice(0, key.lastIndexOf(':')), Number(key.slice(key.lastIndexOf(':') + 1))];
      if (!this.inputs.has(topic) || this.committed.get(key) === pos) continue;
      offsets.push({ topic, partition: p, offset: String(pos) });
    }
    if (offsets.length === 0 || !this.consumer) return;
    try {
      await this.consumer.commitOffsets(offsets);
      for (const o of offsets) this.committed.set(tp(o.topic, o.partition), Number(o.offset));
    } catch (e) {
      // Outputs are out and positions are in memory; a failed commit only delays the lag figure.
      this.log.warn({ err: describeError(e) }, 'offset commit failed');
    }
  }

  // ------------------------------------------------------------------ end of rebuild

  private async finishRebuildIfDone(heartbeat?: () => Promise<void>): Promise<void> {
    const rb = this.rebuild;
    if (this.phase_ !== 'rebuilding' || !rb || rb.generation !== this.generation) return;
    const interactions = this.deps.config.topics.interactions;
    const isInteractions = (key: string) => key.slice(0, key.lastIndexOf(':')) === interactions;
    if (rb.stage === 'deletions') {
      for (const key of this.holding) {
        if (!isInteractions(key) && !rb.reached(key, this.positions.get(key))) return;
      }
      rb.stage = 'interactions';
      this.consumer?.resume([{ topic: interactions }]);
    }
    for (const key of this.holding) {
      if (!rb.reached(key, this.positions.get(key))) return;
    }
    await heartbeat?.();
    for (const b of rb.takeAllDeletions()) this.forgetNow(b.deletion, b.silent, b.recordMs);
    const now = Date.now();
    const report = this.model_.flush(now);
    // A restored model reports only what changed since its snapshot: reconcile every current list.
    const out = rb.reconcile(this.restoredFrom ? this.currentLists() : report, this.deps.outbox, now);
    await this.drainOutbox(heartbeat, () => !this.stopping);
    await this.commitPositions();
    this.consumer?.pause(this.outputs.map((topic) => ({ topic })));
    for (const key of [...this.positions.keys()]) {
      if (!this.inputs.has(key.slice(0, key.lastIndexOf(':')))) this.positions.delete(key);
    }
    this.rebuild = undefined;
    this.log.info(
      {
        ...out,
        durationMs: Date.now() - rb.startedAt,
        stats: this.model_.stats(),
        snapshot: this.restoredFrom,
      },
      'state rebuilt',
    );
    this.setPhase('live');
  }

  /** Every current list (a full report), for reconciling a restored state with the topics. */
  private currentLists(): { changed: NonNullable<ReturnType<Model['neighbors']>>[]; removed: string[] } {
    const m = this.model_;
    const changed = [];
    for (const id of m.itemIds()) {
      const l = m.neighbors(id);
      if (l) changed.push(l);
    }
    return { changed, removed: [] };
  }

  // ------------------------------------------------------------------ snapshots

  /**
   * Runs `take` in the serial queue at a batch boundary: everything applied is flushed, published
   * and committed, so the state reflects every record before the positions and none after.
   * Undefined unless live.
   */
  atBoundary<T>(
    take: (state: () => ModelState, offsets: readonly TopicOffset[]) => T,
  ): Promise<T | undefined> {
    return this.enqueue(async () => {
      if (this.phase_ !== 'live') return undefined;
      await this.flushPending();
      if (this.phase_ !== 'live' || this.pending.events > 0) return undefined;
      const offsets: TopicOffset[] = [];
      for (const [key, offset] of this.positions) {
        const topic = key.slice(0, key.lastIndexOf(':'));
        if (this.inputs.has(topic))
          offsets.push({ topic, partition: Number(key.slice(key.lastIndexOf(':') + 1)), offset });
      }
      const model = this.model_;
      return take(() => model.exportState(), offsets);
    });
  }

  /** Publishes PURGED receipts (acks=all) once no snapshot on disk holds the users any more. */
  publishPurged(purges: readonly PendingPurge[]): Promise<void> {
    return this.enqueue(async () => {
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
      await this.drainOutbox(undefined, () => !this.stopping);
    });
  }

  // ------------------------------------------------------------------ shutdown

  /** Stops taking new chunks; the chunk in progress finishes, is published and committed. */
  beginStop(): void {
    this.stopping = true;
  }

  /** Stops (or resumes) fetching the input topics while live: maintenance and benchmarks. */
  pauseInputs(paused: boolean): void {
    const topics = [...this.inputs.keys()].map((topic) => ({ topic }));
    if (paused) this.consumer?.pause(topics);
    else this.consumer?.resume(topics);
  }

  /** Publishes and commits whatever has been applied but not flushed yet (shutdown). */
  flushNow(): Promise<void> {
    return this.enqueue(() => this.flushPending());
  }

  /** After the consumer has stopped: a last attempt at anything still unpublished. */
  async finishStop(): Promise<void> {
    await this.enqueue(async () => {
      if (this.flushTimer) clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
      if (this.deps.outbox.size > 0 || this.pending.events > 0) {
        if (this.pending.events > 0 && this.phase_ === 'live') {
          const now = Date.now();
          const report = this.model_.flush(now);
          for (const list of report.changed) this.deps.outbox.addList(list, now);
          for (const itemId of report.removed) this.deps.outbox.addTombstone(itemId);
          for (const r of this.pending.receipts)
            this.deps.outbox.addReceipt({ ...r.receipt, completedAt: now }, r.recordMs);
          this.pending = { events: 0, since: 0, receipts: [] };
        }
        try {
          await this.deps.outbox.drain();
        } catch (e) {
          this.log.warn(
            { err: describeError(e), pending: this.deps.outbox.size },
            'outputs left unpublished at shutdown; the next start re-derives them',
          );
        }
      }
      this.setPhase('stopped');
    });
  }
}
