// One stage of the partitioned mode on Kafka: a consumer group over the stage's inputs and its
// changelog, tasks assigned by partition (assigner.ts), and what an assignment means. A task that
// arrives is restored (stage-restore.ts) — its producer started first (fencing the previous owner),
// its changelog partition read to the end through the same consumer, then its inputs consumed from
// the group's committed offsets. A task that leaves is dropped. A task whose producer is fenced is
// dropped, or restored again if the group still gives it to us. All work of the stage's tasks runs through one
// serial queue; kafkajs forgets fetch positions at every join, so the join seeks every kept task back
// to its own positions.
import type { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Config } from '../config.js';
import { describeError, isAmnesiaError } from '../errors.js';
import type { Logger } from '../log.js';
import type { HealthMonitor } from '../kafka/health.js';
import { offsetsPort } from '../kafka/kafkajs-ports.js';
import { consumerSettings } from '../kafka/client.js';
import type { Metrics } from '../telemetry/metrics.js';
import { SerialQueue } from '../kafka/serial-queue.js';
import { holdsPartition, taskAssigner } from './assigner.js';
import type { Pause } from './item-table.js';
import type { PartitionedMetrics, StageName, TaskFigures } from './metrics.js';
import { stageMonitor } from './stage-health.js';
import { StageRestore, type RestoreFigures } from './stage-restore.js';
import type { Task } from './task.js';

export interface StageOptions {
  readonly name: StageName;
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly config: Config;
  readonly log: Logger;
  readonly groupId: string;
  readonly inputs: readonly string[];
  readonly changelog: string;
  readonly instanceId: string;
  readonly pmetrics: PartitionedMetrics;
  readonly metrics: Metrics;
  /** A new task for a partition; `common` carries the stage's hooks. */
  readonly makeTask: (partition: number, common: StageHooks) => Task;
  readonly onFatal?: ((e: unknown) => void) | undefined;
  /** Asked before an input batch is applied; false leaves it unread (the memory budget). */
  readonly admit?: () => boolean;
  /** Inputs whose records deleted unread block a task (the user stage's deletion requests). */
  readonly gapBlocks?: readonly string[];
  /** TOMBSTONE_KEY's fingerprint: a changelog written under another key blocks its task. */
  readonly keyFingerprint: string;
}

/** What the stage gives its tasks. */
export interface StageHooks {
  readonly enqueue: (work: () => Promise<void>) => void;
  readonly pause: Pause;
  readonly stopping: () => boolean;
}

const PERIODIC_MS = 1_000;

export class Stage {
  private readonly tasks = new Map<number, Task>();
  private readonly queue = new SerialQueue();
  private consumer: Consumer | undefined;
  private heartbeat: (() => Promise<void>) | undefined;
  private stopping = false;
  /** Why the inputs are paused (an operator's request, the memory budget); fetched while empty. */
  private readonly pausedFor = new Set<string>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private memberId: string | undefined;
  /** The group's last assignment to this member (changelog partitions = tasks). */
  private assigned = new Set<number>();
  /** Assigned partitions whose task was dropped after a fencing the group's answer did not explain. */
  private readonly unheld = new Set<number>();
  private rechecking = false;
  /** True once the group gave this member an assignment (possibly empty). */
  joined = false;
  private readonly log: Logger;
  private readonly restore: StageRestore;
  private readonly monitor: HealthMonitor;
  private lastBatchAt = Date.now();

  constructor(private readonly o: StageOptions) {
    this.log = o.log.child({ module: `stage-${o.name}` });
    this.monitor = stageMonitor(
      {
        inputs: o.inputs,
        tasks: () => this.tasks.values(),
        running: () => this.joined && !this.stopping,
        inputsPaused: () => this.inputsPaused,
        busy: () => this.queue.busy,
        lastBatchAt: () => this.lastBatchAt,
        log: this.log,
      },
      offsetsPort(o.admin),
      o.config.health,
    );
    this.restore = new StageRestore({
      ...o,
      log: this.log,
      seek: (topic, partition, offset) => this.seek(topic, partition, offset),
      pauseTopics: (topics, p, paused) => this.pauseTopics(topics, p, paused),
      inputsPaused: () => this.inputsPaused,
      stopping: () => this.stopping,
    });
  }

  /** Every restore completed: partition, seconds, changelog records and bytes read (benchmarks). */
  get restores(): readonly RestoreFigures[] {
    return this.restore.done;
  }

  figures(): TaskFigures[] {
    return [...this.tasks.values()].map((t) => ({
      ...t.figures(),
      restoreRemaining: this.restore.remaining(t),
    }));
  }

  /**
   * Live unless the stage's consumer is wedged (stage-health.ts); ready when every held task is live,
   * none has been failing to deliver for longer than `stallMs`, and the stage is live.
   */
  health(stallMs: number): { live: boolean; ready: boolean; reasons: string[] } {
    const reasons: string[] = [];
    const { live, reasons: wedged } = this.monitor.verdict();
    if (!live) reasons.push(...wedged.map((r) => `${this.o.name} stage: ${r}`));
    if (!this.joined) reasons.push(`${this.o.name} stage: not in its group yet`);
    for (const p of this.unheld)
      reasons.push(
        `${this.o.name} partition ${p}: assigned, task dropped after a fencing (checking the group)`,
      );
    for (const t of this.tasks.values()) {
      if (t.phase !== 'live')
        reasons.push(`${this.o.name} partition ${t.partition}: ${this.restore.progress(t)}`);
      else if (t.stuckMs() > stallMs)
        reasons.push(
          `${this.o.name} partition ${t.partition}: outputs failing for ${Math.round(t.stuckMs() / 1000)} s`,
        );
    }
    return { live, ready: reasons.length === 0, reasons };
  }

  /** The longest a held task's delivery has been failing (0 while outputs flow). */
  stuckMs(): number {
    return Math.max(0, ...[...this.tasks.values()].map((t) => t.stuckMs()));
  }

  /** Milliseconds since the stage's consumer last delivered a batch. */
  idleMs(): number {
    return this.monitor.idleMs();
  }

  get restoring(): boolean {
    return [...this.tasks.values()].some((t) => t.phase !== 'live');
  }

  get held(): number {
    return this.tasks.size;
  }

  /** The task of a partition (tests, queries). */
  task(partition: number): Task | undefined {
    return this.tasks.get(partition);
  }

  /** True while the inputs of every held partition are paused, for one reason or more. */
  get inputsPaused(): boolean {
    return this.pausedFor.size > 0;
  }

  /**
   * Stops (or resumes) fetching the inputs of every partition held now and later, for one reason
   * (maintenance and benchmarks: 'requested'; the memory budget): fetching resumes once no reason is left.
   */
  pauseInputs(paused: boolean, reason = 'requested'): void {
    const before = this.inputsPaused;
    if (paused) this.pausedFor.add(reason);
    else this.pausedFor.delete(reason);
    if (this.inputsPaused === before) return;
    for (const t of this.tasks.values())
      if (t.phase === 'live') this.pauseTopics(this.o.inputs, t.partition, this.inputsPaused);
  }

  async start(): Promise<void> {
    const { kafka, config, groupId } = this.o;
    const c = kafka.consumer({
      groupId,
      partitionAssigners: [
        taskAssigner(() => ({ instanceId: this.o.instanceId, owned: [...this.tasks.keys()] })),
      ],
      ...consumerSettings(config),
    });
    this.consumer = c;
    c.on(c.events.GROUP_JOIN, (e) => this.onJoin(e.payload.memberAssignment, e.payload.memberId));
    c.on(c.events.CRASH, (e) => {
      const { error, restart } = e.payload as { error: unknown; restart: boolean };
      this.log.error({ err: describeError(error), restart }, 'consumer crashed');
      if (!restart) this.o.onFatal?.(error);
    });
    await c.connect();
    await c.subscribe({ topics: [...this.o.inputs, this.o.changelog], fromBeginning: true });
    await c.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.eachBatch(payload),
    });
    this.timer = setInterval(() => this.periodic(), PERIODIC_MS);
    this.timer.unref?.();
    this.monitor.start();
  }

  private hooks(partition: number, task: () => Task | undefined): StageHooks {
    return {
      enqueue: (work) =>
        void this.queue.run(async () => {
          const t = task();
          if (t && !t.stopped && this.tasks.get(partition) === t && t.phase === 'live')
            await this.guarded(t, work);
        }),
      pause: async () => {
        await this.heartbeat?.().catch(() => undefined);
        await new Promise<void>((r) => setImmediate(r));
      },
      stopping: () => this.stopping,
    };
  }

  private pauseTopics(topics: readonly string[], p: number, paused: boolean): void {
    const list = topics.map((topic) => ({ topic, partitions: [p] }));
    if (paused) this.consumer?.pause(list);
    else this.consumer?.resume(list);
  }

  private seek(topic: string, partition: number, offset: number): void {
    this.consumer?.seek({ topic, partition, offset: String(offset) });
  }

  /** kafkajs GROUP_JOIN: synchronous, before the first fetch of the generation. */
  private onJoin(assignment: Record<string, number[]>, memberId: string): void {
    this.memberId = memberId;
    this.joined = true;
    if (this.stopping) return;
    const assigned = new Set(assignment[this.o.changelog] ?? []);
    this.assigned = assigned;
    this.unheld.clear();
    this.log.info({ partitions: [...assigned] }, 'partitions assigned');
    for (const [p, t] of this.tasks) if (!assigned.has(p)) this.drop(t);
    for (const p of assigned) {
      const t = this.tasks.get(p);
      if (t?.phase === 'live') {
        // Kept: fetch from our positions, not the group's commits.
        this.pauseTopics([this.o.changelog], p, true);
        this.pauseTopics(this.o.inputs, p, this.inputsPaused);
        for (const topic of this.o.inputs) {
          const pos = t.positions.get(topic);
          if (pos !== undefined) this.seek(topic, p, pos);
        }
      } else if (t && this.restore.begun(t)) this.restore.resume(t);
      else if (!t) this.add(p);
    }
  }

  private add(p: number): void {
    this.pauseTopics([...this.o.inputs, this.o.changelog], p, true);
    const holder: { task?: Task } = {};
    const t = this.o.makeTask(
      p,
      this.hooks(p, () => holder.task),
    );
    holder.task = t;
    this.tasks.set(p, t);
    void this.queue
      .run(() => this.restore.begin(t))
      .catch((e: unknown) => {
        this.log.error({ err: describeError(e), partition: p }, 'restore failed; retrying');
        if (this.tasks.get(p) === t) this.restart(t);
      });
  }

  private drop(t: Task): void {
    t.stop();
    this.restore.dropped(t);
    this.tasks.delete(t.partition);
    this.pauseTopics([...this.o.inputs, this.o.changelog], t.partition, true);
    void this.queue.run(() => t.deactivate());
  }

  private restart(t: Task): void {
    this.drop(t);
    this.add(t.partition);
  }

  private eachBatch(payload: EachBatchPayload): Promise<void> {
    this.lastBatchAt = Date.now();
    return this.queue.run(async () => {
      this.heartbeat = () => payload.heartbeat();
      const { batch } = payload;
      const t = this.tasks.get(batch.partition);
      if (!t || t.stopped || payload.isStale()) return;
      t.positions.noteHighWatermark(batch.topic, Number(batch.highWatermark));
      let pos = t.positions.get(batch.topic);
      if (pos === undefined) return;
      const fetched = Number(
        (batch as { fetchedOffset?: string }).fetchedOffset ?? batch.firstOffset() ?? pos,
      );
      const restoring = batch.topic === this.o.changelog;
      if (restoring ? t.phase !== 'restoring' || !this.restore.begun(t) : t.phase !== 'live') return;
      if (fetched > pos && !restoring) {
        // Stale, or records retention deleted unread (a gap: never a seek loop).
        const resumeAt = await this.restore.pastPosition(t, batch.topic, pos);
        if (resumeAt === undefined) return;
        pos = resumeAt;
      }
      if (fetched > pos || (!restoring && this.o.admit?.() === false)) {
        this.seek(batch.topic, batch.partition, pos);
        return;
      }
      const last = Number(batch.lastOffset());
      const messages = batch.messages.filter((m) => Number(m.offset) >= pos);
      if (restoring)
        return this.restore.read(t, messages, pos, last, () => payload.resolveOffset(String(last)));
      if (messages.length > 0) await this.guarded(t, () => t.onRecords(batch.topic, messages));
      if (!t.stopped && last + 1 > (t.positions.get(batch.topic) ?? 0))
        t.positions.set(batch.topic, last + 1);
      payload.resolveOffset(String(last));
    });
  }

  /** Runs a task's work; a fenced producer means another owner: drop the task, or restore it again. */
  private async guarded(t: Task, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (e) {
      if (!isAmnesiaError(e, 'PRODUCER_FENCED')) throw e;
      this.o.metrics.producerFenced.inc();
      this.log.warn({ partition: t.partition }, 'producer fenced: another instance took the partition over');
      const { admin, groupId, changelog } = this.o;
      if (await holdsPartition(admin, groupId, this.memberId, changelog, t.partition)) this.restart(t);
      else if (this.tasks.get(t.partition) === t) {
        // Another member holds it, or the group did not answer (the broker away): until the next
        // assignment says, the partition is checked again every second (periodic) and reported.
        this.drop(t);
        if (this.assigned.has(t.partition)) this.unheld.add(t.partition);
      }
    }
  }

  private periodic(): void {
    if (this.stopping) return;
    void this.recheckUnheld();
    const now = Date.now();
    for (const t of this.tasks.values())
      if (t.phase === 'live')
        void this.queue
          .run(() => this.guarded(t, () => (t.stopped ? Promise.resolve() : t.periodic(now))))
          .catch((e: unknown) =>
            this.log.error({ err: describeError(e), partition: t.partition }, 'periodic work failed'),
          );
  }

  /** A partition still ours by the group's answer gets its task back (restored from its changelog). */
  private async recheckUnheld(): Promise<void> {
    if (this.rechecking || this.unheld.size === 0) return;
    this.rechecking = true;
    try {
      const { admin, groupId, changelog } = this.o;
      for (const p of [...this.unheld]) {
        if (!(await holdsPartition(admin, groupId, this.memberId, changelog, p))) continue;
        if (this.stopping || !this.unheld.delete(p) || this.tasks.has(p)) continue;
        this.log.info({ partition: p }, 'partition still ours after a fencing: restoring it');
        this.add(p);
      }
    } finally {
      this.rechecking = false;
    }
  }

  /** Graceful: flush and commit every live task, leave the group, stop the producers. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.monitor.stop();
    if (this.timer) clearInterval(this.timer);
    await this.queue.run(async () => {
      for (const t of this.tasks.values())
        if (t.phase === 'live')
          await this.guarded(t, () => t.flush()).catch((e: unknown) =>
            this.log.warn({ err: describeError(e) }, 'final flush failed'),
          );
    });
    await this.consumer?.stop().catch(() => undefined);
    await this.consumer?.disconnect().catch(() => undefined);
    // Queued after any flush a timer or the last batch queued: a producer disconnected mid-delivery
    // leaves its transaction open, read_committed readers stopped at it until the broker aborts it.
    await this.queue.run(async () => {
      for (const t of this.tasks.values()) {
        t.stop();
        await t.deactivate();
      }
    });
    this.tasks.clear();
  }
}
