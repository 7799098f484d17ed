// MODE=partitioned with several instances as real processes on the broker: three share a generated
// stream and publish exactly the brute-force lists; one is SIGKILLed mid-stream and later a fourth
// joins, the partitions move (restored from the changelogs) and the lists stay exact; every deletion
// request gets exactly one FORGOTTEN and one PURGED receipt; after PURGED no forgotten user is in any
// output, changelog or delta record Kafka still serves, and the work is spread over the instances.
import { afterAll, describe, expect, it } from 'vitest';
import { pairHash, userToken } from '../../src/partitioned/ids.js';
import { readToEnd } from '../../src/kafka/reader.js';
import { scenario } from '../helpers/generator.js';
import { createTopics, kafkaBrokers, schemaRegistryUrl, waitFor } from '../helpers/kafka.js';
import { sampleSum, scrape } from '../helpers/metrics.js';
import { bruteForceLists, survivingHistory } from '../helpers/oracle.js';
import {
  deleteInternalTopicsAfterAll,
  PARTITIONED_KEY,
  partitionedEnv,
  waitPartitionedProcessed,
} from '../helpers/partitioned.js';
import { killChildren, runService, type ServiceProcess } from '../helpers/process.js';
import { expectExact, harness } from '../helpers/service.js';

afterAll(() => killChildren());

const PARTITIONS = 6;

const isLive = (p: ServiceProcess) => p.lines.some((l) => l.includes('"phase":"live"'));
const port = (p: ServiceProcess) => {
  const line = p.lines.find((l) => l.includes('http server listening'));
  return line ? (JSON.parse(line) as { port: number }).port : undefined;
};

/** One instance's figure from its /metrics: the sum of a metric's samples. */
async function figure(p: ServiceProcess, name: string): Promise<number> {
  return sampleSum(await scrape(`http://127.0.0.1:${port(p)!}`), name);
}

describe('MODE=partitioned with several instances', () => {
  it('stays exact through a SIGKILL and a join; each request gets one FORGOTTEN and one PURGED; forgotten users leave Kafka', async () => {
    const h = await harness(PARTITIONS);
    deleteInternalTopicsAfterAll(h.groupId);
    const dlqs = [`${h.topics.interactions}.dlq`, `${h.topics.deletions}.dlq`];
    await createTopics(kafkaBrokers(), dlqs, { partitions: 1 });
    const env = {
      KAFKA_BROKERS: kafkaBrokers(),
      SCHEMA_REGISTRY_URL: schemaRegistryUrl(),
      KAFKA_GROUP_ID: h.groupId,
      INTERACTIONS_TOPIC: h.topics.interactions,
      DELETIONS_TOPIC: h.topics.deletions,
      SIMILARITIES_TOPIC: h.topics.similarities,
      RECEIPTS_TOPIC: h.topics.receipts,
      TOPIC_PARTITIONS: String(PARTITIONS),
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      KAFKA_HEARTBEAT_INTERVAL_MS: '500',
      HTTP_PORT: '0',
      LOG_LEVEL: 'info',
      TOP_K: '5',
      OUTPUT_FORMAT: 'json',
      ...partitionedEnv(),
    };
    const s = scenario({ seed: 23, users: 120, items: 60, events: 3_000, forget: 8 });
    const instances = [runService(env), runService(env), runService(env)];
    // Three members joining two groups at once rebalance several times; on a loaded machine that
    // has taken over a minute. On a timeout, the instances' last log lines say where they were.
    await waitFor(() => instances.every(isLive), 180_000, 250).catch((e: unknown) => {
      for (const [k, p] of instances.entries())
        process.stderr.write(`--- instance ${k}, last lines:\n${p.lines.slice(-25).join('\n')}\n`);
      throw e;
    });

    await h.produceEvents(s.before, 'json');
    await h.produceDeletions(s.deletions, 'json');
    await waitPartitionedProcessed(h.kafka, h.groupId, [h.topics.interactions, h.topics.deletions]);
    expectExact(await h.similarities(), bruteForceLists(survivingHistory(s.before, s.deletions), 5, 1));

    // The work is spread: every instance holds partitions of both stages and part of C.
    const cells = await Promise.all(instances.map((p) => figure(p, 'amnesia_partition_cooccurrences')));
    const total = cells.reduce((a, b) => a + b, 0);
    for (const c of cells) expect(c).toBeGreaterThan(0);
    expect(Math.max(...cells)).toBeLessThan(total);

    // Mid-stream: one instance is killed while the rest of the stream arrives.
    const half = Math.floor(s.after.length / 2);
    await h.produceEvents(s.after.slice(0, half), 'json');
    instances[1]!.child.kill('SIGKILL');
    await h.produceEvents(s.after.slice(half), 'json');
    await waitPartitionedProcessed(h.kafka, h.groupId, [h.topics.interactions, h.topics.deletions], 120_000);
    const all = [...s.before, ...s.after];
    expectExact(await h.similarities(), bruteForceLists(survivingHistory(all, s.deletions), 5, 1));

    // A fourth instance joins; more deletions and events arrive while partitions move to it.
    const fourth = runService(env);
    const late = scenario({ seed: 29, users: 120, items: 60, events: 600, forget: 4, t0: 1_750_000_000_000 });
    await h.produceEvents(late.before, 'json');
    await h.produceDeletions(late.deletions, 'json');
    await waitFor(() => isLive(fourth), 90_000, 250);
    await waitPartitionedProcessed(h.kafka, h.groupId, [h.topics.interactions, h.topics.deletions], 120_000);
    const deletions = [...s.deletions, ...late.deletions];
    const H = survivingHistory([...all, ...late.before], deletions);
    expectExact(await h.similarities(), bruteForceLists(H, 5, 1));
    expect(await figure(fourth, 'amnesia_partition_live')).toBeGreaterThan(0);

    // Every request: exactly one FORGOTTEN and, after the purge bound, exactly one PURGED.
    const statuses = async () => {
      const seen = new Map<string, string[]>();
      await readToEnd(h.kafka, h.topics.receipts, (m) => {
        const r = JSON.parse(m.value!.toString()) as { requestId: string; status: string };
        seen.set(r.requestId, [...(seen.get(r.requestId) ?? []), r.status]);
      });
      return seen;
    };
    let seen = new Map<string, string[]>();
    await waitFor(
      async () => {
        seen = await statuses();
        return deletions.every((d) => seen.get(d.requestId)?.includes('PURGED'));
      },
      90_000,
      1_000,
    );
    for (const d of deletions)
      expect(seen.get(d.requestId)?.sort(), d.requestId).toEqual(['FORGOTTEN', 'PURGED']);

    // After PURGED: the users forgotten (and not back since) are in no record Kafka serves.
    // (Users who came back after their request hold items again, under the same token.)
    const gone = deletions.map((d) => d.userId).filter((u) => !H.has(u) && u !== 'never-seen-user');
    expect(gone.length).toBeGreaterThan(3);
    const tokens = gone.map((u) => userToken(PARTITIONED_KEY, u));
    const pairKeys = new Set<string>();
    for (const e of [...all, ...late.before])
      if (gone.includes(e.userId))
        pairKeys.add(`h${pairHash(userToken(PARTITIONED_KEY, e.userId), e.itemId)}`);
    const internal = ['users-changelog', 'items-changelog', 'deltas', 'acks', 'users-repartition'].map(
      (t) => `${h.groupId}-${t}`,
    );
    // (Checked after each read: a throw inside the reader's callback would stall the consumer.)
    const found: string[] = [];
    for (const topic of [...internal, h.topics.similarities, h.topics.receipts, ...dlqs]) {
      await readToEnd(h.kafka, topic, (m) => {
        const bytes = `${m.key?.toString() ?? ''} ${m.value?.toString() ?? ''}`;
        for (const u of gone) if (bytes.includes(`"${u}"`)) found.push(`${topic}: id of ${u}`);
        // Only the user stage's tombstone of a forgotten user (`t` + token: a keyed hash and the
        // request time) stays, for TOMBSTONE_RETENTION_MS, so that their late events are dropped.
        const tombstone = topic === internal[0] && m.key?.toString().startsWith('t') === true;
        for (const t of tokens)
          if (bytes.includes(t) && !tombstone) found.push(`${topic}@${m.offset}: token ${t}`);
        // Compaction removed the forgotten pairs' values; a tombstone with its hashed key may remain.
        if (m.key && pairKeys.has(m.key.toString()) && m.value !== null)
          found.push(`${topic}@${m.offset}: a pair`);
      });
    }
    expect(found).toEqual([]);
    for (const p of [instances[0]!, instances[2]!, fourth]) p.child.kill('SIGTERM');
    await Promise.all([instances[0]!, instances[2]!, fourth].map((p) => p.exited));
  }, 420_000);
});
