// How a stage (stage.ts) restores a task that arrives: its producer started first (fencing the
// previous owner), its changelog partition read to the end through the stage's consumer, then its
// inputs placed at the group's committed offsets and the task made live. The stage owns the consumer
// and the serial queue; this module owns the order of those steps and the restore figures.
import { PROGRESS_LOG_MS, progressFields } from '../telemetry/progress.js';
import type { Admin, KafkaMessage } from 'kafkajs';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { retry } from '../kafka/retry.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { PartitionedMetrics, StageName } from './metrics.js';
import { PartitionMap } from '../kafka/partitions.js';
import { pastPosition, retentionGaps } from '../kafka/retention.js';
import { KEY_FINGERPRINT_KEY, POSITIONS_KEY, type Task } from './task.js';

/** One completed restore: partition, seconds (in total and per step), changelog records and bytes. */
export interface RestoreFigures {
  partition: number;
  seconds: number;
  fenceSeconds: number;
  readSeconds: number;
  rebuildSeconds: number;
  records: number;
  bytes: number;
}

/** What a restore needs of its stage. */
export interface RestoreContext {
  readonly name: StageName;
  readonly admin: Admin;
  readonly groupId: string;
  readonly inputs: readonly string[];
  readonly changelog: string;
  readonly pmetrics: PartitionedMetrics;
  readonly metrics: Metrics;
  /** Inputs whose records deleted unread keep the task from going live (deletion requests). */
  readonly gapBlocks?: readonly string[] | undefined;
  /** TOMBSTONE_KEY's fingerprint (state/tombstone-key.ts): the changelog's must be the same. */
  readonly keyFingerprint: string;
  readonly log: Logger;
  /** Moves the stage consumer's fetch position of a topic partition. */
  readonly seek: (topic: string, partition: number, offset: number) => void;
  readonly pauseTopics: (topics: readonly string[], partition: number, paused: boolean) => void;
  /** Whether inputs are paused for maintenance (a task going live keeps them so). */
  readonly inputsPaused: () => boolean;
  readonly stopping: () => boolean;
}

/** A task's restore, owned here: the task itself knows only its phase and positions. */
interface RestoreState {
  /** Where the changelog started and ended when the restore began. */
  from: number;
  end: number;
  /** When progress was last logged. */
  loggedAt: number;
  /** When the restore started, the producer was started (fencing done), the changelog was read. */
  started: number;
  fenced: number;
  read: number;
  begun: boolean;
  /** The input positions the restored changelog's last transaction committed (POSITIONS_KEY). */
  positions: ReadonlyMap<string, number> | undefined;
  /** The key fingerprint the changelog records (KEY_FINGERPRINT_KEY), if any. */
  fingerprint: string | undefined;
  /** Changelog records and bytes (keys and values) read. */
  records: number;
  bytes: number;
  /** Why the task may not go live (deletion requests lost to retention). */
  blocked: string | undefined;
}

export class StageRestore {
  /** Every restore completed (benchmarks). */
  readonly done: RestoreFigures[] = [];
  private readonly states = new WeakMap<Task, RestoreState>();

  constructor(private readonly o: RestoreContext) {}

  private state(t: Task): RestoreState {
    let s = this.states.get(t);
    if (!s) {
      s = {
        from: 0,
        loggedAt: 0,
        end: 0,
        started: 0,
        fenced: 0,
        read: 0,
        begun: false,
        positions: undefined,
        fingerprint: undefined,
        records: 0,
        bytes: 0,
        blocked: undefined,
      };
      this.states.set(t, s);
    }
    return s;
  }

  /** Whether the task's changelog is being read (its producer started, the previous owner fenced). */
  begun(t: Task): boolean {
    return this.states.get(t)?.begun ?? false;
  }

  /** Changelog records the task's restore has still to read (0 once live). */
  remaining(t: Task): number {
    const s = this.states.get(t);
    if (t.phase !== 'restoring' || !s) return 0;
    return Math.max(0, s.end - (t.positions.get(this.o.changelog) ?? 0));
  }

  /** Fences the previous owner, then reads the changelog partition from its start (batches follow). */
  async begin(t: Task): Promise<void> {
    if (t.stopped) return;
    const r = this.state(t);
    r.started = Date.now();
    await retry(() => t.activate(), {
      stopping: () => this.o.stopping() || t.stopped,
      onRetry: (e, attempt) =>
        this.o.log.warn(
          { err: describeError(e), attempt, partition: t.partition },
          'could not start the producer, retrying',
        ),
    });
    if (t.stopped) return;
    const w = (await this.o.admin.fetchTopicOffsets(this.o.changelog)).find(
      (o) => o.partition === t.partition,
    );
    const low = Number(w?.low ?? 0);
    const high = Number(w?.high ?? 0);
    r.end = high;
    r.from = low;
    t.positions.set(this.o.changelog, low);
    r.begun = true;
    r.fenced = Date.now();
    this.noteProgress(t, 0, high - low);
    this.o.log.info(
      { partition: t.partition, records: high - low },
      'restoring a partition from its changelog',
    );
    if (high <= low) return this.finish(t);
    this.o.seek(this.o.changelog, t.partition, low);
    this.o.pauseTopics([this.o.changelog], t.partition, false);
  }

  /** Where a restore stands, for health reasons: "restoring (changelog 309 of 620)". */
  progress(t: Task): string {
    const r = this.state(t);
    if (r.blocked) return `blocked: ${r.blocked}`;
    if (!r.begun) return 'restoring (fencing the previous owner)';
    return `restoring (changelog ${t.positions.get(this.o.changelog) ?? 0} of ${r.end})`;
  }

  /** A restore under way when the group joined again: its changelog is read on from its position. */
  resume(t: Task): void {
    this.o.pauseTopics(this.o.inputs, t.partition, true);
    this.o.pauseTopics([this.o.changelog], t.partition, false);
    this.o.seek(this.o.changelog, t.partition, t.positions.get(this.o.changelog) ?? 0);
  }

  /**
   * Changelog records of a restoring task, from its position `pos` on; the batch ends at `last`.
   * `resolve` marks the batch consumed before the restore may finish.
   */
  async read(
    t: Task,
    messages: KafkaMessage[],
    pos: number,
    last: number,
    resolve: () => void,
  ): Promise<void> {
    const r = this.state(t);
    for (const m of messages) {
      const key = m.key?.toString('utf8') ?? '';
      const value = m.value === null ? null : m.value.toString('utf8');
      if (key === KEY_FINGERPRINT_KEY) r.fingerprint = value ?? undefined;
      else if (key === POSITIONS_KEY)
        r.positions =
          value === null ? undefined : new Map(Object.entries(JSON.parse(value) as Record<string, number>));
      else t.restoreRecord(key, value);
      r.records++;
      r.bytes += (m.key?.length ?? 0) + (m.value?.length ?? 0);
    }
    const { name, changelog } = this.o;
    this.o.pmetrics.restoredRecords.inc({ stage: name }, messages.length);
    this.o.pmetrics.restoredBytes.inc(
      { stage: name },
      messages.reduce((a, m) => a + (m.key?.length ?? 0) + (m.value?.length ?? 0), 0),
    );
    t.positions.set(changelog, Math.max(pos, last + 1));
    resolve();
    const at = t.positions.get(changelog)!;
    this.noteProgress(t, at - r.from, r.end - r.from);
    if (at >= r.end) return this.finish(t);
    this.logProgress(t, r, at);
  }

  /** amnesia_restore_progress_ratio{mode="partitioned"}: this task's share of the instance's restores. */
  private noteProgress(t: Task, done: number, total: number): void {
    this.o.metrics.restoreProgress.update('partitioned', `${this.o.name}/${t.partition}`, done, total);
  }

  /** The task left (its partition moved away): a restore under way no longer counts. */
  dropped(t: Task): void {
    this.o.metrics.restoreProgress.abandon('partitioned', `${this.o.name}/${t.partition}`);
  }

  /** Every PROGRESS_LOG_MS: how far a long restore is, and when it should end at its pace so far. */
  private logProgress(t: Task, r: RestoreState, at: number): void {
    const now = Date.now();
    if (now - Math.max(r.loggedAt, r.fenced) < PROGRESS_LOG_MS) return;
    r.loggedAt = now;
    this.o.log.info(
      { partition: t.partition, ...progressFields(at - r.from, r.end - r.from, now - r.fenced) },
      'restoring a partition from its changelog',
    );
  }

  /**
   * The changelog is read: rebuilds the task, then starts its inputs where the changelog's last
   * transaction committed them (the group's offsets for a changelog written before positions were).
   */
  async finish(t: Task): Promise<void> {
    this.o.metrics.restoreProgress.finish('partitioned', `${this.o.name}/${t.partition}`);
    this.o.pauseTopics([this.o.changelog], t.partition, true);
    const r = this.state(t);
    r.read = Date.now();
    if (r.fingerprint !== undefined && r.fingerprint !== this.o.keyFingerprint) {
      // Its tokens and tombstones were made under another key: deletions would match nothing.
      this.block(
        t,
        `${this.o.changelog} was written under another TOMBSTONE_KEY (fingerprint ${r.fingerprint}, this key ` +
          `${this.o.keyFingerprint}): run every instance with the key it was written with, or rotate (docs/scale-out.md)`,
      );
      return;
    }
    await t.endRestore();
    const rebuilt = Date.now();
    if (t.stopped) return;
    // The task's own state may not fit the configuration (the items changelog's SIMILARITY).
    const refused = t.restoreRefusal();
    if (refused !== undefined) {
      this.block(t, refused);
      return;
    }
    const committed = await this.o.admin.fetchOffsets({
      groupId: this.o.groupId,
      topics: [...this.o.inputs],
    });
    for (const topic of this.o.inputs) {
      const c = Number(
        committed.find((x) => x.topic === topic)?.partitions.find((x) => x.partition === t.partition)
          ?.offset ?? -1,
      );
      const low = Number(
        (await this.o.admin.fetchTopicOffsets(topic)).find((o) => o.partition === t.partition)?.low ?? 0,
      );
      const own = r.positions?.get(topic);
      if (own !== undefined && own !== c)
        this.o.log.warn(
          { partition: t.partition, topic, changelog: own, group: c },
          "the group's committed offset differs from the changelog's: starting from the changelog's",
        );
      // A fresh group (no position, no offset) stands at 0, as a single instance without a snapshot.
      const from = Math.max(own ?? c, 0);
      // Records the task never read were deleted (retention shorter than an outage, or older than
      // a fresh group): the single mode's rule (kafka/retention.ts).
      const tp = { topic, partition: t.partition };
      const gap =
        retentionGaps([tp], PartitionMap.of([[tp, { low }]]), PartitionMap.of([[tp, from]]))[0]?.lost ?? 0;
      this.noteGap(t, topic, gap);
      const start = Math.max(from, low);
      t.positions.set(topic, start);
      // What the group holds committed now: a purge of committed records may start from it.
      if ((own ?? c) >= 0) t.positions.markCommitted([{ ...tp, offset: start }]);
      this.o.seek(topic, t.partition, start);
      if (gap > 0 && this.o.gapBlocks?.includes(topic)) this.block(t, lostReason(topic, gap));
    }
    if (t.stopped || r.blocked) return;
    t.phase = 'live';
    this.o.pauseTopics(this.o.inputs, t.partition, this.o.inputsPaused());
    const seconds = (Date.now() - r.started) / 1000;
    this.o.pmetrics.restoreDuration.observe({ stage: this.o.name }, seconds);
    const { records, bytes } = r;
    this.done.push({
      partition: t.partition,
      seconds,
      fenceSeconds: (r.fenced - r.started) / 1000,
      readSeconds: (r.read - r.fenced) / 1000,
      rebuildSeconds: (rebuilt - r.read) / 1000,
      records,
      bytes,
    });
    this.o.log.info({ partition: t.partition, seconds, records, bytes }, 'partition restored: live');
  }

  /**
   * A live batch fetched past the task's position: a stale fetch (sought back), or records retention
   * deleted unread while the inputs were paused (kafka/retention.ts pastPosition; a seek back would
   * loop): counted, and lost deletion requests block the task. Where to go on from, or undefined.
   */
  async pastPosition(t: Task, topic: string, pos: number): Promise<number | undefined> {
    const offsets = await this.o.admin.fetchTopicOffsets(topic);
    const past = pastPosition(pos, Number(offsets.find((o) => o.partition === t.partition)?.low ?? 0));
    if (!past.gap) {
      this.o.seek(topic, t.partition, pos);
      return undefined;
    }
    this.noteGap(t, topic, past.lost);
    if (this.o.gapBlocks?.includes(topic)) {
      this.block(t, lostReason(topic, past.lost));
      t.phase = 'restoring'; // not live: its state may hold a user a lost request named
      this.o.pauseTopics(this.o.inputs, t.partition, true);
      return undefined;
    }
    t.positions.set(topic, past.resumeAt);
    return past.resumeAt;
  }

  private noteGap(t: Task, topic: string, lost: number): void {
    this.o.metrics.retentionGap.set({ topic, partition: String(t.partition) }, lost);
    if (lost > 0)
      this.o.log.error(
        { partition: t.partition, topic, records: lost },
        'input records were deleted (retention) before this partition read them: they are skipped',
      );
  }

  /** Going live would break a promise (a lost request, another key): refuse, as the single mode. */
  private block(t: Task, reason: string): void {
    this.state(t).blocked = reason;
    this.o.metrics.blocked.set(1);
    this.o.log.error({ partition: t.partition, reason }, 'partition blocked');
  }
}

function lostReason(topic: string, lost: number): string {
  return `${lost} records of ${topic} were deleted before they were read (ACCEPT_DELETION_GAP)`;
}
