// A user-stage task: input partition p of both input topics and of the acks. Interactions are held
// until the chunk's flush; a deletion request applies its user's held interactions recorded no later
// than it, forgets the user and flushes at once (the single mode's per-user order). A flush turns
// the chunk into deltas (deltas.ts), changelog records, dead letters and receipts, delivered with
// the input positions in one transaction. Acks complete a request's FORGOTTEN; PURGED follows when
// the purge bound has passed. Pending receipts are changelog records too: they survive a move.
import type { KafkaMessage } from 'kafkajs';
import { describeError, isAmnesiaError } from '../errors.js';
import { answerDeletion } from '../input/deletion-answer.js';
import { decodeInteraction, prefetchSchemas, uncachedSchemaIds, type Interaction } from '../input/codec.js';
import { dlqTopic } from '../kafka/topics.js';
import { boundDlqMessage, dlqMessage, recordBytes } from '../output/dlq.js';
import { CountsByTopic } from '../input/intake.js';
import type { OutputEncoder, Receipt } from '../output/outbox.js';
import type { DecodeFailure } from '../output/reasons.js';
import type { SchemaRegistryClient } from '../kafka/registry.js';
import { retry } from '../kafka/retry.js';
import type { InputRules } from '../input/validate.js';
import { buildDeltas, encodeDelta } from './deltas.js';
import { userToken, type ItemPartitions } from './ids.js';
import type { TaskFigures } from './metrics.js';
import { record, Task, TICK_KEY, type TaggedRecord, type TaskDeps } from './task.js';
import { UserTable, type UserTableOptions } from './user-table.js';

export interface UserTaskDeps extends TaskDeps {
  readonly topics: {
    readonly interactions: string;
    readonly deletions: string;
    readonly acks: string;
    readonly deltas: string;
    readonly changelog: string;
    readonly receipts: string;
  };
  readonly parts: ItemPartitions;
  readonly userPartitions: number;
  readonly table: UserTableOptions;
  readonly tombstoneKey: string;
  readonly registry: SchemaRegistryClient | undefined;
  readonly inputRules: InputRules;
  readonly encoder: OutputEncoder;
  readonly dlqMaxBytes: number;
  readonly purgeDelayMs: number;
}

interface Held {
  readonly offset: number;
  readonly recordMs: number;
  readonly event?: Interaction;
  readonly dead?: { readonly m: KafkaMessage; readonly failure: DecodeFailure };
}

/** A deletion request between FORGOTTEN's acks and PURGED. */
interface Request {
  readonly id: string;
  readonly removed: number;
  readonly recordMs: number;
  readonly acks?: number[];
  readonly due?: number;
}

const TOMBSTONE_EXPIRY_EVERY_MS = 60_000;

export class UserTask extends Task {
  readonly inputs: readonly string[];
  private readonly table: UserTable;
  private held: Held[] = [];
  private since = 0;
  /** marker (the request's offset) → waiting for acks ('r') or for PURGED ('p'). */
  private readonly waiting = new Map<number, Request>();
  private readonly purging = new Map<number, Request>();
  private dirtyRequests = new Set<string>();
  private receipts: { receipt: Receipt; recordMs: number }[] = [];
  private dead: { rec: TaggedRecord; topic: string; reason: string }[] = [];
  private lastExpiry: number;

  constructor(private readonly u: UserTaskDeps) {
    super(u);
    this.inputs = [u.topics.deletions, u.topics.interactions, u.topics.acks];
    this.table = new UserTable(u.table);
    // As the single mode: the first expiry one interval after the task starts.
    this.lastExpiry = this.now();
  }

  protected get changelogTopic(): string {
    return this.u.topics.changelog;
  }

  figures(): TaskFigures {
    const s = this.table.size;
    return {
      stage: 'users',
      partition: this.partition,
      phase: this.phase,
      lag: this.lag(),
      restoreRemaining: this.restoreRemaining(),
      stateBytes: s.pairs * 90 + s.users * 150 + s.tombstones * 60,
      entries: s.users,
    };
  }

  /** The items a user of this partition holds (right of access; tests). */
  itemsOf(userId: string): string[] {
    return this.table.itemsOf(userToken(this.u.tombstoneKey, userId));
  }

  // ---------------------------------------------------------------- restore

  restoreRecord(key: string, value: string | null): void {
    const kind = key[0];
    if (kind === 'r' || kind === 'p') {
      const marker = Number(key.slice(1));
      const into = kind === 'r' ? this.waiting : this.purging;
      if (value === null) into.delete(marker);
      else into.set(marker, JSON.parse(value) as Request);
    } else if (key !== TICK_KEY) this.table.restore(key, value);
  }

  endRestore(): Promise<void> {
    this.table.endRestore();
    return Promise.resolve();
  }

  // ---------------------------------------------------------------- live

  async onRecords(topic: string, messages: readonly KafkaMessage[]): Promise<void> {
    const last = Number(messages[messages.length - 1]!.offset);
    const t = this.u.topics;
    if (topic !== t.acks) await this.prefetchSchemas(messages);
    if (topic === t.interactions) {
      if (this.held.length === 0) this.since = performance.now();
      for (const m of messages) {
        const d = decodeInteraction(m, this.u.registry, this.u.inputRules);
        const base = { offset: Number(m.offset), recordMs: Number(m.timestamp) };
        this.held.push(d.ok ? { ...base, event: d.value } : { ...base, dead: { m, failure: d } });
      }
      this.positions.set(topic, last + 1);
      const waited = performance.now() - this.since;
      if (this.held.length >= this.chunkLimit() || waited >= this.linger()) await this.flush();
      else this.scheduleFlush(this.linger() - waited);
      return;
    }
    if (topic === t.deletions) {
      const counts = new CountsByTopic();
      for (const m of messages) {
        const at = { topic, partition: this.partition, offset: m.offset };
        const a = answerDeletion(m, at, this.u.registry, this.u.inputRules, {
          metrics: this.u.metrics,
          log: this.log,
        });
        const recordMs = Number(m.timestamp);
        if (!a.ok) {
          this.deadLetter(topic, m, a.failure, counts);
          this.receipts.push({ receipt: a.receipt, recordMs });
          continue;
        }
        const d = a.deletion;
        this.applyHeld(d.userId, recordMs, counts);
        const marker = Number(m.offset);
        const removed = this.table.forget(userToken(this.u.tombstoneKey, d.userId), d.requestedAt, marker);
        this.waiting.set(marker, { id: d.requestId, removed, recordMs, acks: [] });
        this.dirtyRequests.add(`r${marker}`);
        counts.of(topic).add('applied');
      }
      counts.report(this.u.metrics);
      this.positions.set(topic, last + 1);
      await this.flush();
      return;
    }
    // Acknowledgements of item partitions.
    let completed = false;
    for (const m of messages) {
      const ack = JSON.parse(m.value?.toString('utf8') ?? 'null') as { m: number; q: number } | null;
      const req = ack ? this.waiting.get(ack.m) : undefined;
      if (!ack || !req?.acks || req.acks.includes(ack.q)) continue;
      const acks = [...req.acks, ack.q];
      this.dirtyRequests.add(`r${ack.m}`);
      if (acks.length < this.u.parts.count) {
        this.waiting.set(ack.m, { ...req, acks });
        continue;
      }
      const now = this.now();
      this.waiting.delete(ack.m);
      this.receipts.push({ receipt: this.receipt(req, 'FORGOTTEN', now), recordMs: req.recordMs });
      this.purging.set(ack.m, {
        id: req.id,
        removed: req.removed,
        recordMs: req.recordMs,
        due: now + this.u.purgeDelayMs,
      });
      this.dirtyRequests.add(`p${ack.m}`);
      completed = true;
    }
    this.positions.set(topic, last + 1);
    if (completed) await this.flush();
    else this.scheduleFlush(this.u.batch.maxMs);
  }

  /** Resolves new schema ids; an unreachable registry is waited for, never dead-lettered. */
  private prefetchSchemas(messages: readonly KafkaMessage[]): Promise<void> {
    const { registry } = this.u;
    const ids = uncachedSchemaIds(
      messages.map((m) => m.value),
      registry,
    );
    if (ids.length === 0) return Promise.resolve();
    return retry(() => prefetchSchemas(ids, registry, this.u.pause), {
      initialDelayMs: 250,
      retriable: (e) => isAmnesiaError(e, 'REGISTRY_UNAVAILABLE'),
      stopping: () => this.u.stopping() || this.stopped,
      beforeWait: this.u.pause,
      onRetry: (e, attempt, delayMs) =>
        this.log.warn(
          { err: describeError(e), attempt, retryInMs: delayMs },
          'schema registry unavailable, retrying',
        ),
    });
  }

  private receipt(r: Request, status: Receipt['status'], now: number): Receipt {
    return {
      requestId: r.id,
      status,
      interactionsRemoved: r.removed,
      itemsAffected: r.removed,
      completedAt: now,
    };
  }

  private deadLetter(topic: string, m: KafkaMessage, failure: DecodeFailure, counts: CountsByTopic): void {
    const source = {
      topic,
      partition: this.partition,
      offset: m.offset,
      key: m.key,
      value: m.value,
      headers: m.headers,
      timestamp: m.timestamp,
    };
    const message = boundDlqMessage(dlqMessage(source, failure), this.u.dlqMaxBytes);
    const rec: TaggedRecord = { kind: 'dlq', topic: dlqTopic(topic), message, bytes: recordBytes(message) };
    this.dead.push({ rec, topic, reason: failure.reason });
    counts.of(topic).add('invalid');
  }

  private apply(h: Held, counts: CountsByTopic): void {
    const topic = this.u.topics.interactions;
    if (h.dead) return this.deadLetter(topic, h.dead.m, h.dead.failure, counts);
    const e = h.event!;
    const outcome = this.table.interaction(userToken(this.u.tombstoneKey, e.userId), e);
    counts.of(topic).add(outcome);
  }

  /** Applies the held interactions of `userId` recorded no later than `recordMs` (before their deletion). */
  private applyHeld(userId: string, recordMs: number, counts: CountsByTopic): void {
    if (this.held.length === 0) return;
    const keep: Held[] = [];
    for (const h of this.held)
      if (h.event?.userId === userId && h.recordMs <= recordMs) this.apply(h, counts);
      else keep.push(h);
    this.held = keep;
  }

  async flush(): Promise<void> {
    this.cancelFlush();
    const counts = new CountsByTopic();
    const events = this.held.length;
    for (const h of this.held) this.apply(h, counts);
    this.held = [];
    counts.report(this.u.metrics);
    const now = this.now();
    const t = this.u.topics;
    const records: TaggedRecord[] = [];
    const { changes, changelog } = this.table.takeChunk();
    for (const [q, list] of buildDeltas(changes, this.u.parts, this.partition))
      for (const r of list) records.push(record('deltas', t.deltas, q, null, encodeDelta(r)));
    for (const c of changelog) records.push(record('changelog', t.changelog, this.partition, c.key, c.value));
    for (const key of this.dirtyRequests) {
      const marker = Number(key.slice(1));
      const r = (key[0] === 'r' ? this.waiting : this.purging).get(marker);
      records.push(record('changelog', t.changelog, this.partition, key, r ? JSON.stringify(r) : null));
    }
    for (const d of this.dead) records.push(d.rec);
    const receipts = this.receipts;
    for (const r of receipts) {
      const value = this.u.encoder.receipt({ ...r.receipt, completedAt: now });
      records.push(record('receipts', t.receipts, undefined, r.receipt.requestId, value));
    }
    await this.deliver(records);
    this.dirtyRequests = new Set();
    this.receipts = [];
    for (const d of this.dead) this.u.metrics.dlqRecords.inc({ topic: d.topic, reason: d.reason });
    this.dead = [];
    const { metrics, pmetrics } = this.u;
    for (const r of receipts)
      metrics.receiptLatency.observe(
        { status: r.receipt.status },
        Math.max(0, this.now() - r.recordMs) / 1000,
      );
    if (events > 0)
      pmetrics.work.inc({ stage: 'users', partition: String(this.partition), kind: 'events' }, events);
  }

  async periodic(now: number): Promise<void> {
    for (const [marker, r] of this.purging)
      if (r.due !== undefined && r.due <= now) {
        this.purging.delete(marker);
        this.dirtyRequests.add(`p${marker}`);
        this.receipts.push({ receipt: this.receipt(r, 'PURGED', now), recordMs: r.recordMs });
      }
    if (now - this.lastExpiry >= TOMBSTONE_EXPIRY_EVERY_MS) {
      this.lastExpiry = now;
      this.table.expireTombstones(now);
    }
    if (this.receipts.length > 0 || this.table.dirty || this.held.length > 0) await this.flush();
    else await this.tickIfIdle(now);
  }

  protected tickRecords(now: number): TaggedRecord[] {
    const t = this.u.topics;
    const out = [record('ticks', t.changelog, this.partition, TICK_KEY, String(now))];
    // The deltas' segments roll too: each delta partition gets ticks from one user task.
    for (let q = this.partition; q < this.u.parts.count; q += this.u.userPartitions)
      out.push(record('ticks', t.deltas, q, TICK_KEY, String(now)));
    return out;
  }
}
