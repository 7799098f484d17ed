// Runs the service in-process against the real test broker and registry, with its own topics and
// group, and reads its outputs back independently (helper decoders, not the service's codecs).
import { afterAll, expect } from 'vitest';
import type { Kafka, Message } from 'kafkajs';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/log.js';
import { startService } from '../../src/app.js';
import type { Service } from '../../src/service.js';
import { encodeValue } from '../../src/output/encode.js';
import { readToEnd } from '../../src/kafka/reader.js';
import {
  createTopics,
  decodeValue,
  kafkaBrokers,
  kafkaClient,
  registryClient,
  schemaRegistryUrl,
  uniqueName,
  waitFor,
} from './kafka.js';
import type { RefEvent, RefList } from './oracle.js';

export interface Harness {
  readonly prefix: string;
  readonly groupId: string;
  readonly topics: { interactions: string; deletions: string; similarities: string; receipts: string };
  readonly kafka: Kafka;
  config(env?: Record<string, string>): Config;
  start(env?: Record<string, string>, options?: { log?: Logger }): Promise<Service>;
  produce(topic: string, messages: Message[]): Promise<void>;
  produceEvents(
    events: readonly RefEvent[],
    format: 'json' | 'avro' | 'mixed',
    schemaIds?: Service['schemaIds'],
  ): Promise<void>;
  produceDeletions(
    deletions: readonly { requestId: string; userId: string; requestedAt?: number }[],
    format: 'json' | 'avro' | 'mixed',
    schemaIds?: Service['schemaIds'],
  ): Promise<void>;
  /** Waits until the group's committed offsets reach the end of both input topics. */
  waitProcessed(timeoutMs?: number): Promise<void>;
  /** The similarities topic read to its end: latest value per key (null = tombstone). */
  similarities(): Promise<Map<string, RefList | null>>;
  receipts(): Promise<Map<string, Record<string, unknown>>>;
  records(topic: string): Promise<
    {
      key: string | null;
      value: Buffer | null;
      headers: Record<string, string>;
      partition: number;
      offset: number;
    }[]
  >;
  endOffsets(topic: string): Promise<number[]>;
}

const running = new Set<Service>();
afterAll(async () => {
  await Promise.allSettled([...running].map((s) => s.stop()));
});

/** Where a harness runs: the test stack by default, or a stack of the test's own (chaos tests). */
export interface Infrastructure {
  readonly kafkaBrokers: string;
  readonly schemaRegistryUrl: string;
}

/**
 * `dlqByService`: leave the DLQ topics for the service to create (with its retention settings).
 * `infra`: a stack of the test's own instead of the test stack.
 */
export async function harness(
  partitions = 3,
  options: { dlqByService?: boolean; infra?: Infrastructure } = {},
): Promise<Harness> {
  const { infra } = options;
  const brokers = infra?.kafkaBrokers ?? kafkaBrokers();
  const registryUrl = infra?.schemaRegistryUrl ?? schemaRegistryUrl();
  const prefix = uniqueName('t');
  const groupId = `${prefix}-g`;
  const topics = {
    interactions: `${prefix}-interactions`,
    deletions: `${prefix}-deletions`,
    similarities: `${prefix}-similarities`,
    receipts: `${prefix}-receipts`,
  };
  // A stack of the test's own is thrown away whole: its topics need no clean-up.
  const keep = infra !== undefined;
  await createTopics(
    brokers,
    [
      topics.interactions,
      topics.deletions,
      ...(options.dlqByService ? [] : [`${topics.interactions}.dlq`, `${topics.deletions}.dlq`]),
    ],
    { partitions, keep },
  );
  await createTopics(brokers, [topics.similarities, topics.receipts], { partitions, compact: true, keep });
  const kafka = kafkaClient(brokers);
  const registry = registryClient(registryUrl);
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  afterAll(async () => {
    await producer.disconnect();
  });

  const config = (env: Record<string, string> = {}) =>
    loadConfig({
      KAFKA_BROKERS: brokers,
      SCHEMA_REGISTRY_URL: registryUrl,
      KAFKA_GROUP_ID: groupId,
      INTERACTIONS_TOPIC: topics.interactions,
      DELETIONS_TOPIC: topics.deletions,
      SIMILARITIES_TOPIC: topics.similarities,
      RECEIPTS_TOPIC: topics.receipts,
      TOPIC_PARTITIONS: String(partitions),
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      KAFKA_HEARTBEAT_INTERVAL_MS: '500',
      LOG_LEVEL: process.env.AMNESIA_TEST_LOG_LEVEL ?? 'silent',
      ...env,
    });

  const pick = (format: 'json' | 'avro' | 'mixed', k: number) =>
    format === 'mixed' ? (k % 2 === 0 ? 'json' : 'avro') : format;

  const h: Harness = {
    prefix,
    groupId,
    topics,
    kafka,
    config,
    async start(env = {}, options = {}) {
      const c = config(env);
      const s = await startService(c, { log: options.log ?? createLogger(c.logLevel) });
      running.add(s);
      const stop = s.stop.bind(s);
      return Object.assign(s, {
        stop: async () => {
          running.delete(s);
          await stop();
        },
      });
    },
    async produce(topic, messages) {
      for (let k = 0; k < messages.length; k += 2_000) {
        await producer.send({ topic, messages: messages.slice(k, k + 2_000), acks: -1 });
      }
    },
    async produceEvents(events, format, schemaIds) {
      await h.produce(
        topics.interactions,
        events.map((e, k) => ({
          key: e.userId,
          value: encodeValue(
            'interaction',
            e,
            pick(format, k) === 'avro' ? schemaIds!.interaction : undefined,
          ),
        })),
      );
    },
    async produceDeletions(deletions, format, schemaIds) {
      await h.produce(
        topics.deletions,
        deletions.map((d, k) => ({
          key: d.userId,
          value: encodeValue('deletion', d, pick(format, k) === 'avro' ? schemaIds!.deletion : undefined),
        })),
      );
    },
    async endOffsets(topic) {
      const admin = kafka.admin();
      await admin.connect();
      try {
        return (await admin.fetchTopicOffsets(topic))
          .sort((a, b) => a.partition - b.partition)
          .map((o) => Number(o.high));
      } finally {
        await admin.disconnect();
      }
    },
    async waitProcessed(timeoutMs = 60_000) {
      const admin = kafka.admin();
      await admin.connect();
      try {
        await waitFor(
          async () => {
            for (const topic of [topics.interactions, topics.deletions]) {
              const ends = await admin.fetchTopicOffsets(topic);
              const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
              for (const e of ends) {
                const c = committed?.partitions.find((p) => p.partition === e.partition);
                if (Number(e.high) > 0 && Number(c?.offset ?? -1) < Number(e.high)) return false;
              }
            }
            return true;
          },
          timeoutMs,
          100,
        );
      } finally {
        await admin.disconnect();
      }
    },
    async similarities() {
      const out = new Map<string, RefList | null>();
      await readToEnd(kafka, topics.similarities, async (m) => {
        const key = m.key!.toString('utf8');
        if (m.value === null) out.set(key, null);
        else {
          const v = (await decodeValue(registry, m.value)) as RefList & { updatedAt: number };
          out.set(key, {
            itemId: v.itemId,
            interactions: Number(v.interactions),
            neighbors: v.neighbors.map((n) => ({
              itemId: n.itemId,
              similarity: n.similarity,
              cooccurrences: Number(n.cooccurrences),
            })),
          });
        }
      });
      return out;
    },
    async receipts() {
      const out = new Map<string, Record<string, unknown>>();
      await readToEnd(kafka, topics.receipts, async (m) => {
        out.set(m.key!.toString('utf8'), (await decodeValue(registry, m.value!)) as Record<string, unknown>);
      });
      return out;
    },
    async records(topic) {
      const out: Awaited<ReturnType<Harness['records']>> = [];
      await readToEnd(kafka, topic, (m, partition) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(m.headers ?? {}))
          if (v !== undefined) headers[k] = String(Array.isArray(v) ? v[0] : v);
        out.push({
          key: m.key?.toString('utf8') ?? null,
          value: m.value,
          headers,
          partition,
          offset: Number(m.offset),
        });
      });
      return out;
    },
  };
  return h;
}

/** Follows the receipts topic until every request id has a receipt. */
export async function waitForReceipts(
  h: Harness,
  requestIds: readonly string[],
  timeoutMs = 30_000,
): Promise<Map<string, Record<string, unknown>>> {
  let got = new Map<string, Record<string, unknown>>();
  await waitFor(
    async () => {
      got = await h.receipts();
      return requestIds.every((r) => got.has(r));
    },
    timeoutMs,
    200,
  );
  return got;
}

/** True when the published lists (null = tombstone) are exactly the expected ones. */
export function sameLists(
  published: ReadonlyMap<string, RefList | null>,
  expected: ReadonlyMap<string, RefList>,
): boolean {
  const live = [...published].filter(([, v]) => v !== null);
  return (
    live.length === expected.size &&
    live.every(([k, v]) => JSON.stringify(v) === JSON.stringify(expected.get(k)))
  );
}

/**
 * The similarities topic (read_committed) ends up exactly `expected`. The group's offsets commit
 * with the outputs, but a transaction's markers reach the output partitions a moment later: until
 * then a read_committed reader stops short of them, so the comparison is retried for a while before
 * the differences are reported.
 */
export async function expectListsEventually(
  h: Harness,
  expected: Map<string, RefList>,
  timeoutMs = 15_000,
): Promise<void> {
  await waitFor(async () => sameLists(await h.similarities(), expected), timeoutMs, 200).catch(
    () => undefined,
  );
  expectExact(await h.similarities(), expected);
}

export function expectExact(h: Map<string, RefList | null>, expected: Map<string, RefList>): void {
  const live = new Map([...h].filter((e): e is [string, RefList] => e[1] !== null));
  const missing = [...expected.keys()].filter((k) => !live.has(k));
  const extra = [...live.keys()].filter((k) => !expected.has(k));
  expect({ missing, extra }).toEqual({ missing: [], extra: [] });
  // Every differing item named at once (the first one's diff follows).
  const differing = [...expected]
    .filter(([k, v]) => JSON.stringify(live.get(k)) !== JSON.stringify(v))
    .map(([k]) => k);
  // A count off shows in every list that holds the item: name the counts first.
  const counts = [...expected]
    .filter(([k, v]) => live.get(k)?.interactions !== v.interactions)
    .map(([k, v]) => `${k} ${live.get(k)?.interactions} (expected ${v.interactions})`);
  const which =
    `${differing.length} lists differ: ${differing.slice(0, 30).join(', ')}` +
    (counts.length > 0 ? `; interactions differ: ${counts.slice(0, 30).join(', ')}` : '');
  for (const [item, list] of expected) expect(live.get(item), `list of ${item} (${which})`).toEqual(list);
}
