// The partitioned mode's tasks without a broker: user tasks read generated input records (JSON, some
// malformed), their transactions' deltas go to item tasks, the item tasks' acks come back; the
// lists the item tasks publish equal the brute-force lists, every request gets one FORGOTTEN and,
// once the purge bound has passed, one PURGED receipt; a task restored from its changelog goes on.
import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
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
import { scenario } from '../helpers/generator.js';
import { bruteForceLists, foldListRecord, survivingHistory, type RefList } from '../helpers/oracle.js';

const KEY = 'a-test-key-of-sixteen-chars-or-more';
const P = 3;
const Q = 4;
const TOPICS = {
  interactions: 'in',
  deletions: 'del',
  acks: 'acks',
  deltas: 'deltas',
  usersChangelog: 'ucl',
  itemsChangelog: 'icl',
  receipts: 'rec',
  similarities: 'sim',
};
const config = loadConfig({ TOP_K: '4', BATCH_MAX_EVENTS: '25', BATCH_MAX_MS: '60000' });

/** A log of topic-partitions that sinks append to, in transaction order. */
class Log {
  readonly topics = new Map<string, Map<number, KafkaMessage[]>>();
  append(topic: string, partition: number, key: string | null, value: Buffer | string | null): void {
    let parts = this.topics.get(topic);
    if (!parts) this.topics.set(topic, (parts = new Map()));
    let list = parts.get(partition);
    if (!list) parts.set(partition, (list = []));
    list.push({
      offset: String(list.length),
      key: key === null ? null : Buffer.from(key),
      value: value === null ? null : Buffer.from(value),
      timestamp: String(Date.now()),
      attributes: 0,
      headers: {},
    });
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
        log.append(r.topic, r.message.partition ?? 0, key, value);
      }
      return Promise.resolve();
    },
  };
}

function world(now: () => number) {
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
  return { log, users, items, userTask, itemTask };
}

type World = ReturnType<typeof world>;

/** Feeds every task what its inputs hold beyond its position, until nothing moves. */
async function pump(w: World): Promise<void> {
  for (let round = 0; round < 1_000; round++) {
    let moved = false;
    const feed = async (t: World['users'][number] | World['items'][number], topic: string, batch = 7) => {
      const pos = t.positions.get(topic) ?? 0;
      const msgs = w.log.records(topic, t.partition).slice(pos, pos + batch);
      if (msgs.length === 0) return;
      moved = true;
      await t.onRecords(topic, msgs);
    };
    for (const t of w.users)
      for (const topic of [TOPICS.deletions, TOPICS.interactions, TOPICS.acks]) await feed(t, topic);
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

function publishedLists(w: World): Map<string, RefList> {
  const out = new Map<string, RefList>();
  for (let q = 0; q < Q; q++) for (const m of w.log.records(TOPICS.similarities, q)) foldListRecord(out, m);
  return out;
}

function produce(w: World, s: ReturnType<typeof scenario>, which: 'before' | 'after'): void {
  for (const e of s[which])
    w.log.append(TOPICS.interactions, partitionOf(e.userId, P), e.userId, JSON.stringify(e));
}

describe('partitioned tasks (Kafka faked)', () => {
  const s = scenario({ seed: 5, users: 30, items: 25, events: 500, forget: 5 });

  it('publish exactly the brute-force lists and one FORGOTTEN, then one PURGED, per request', async () => {
    let now = 1_000_000;
    const w = world(() => now);
    produce(w, s, 'before');
    w.log.append(TOPICS.interactions, 0, 'bad', '{not json');
    for (const d of s.deletions)
      w.log.append(TOPICS.deletions, partitionOf(d.userId, P), d.userId, JSON.stringify(d));
    await pump(w);
    produce(w, s, 'after');
    await pump(w);
    expect(publishedLists(w)).toEqual(
      bruteForceLists(survivingHistory([...s.before, ...s.after], s.deletions), 4, 1),
    );
    const receipts = () =>
      w.log
        .records(TOPICS.receipts, 0)
        .map((m) => JSON.parse(m.value!.toString()) as { requestId: string; status: string });
    expect(
      receipts()
        .map((r) => `${r.requestId} ${r.status}`)
        .sort(),
    ).toEqual(s.deletions.map((d) => `${d.requestId} FORGOTTEN`).sort());
    now += 5_001;
    for (const t of w.users) await t.periodic(now);
    expect(
      receipts()
        .filter((r) => r.status === 'PURGED')
        .map((r) => r.requestId)
        .sort(),
    ).toEqual(s.deletions.map((d) => d.requestId).sort());
    expect(w.log.records('in.dlq', 0)).toHaveLength(1);
  });
});
