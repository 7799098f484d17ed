// A user-stage task: partition p of both input topics, of the repartition topic and of the acks.
// The input records of p are decoded, validated and routed to their user's home partition of the
// repartition topic (route.ts), whatever partitioner their producer used; p's own users arrive
// there. Their interactions are held until the chunk's flush; a deletion request applies its
// user's held interactions recorded no later than it, forgets the user and flushes at once (the
// single mode's per-user order). A flush turns the chunk into deltas (deltas.ts), changelog
// records, routed records, dead letters and receipts, delivered with the input positions in one
// transaction. Acks complete a request's FORGOTTEN; PURGED follows when the purge bound has passed
// and the routed records up to the request are unreadable. Pending receipts are changelog records
// too: they survive a move.
import type { Admin, KafkaMessage } from 'kafkajs';
import { decodeInteraction } from '../input/codec.js';
import { applyChunk, HeldRecords, type HeldSink } from '../input/held.js';
import { resolveSchemas } from '../input/schema-wait.js';
import { DeadLetters } from '../output/dlq.js';
import { answerDeletion } from '../input/deletion-answer.js';
import { CountsByTopic } from '../input/intake.js';
import type { OutputEncoder, Receipt } from '../output/outbox.js';
import type { PartitionOffset } from '../kafka/partitions.js';
import type { SchemaRegistryClient } from '../kafka/registry.js';
import type { InputRules } from '../input/validate.js';
import { buildDeltas, encodeDelta } from './deltas.js';
import { userToken, type ItemPartitions } from './ids.js';
import type { TaskFigures } from './metrics.js';
import { CommittedPurge } from './purge.js';
import { LateCounts } from './late-counts.js';
import { decodeRouted, encodeRoutedDeletion, encodeRoutedInteraction, homeOf } from './route.js';
import { record, Task, TICK_KEY, type TaggedRecord, type TaskDeps } from './task.js';
import { UserTable, type UserTableOptions } from './user-table.js';

export interface UserTaskDeps extends TaskDeps {
  readonly topics: {
    readonly interactions: string;
    readonly deletions: string;
    /** The users' home partitions (route.ts). */
    readonly repartition: string;
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
  readonly admin: Pick<Admin, 'deleteTopicRecords'>;
}

/**
 * A deletion request between FORGOTTEN's acks and PURGED, under its marker: −(offset + 1) of the
 * routed request in the repartition topic (a changelog written before routing has offsets ≥ 0 of
 * the deletions topic: the two never collide).
 */
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
  private readonly held = new HeldRecords<string>();
  private readonly purge: CommittedPurge;
  /** marker (see Request) → waiting for acks ('r') or for PURGED ('p'). */
  private readonly waiting = new Map<number, Request>();
  private readonly purging = new Map<number, Request>();
  /** Late events counted into receipts not yet out (late-counts.ts). */
  private readonly late = new LateCounts();
  private dirtyRequests = new Set<string>();
  private receipts: { receipt: Receipt; recordMs: number }[] = [];
  private readonly dead: DeadLetters;
  private lastExpiry: number;

  constructor(private readonly u: UserTaskDeps) {
    super(u);
    this.inputs = [u.topics.deletions, u.topics.interactions, u.topics.repartition, u.topics.acks];
    this.table = new UserTable(u.table, this.now());
    this.purge = new CommittedPurge(u.admin, u.topics.repartition, u.partition, this.log, (n) =>
      u.pmetrics.purgedRouted.inc(n),
    );
    this.dead = new DeadLetters(u.metrics, u.dlqMaxBytes);
    // As the single mode: the first expiry one interval after the task starts.
    this.lastExpiry = this.now();
  }

  protected get changelogTopic(): string {
    return this.u.topics.changelog;
  }

  figures(): Omit<TaskFigures, 'restoreRemaining'> {
    const s = this.table.size;
    return {
      stage: 'users',
      partition: this.partition,
      phase: this.phase,
      lag: this.lag(),
      stateBytes: this.table.stateBytes(),
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
    this.table.endRestore(this.now());
    return Promise.resolve();
  }

  override restoreRefusal(): string | undefined {
    return this.table.restoreRefusal();
  }

  // ---------------------------------------------------------------- live

  async onRecords(topic: string, messages: readonly KafkaMessage[]): Promise<void> {
    const last = Number(messages[messages.length - 1]!.offset);
    const t = this.u.topics;
    if (topic === t.interactions || topic === t.deletions) {
      await resolveSchemas(messages, this.u.registry, {
        log: this.log,
        heartbeat: this.u.pause,
        stopping: () => this.u.stopping() || this.stopped,
      });
      const routed = this.route(topic, messages);
      this.positions.set(topic, last + 1);
      // Routed at once (a user's records reach home in about the order they arrived); the held
      // chunk is applied with it only when due.
      await this.flush(this.chunkDue(), routed);
      return;
    }
    if (topic === t.repartition) {
      const forgot = this.applyRouted(messages);
      this.positions.set(topic, last + 1);
      if (forgot || this.chunkDue()) await this.flush();
      else this.scheduleFlush(this.linger() - (performance.now() - this.held.since));
      return;
    }
    // Acknowledgements of item partitions. Held events are applied first: a late one the tombstone
    // drops still counts in a receipt about to go out (late-counts.ts).
    if (this.waiting.size > 0) await this.applyHeld();
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
      this.late.done(ack.m);
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

  /** Whether the held chunk is full or its first record has waited the linger. */
  private chunkDue(): boolean {
    if (this.held.size === 0) return false;
    return this.held.size >= this.chunkLimit() || performance.now() - this.held.since >= this.linger();
  }

  /** The repartition position commits only up to the first routed record still held (unapplied). */
  protected override inputOffsets(): PartitionOffset[] {
    const first = this.held.records[0];
    const rep = this.u.topics.repartition;
    return super
      .inputOffsets()
      .map((o) => (first && o.topic === rep ? { ...o, offset: Math.min(o.offset, first.offset) } : o));
  }

  /**
   * Input records of this partition to their users' home partitions: decoded and validated here
   * (dead letters and REJECTED answers where they arrived), named by token when they leave.
   */
  private route(topic: string, messages: readonly KafkaMessage[]): TaggedRecord[] {
    const { u } = this;
    const routed: TaggedRecord[] = [];
    const counts = new CountsByTopic();
    const sink = this.sink(counts);
    for (const m of messages) {
      let token: string;
      let value: string;
      if (topic === u.topics.interactions) {
        const d = decodeInteraction(m, u.registry, u.inputRules);
        if (!d.ok) {
          sink.deadLetter(topic, m, d);
          continue;
        }
        token = userToken(u.tombstoneKey, d.value.userId);
        value = encodeRoutedInteraction(token, d.value, u.tombstoneKey);
      } else {
        const at = { topic, partition: this.partition, offset: m.offset };
        const a = answerDeletion(m, at, u.registry, u.inputRules, { metrics: u.metrics, log: this.log });
        if (!a.ok) {
          sink.deadLetter(topic, m, a.failure);
          this.receipts.push({ receipt: a.receipt, recordMs: Number(m.timestamp) });
          continue;
        }
        token = userToken(u.tombstoneKey, a.deletion.userId);
        value = encodeRoutedDeletion(token, a.deletion);
      }
      const home = homeOf(token, u.userPartitions);
      routed.push(record('routed', u.topics.repartition, home, null, value, { timestamp: m.timestamp }));
    }
    counts.report(u.metrics);
    return routed;
  }

  /** This partition's users' records: interactions held, deletion requests applied. True if any forgot. */
  private applyRouted(messages: readonly KafkaMessage[]): boolean {
    const t = this.u.topics;
    const counts = new CountsByTopic();
    const sink = this.sink(counts);
    let forgot = false;
    for (const m of messages) {
      const r = decodeRouted(m);
      if (!r.ok) {
        sink.deadLetter(t.repartition, m, r);
        continue;
      }
      if (r.kind === 'interaction') {
        // Counted under the input topic it came from, as before routing.
        this.held.hold(t.interactions, m, { ok: true, value: r.event, format: 'json' });
        continue;
      }
      const d = r.deletion;
      const recordMs = Number(m.timestamp);
      this.held.applyUserBefore(d.userId, recordMs, sink);
      const marker = -(Number(m.offset) + 1);
      const held = this.table.itemsOf(d.userId);
      const removed = this.table.forget(d.userId, d.requestedAt, marker);
      this.waiting.set(marker, { id: d.requestId, removed, recordMs, acks: [] });
      this.late.forgot(d.userId, marker, held);
      this.dirtyRequests.add(`r${marker}`);
      counts.of(t.deletions).add('applied');
      forgot = true;
    }
    counts.report(this.u.metrics);
    return forgot;
  }

  /** A late event a tombstone dropped before its request's FORGOTTEN counts in it (late-counts.ts). */
  private countLate(e: { userId: string; itemId: string; action: 'ADD' | 'REMOVE' }): void {
    const c = this.late.dropped(e.userId, e.itemId, e.action);
    const req = c && this.waiting.get(c.marker);
    if (!c || !req) return;
    this.waiting.set(c.marker, { ...req, removed: req.removed + c.delta });
    this.dirtyRequests.add(`r${c.marker}`);
  }

  /** Whether the routed records up to a request (and the request) are unreadable now. */
  private routedPurged(marker: number): boolean {
    return marker >= 0 || this.purge.upTo >= -marker;
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

  /** Applied held records go to the user table (interactions) or the DLQ, counted per topic. */
  private sink(counts: CountsByTopic): HeldSink<string> {
    return {
      // Routed events name their user by token (route.ts).
      interaction: (e, topic) => {
        const outcome = this.table.interaction(e.userId, e);
        if (outcome === 'suppressed_late') this.countLate(e);
        counts.of(topic).add(outcome);
      },
      deadLetter: (topic, m, failure) => {
        this.dead.add({ topic, partition: this.partition, m }, failure);
        counts.of(topic).add('invalid');
      },
    };
  }

  /** Applies the whole held chunk to the table (and the DLQ), counted; returns how many records. */
  private async applyHeld(): Promise<number> {
    const chunk = this.held.take();
    if (chunk.length === 0) return 0;
    const counts = new CountsByTopic();
    await applyChunk(chunk, this.sink(counts), this.u.pause);
    counts.report(this.u.metrics);
    return chunk.length;
  }

  /** Delivers what is pending (and `routed`); `applyHeld` false leaves the held chunk held. */
  async flush(applyHeld = true, routed: readonly TaggedRecord[] = []): Promise<void> {
    if (applyHeld) this.cancelFlush();
    const started = performance.now();
    const applied = applyHeld ? await this.applyHeld() : 0;
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
    for (const d of this.dead.records()) records.push({ ...d, kind: 'dlq' });
    records.push(...routed);
    const receipts = this.receipts;
    for (const r of receipts) {
      const value = this.u.encoder.receipt({ ...r.receipt, completedAt: now });
      records.push(record('receipts', t.receipts, undefined, r.receipt.requestId, value));
    }
    await this.deliver(records);
    this.dirtyRequests = new Set();
    this.receipts = [];
    this.dead.delivered();
    if (applyHeld) this.noteFlush(performance.now() - started, applied);
    const { metrics, pmetrics } = this.u;
    for (const r of receipts)
      metrics.receiptLatency.observe(
        { status: r.receipt.status },
        Math.max(0, this.now() - r.recordMs) / 1000,
      );
    if (applied > 0)
      pmetrics.work.inc({ stage: 'users', partition: String(this.partition), kind: 'events' }, applied);
  }

  async periodic(now: number): Promise<void> {
    const t = this.u.topics;
    // A PURGED due waits for its routed records: purge at once then, else every PURGE_EVERY_MS.
    const due = [...this.purging].some(
      ([m, r]) => r.due !== undefined && r.due <= now && !this.routedPurged(m),
    );
    await this.purge.run(this.positions.committed(t.repartition), now, due);
    for (const [marker, r] of this.purging)
      if (r.due !== undefined && r.due <= now && this.routedPurged(marker)) {
        this.purging.delete(marker);
        this.dirtyRequests.add(`p${marker}`);
        this.receipts.push({ receipt: this.receipt(r, 'PURGED', now), recordMs: r.recordMs });
      }
    if (now - this.lastExpiry >= TOMBSTONE_EXPIRY_EVERY_MS) {
      this.lastExpiry = now;
      this.table.expireTombstones(now);
    }
    this.table.expireDue(now, true);
    if (this.receipts.length > 0 || this.table.dirty || this.held.size > 0) await this.flush();
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
