// A user-stage task: input partition p of both input topics and of the acks. Interactions are held
// until the chunk's flush; a deletion request applies its user's held interactions recorded no later
// than it, forgets the user and flushes at once (the single mode's per-user order). A flush turns
// the chunk into deltas (deltas.ts), changelog records, dead letters and receipts, delivered with
// the input positions in one transaction. Acks complete a request's FORGOTTEN; PURGED follows when
// the purge bound has passed. Pending receipts are changelog records too: they survive a move.
import type { KafkaMessage } from 'kafkajs';
import { decodeInteraction } from '../input/codec.js';
import { applyChunk, HeldRecords, type HeldSink } from '../input/held.js';
import { resolveSchemas } from '../input/schema-wait.js';
import { DeadLetters } from '../output/dlq.js';
import { answerDeletion } from '../input/deletion-answer.js';
import { CountsByTopic } from '../input/intake.js';
import type { OutputEncoder, Receipt } from '../output/outbox.js';
import type { SchemaRegistryClient } from '../kafka/registry.js';
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
  private readonly held = new HeldRecords<string>();
  /** marker (the request's offset) → waiting for acks ('r') or for PURGED ('p'). */
  private readonly waiting = new Map<number, Request>();
  private readonly purging = new Map<number, Request>();
  private dirtyRequests = new Set<string>();
  private receipts: { receipt: Receipt; recordMs: number }[] = [];
  private readonly dead: DeadLetters;
  private lastExpiry: number;

  constructor(private readonly u: UserTaskDeps) {
    super(u);
    this.inputs = [u.topics.deletions, u.topics.interactions, u.topics.acks];
    this.table = new UserTable(u.table);
    this.dead = new DeadLetters(u.metrics, u.dlqMaxBytes);
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
      stateBytes: s.pairs * 90 + s.users * (150 + ringBytes(this.u.table.dedupWindow)) + s.tombstones * 60,
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
    if (topic !== t.acks) {
      await resolveSchemas(messages, this.u.registry, {
        log: this.log,
        heartbeat: this.u.pause,
        stopping: () => this.u.stopping() || this.stopped,
      });
    }
    if (topic === t.interactions) {
      for (const m of messages)
        this.held.hold(topic, m, decodeInteraction(m, this.u.registry, this.u.inputRules));
      this.positions.set(topic, last + 1);
      const waited = performance.now() - this.held.since;
      if (this.held.size >= this.chunkLimit() || waited >= this.linger()) await this.flush();
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
          this.sink(counts).deadLetter(topic, m, a.failure);
          this.receipts.push({ receipt: a.receipt, recordMs });
          continue;
        }
        const d = a.deletion;
        this.held.applyUserBefore(d.userId, recordMs, this.sink(counts));
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
      interaction: (e, topic) => {
        const outcome = this.table.interaction(userToken(this.u.tombstoneKey, e.userId), e);
        counts.of(topic).add(outcome);
      },
      deadLetter: (topic, m, failure) => {
        this.dead.add({ topic, partition: this.partition, m }, failure);
        counts.of(topic).add('invalid');
      },
    };
  }

  async flush(): Promise<void> {
    this.cancelFlush();
    const started = performance.now();
    const counts = new CountsByTopic();
    const chunk = this.held.take();
    await applyChunk(chunk, this.sink(counts), this.u.pause);
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
    for (const d of this.dead.records()) records.push({ ...d, kind: 'dlq' });
    const receipts = this.receipts;
    for (const r of receipts) {
      const value = this.u.encoder.receipt({ ...r.receipt, completedAt: now });
      records.push(record('receipts', t.receipts, undefined, r.receipt.requestId, value));
    }
    await this.deliver(records);
    this.dirtyRequests = new Set();
    this.receipts = [];
    this.dead.delivered();
    this.noteFlush(performance.now() - started, chunk.length);
    const { metrics, pmetrics } = this.u;
    for (const r of receipts)
      metrics.receiptLatency.observe(
        { status: r.receipt.status },
        Math.max(0, this.now() - r.recordMs) / 1000,
      );
    if (chunk.length > 0)
      pmetrics.work.inc({ stage: 'users', partition: String(this.partition), kind: 'events' }, chunk.length);
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

/** A user's eventId ring at most (an array of `window` doubles), counted in MODEL_MEMORY_BYTES. */
function ringBytes(window: number): number {
  return window === 0 ? 0 : 32 + 8 * window;
}
