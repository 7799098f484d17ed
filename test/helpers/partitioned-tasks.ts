// The partitioned mode's tasks without a broker (unit tests): user tasks and item tasks over an
// in-memory log that their sinks append to, in transaction order, and a pump that feeds every task
// what its inputs hold beyond its position until nothing moves.
import type { KafkaMessage } from 'kafkajs';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { ItemPartitions, partitionOf } from '../../src/partitioned/ids.js';
import { ItemTask } from '../../src/partitioned/item-task.js';
import { createPartitionedMetrics } from '../../src/partitioned/metrics.js';
import { UserTask } from '../../src/partitioned/user-task.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { OutputEncoder } from '../../src/output/outbox.js';
import type { PartitionOffset } from '../../src/kafka/partitions.js';
import type { Outgoing, OutputSink } from '../../src/kafka/ports.js';
import type { scenario } from './generator.js';
import { foldListRecord, type RefList } from './oracle.js';

export const KEY = 'a-test-key-of-sixteen-chars-or-more';
export const P = 3;
export const Q = 4;
export const TOPICS = {
  interactions: 'in',
  deletions: 'del',
  repartition: 'rep',
  acks: 'acks',
  deltas: 'deltas',
  usersChangelog: 'ucl',
  itemsChangelog: 'icl',
  receipts: 'rec',
  similarities: 'sim',
};
export const config = loadConfig({ TOP_K: '4', BATCH_MAX_EVENTS: '25', BATCH_MAX_MS: '60000' });

/** A log of topic-partitions that sinks append to, in transaction order. */
export class Log {
  readonly topics = new Map<string, Map<number, KafkaMessage[]>>();
  /** Per `topic/partition`: records below it were deleted (DeleteRecords). */
  readonly low = new Map<string, number>();
  /** DeleteRecords fails while set (a broker refusing it). */
  purgeFails = false;
  append(
    topic: string,
    partition: number,
    key: string | null,
    value: Buffer | string | null,
    timestamp = Date.now(),
  ): number {
    let parts = this.topics.get(topic);
    if (!parts) this.topics.set(topic, (parts = new Map()));
    let list = parts.get(partition);
    if (!list) parts.set(partition, (list = []));
    list.push({
      offset: String(list.length),
      key: key === null ? null : Buffer.from(key),
      value: value === null ? null : Buffer.from(value),
      timestamp: String(timestamp),
      attributes: 0,
      headers: {},
    });
    return list.length - 1;
  }
  records(topic: string, partition: number): KafkaMessage[] {
    return this.topics.get(topic)?.get(partition) ?? [];
  }
}

function sink(log: Log): OutputSink {
  return {
    activate: () => Promise.resolve(),
    deactivate: () => Promise.resolve(),
    deliver(records: readonly Outgoing[], _offsets: readonly PartitionOffset[]) {
      for (const r of records) {
        const key = r.message.key === null || r.message.key === undefined ? null : String(r.message.key);
        const value = (r.message.value as Buffer | string | null | undefined) ?? null;
        // Unpartitioned records (receipts, DLQ) go to partition 0 of their topic here.
        const ts = r.message.timestamp === undefined ? undefined : Number(r.message.timestamp);
        log.append(r.topic, r.message.partition ?? 0, key, value, ts);
      }
      return Promise.resolve();
    },
  };
}

/** DeleteRecords over the log: the low offset per topic-partition moves up (what a purge confirmed). */
function purgeLog(log: Log) {
  return {
    deleteTopicRecords(req: { topic: string; partitions: { partition: number; offset: string }[] }) {
      if (log.purgeFails) return Promise.reject(new Error('DeleteRecords refused'));
      for (const p of req.partitions) {
        const k = `${req.topic}/${p.partition}`;
        log.low.set(k, Math.max(log.low.get(k) ?? 0, Number(p.offset)));
      }
      return Promise.resolve();
    },
  };
}

export function world(now: () => number) {
  const log = new Log();
  const metrics = createMetrics();
  const pmetrics = createPartitionedMetrics(metrics.registry, () => [], { users: P, items: Q });
  const parts = new ItemPartitions(Q);
  const encoder = new OutputEncoder(undefined);
  const common = (stage: 'users' | 'items', p: number) => ({
    stage,
    partition: p,
    sink: sink(log),
    log: createLogger('silent'),
    metrics,
    pmetrics,
    batch: config.batch,
    tickMs: 60_000,
    keyFingerprint: 'test-fingerprint',
    enqueue: () => undefined,
    pause: () => Promise.resolve(),
    stopping: () => false,
    now,
  });
  const userTask = (p: number) =>
    new UserTask({
      ...common('users', p),
      topics: {
        interactions: TOPICS.interactions,
        deletions: TOPICS.deletions,
        repartition: TOPICS.repartition,
        acks: TOPICS.acks,
        deltas: TOPICS.deltas,
        changelog: TOPICS.usersChangelog,
        receipts: TOPICS.receipts,
      },
      parts,
      userPartitions: P,
      table: { maxItemsPerUser: 1000, dedupWindow: 8, tombstoneRetentionMs: 1e12 },
      tombstoneKey: KEY,
      registry: undefined,
      inputRules: config.input,
      encoder,
      dlqMaxBytes: 1_000_000,
      purgeDelayMs: 5_000,
      admin: purgeLog(log),
    });
  const itemTask = (q: number) =>
    new ItemTask({
      ...common('items', q),
      topics: {
        deltas: TOPICS.deltas,
        acks: TOPICS.acks,
        changelog: TOPICS.itemsChangelog,
        similarities: TOPICS.similarities,
      },
      parts,
      topK: 4,
      minCooccurrences: 1,
      encoder,
      admin: { deleteTopicRecords: () => Promise.resolve() },
    });
  const users = Array.from({ length: P }, (_, p) => userTask(p));
  const items = Array.from({ length: Q }, (_, q) => itemTask(q));
  for (const t of [...users, ...items]) t.phase = 'live';
  for (const t of users) for (const topic of t.inputs) t.positions.set(topic, 0);
  for (const t of items) t.positions.set(TOPICS.deltas, 0);
  return { log, users, items, userTask, itemTask, metrics };
}

export type World = ReturnType<typeof world>;

/** Feeds every task what its inputs hold beyond its position, until nothing moves. */
export async function pump(w: World): Promise<void> {
  for (let round = 0; round < 1_000; round++) {
    let moved = false;
    const feed = async (t: World['users'][number] | World['items'][number], topic: string, batch = 7) => {
      const pos = t.positions.get(topic) ?? 0;
      const msgs = w.log.records(topic, t.partition).slice(pos, pos + batch);
      if (msgs.length === 0) return;
      moved = true;
      await t.onRecords(topic, msgs);
    };
    for (const t of w.users) for (const topic of t.inputs) await feed(t, topic);
    for (const t of w.items) await feed(t, TOPICS.deltas);
    if (!moved) {
      for (const t of [...w.users, ...w.items]) await t.flush();
      if (![...w.users, ...w.items].some((t) => t.lag() > 0) && round > 0) {
        const again = w.log.records(TOPICS.acks, 0).length;
        void again;
      }
      let more = false;
      for (const t of w.users)
        for (const topic of t.inputs)
          if (w.log.records(topic, t.partition).length > (t.positions.get(topic) ?? 0)) more = true;
      for (const t of w.items)
        if (w.log.records(TOPICS.deltas, t.partition).length > (t.positions.get(TOPICS.deltas) ?? 0))
          more = true;
      if (!more) return;
    }
  }
  throw new Error('the tasks did not come to rest');
}

export function publishedLists(w: World): Map<string, RefList> {
  const out = new Map<string, RefList>();
  for (let q = 0; q < Q; q++) for (const m of w.log.records(TOPICS.similarities, q)) foldListRecord(out, m);
  return out;
}

export function produce(w: World, s: ReturnType<typeof scenario>, which: 'before' | 'after'): void {
  for (const e of s[which])
    w.log.append(TOPICS.interactions, partitionOf(e.userId, P), e.userId, JSON.stringify(e));
}
