// Integration-test helpers: where the broker and registry are, unique names, topics that delete
// themselves after the test file, a schema registry client, and bounded produce/consume utilities.
// Every resource is created through a helper here and cleaned up by the same helper.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel } from 'kafkajs';
import type { IHeaders, Message, Producer } from 'kafkajs';
import { afterAll, inject } from 'vitest';
import { readToEnd } from '../../src/kafka/reader.js';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `127.0.0.1:port` of the test broker (from the global setup, or KAFKA_BROKERS). */
export function kafkaBrokers(): string {
  const v = inject('kafkaBrokers') || process.env.KAFKA_BROKERS;
  if (!v) throw new Error('no Kafka broker: the global setup did not provide one');
  return v;
}

/** Base URL of the Confluent-compatible registry API (from the global setup, or SCHEMA_REGISTRY_URL). */
export function schemaRegistryUrl(): string {
  const v = inject('schemaRegistryUrl') || process.env.SCHEMA_REGISTRY_URL;
  if (!v) throw new Error('no schema registry: the global setup did not provide one');
  return v;
}

/** `${prefix}-${randomUUID()}`: topic names, group ids, subjects that no other test shares. */
export function uniqueName(prefix = 't'): string {
  return `${prefix}-${randomUUID()}`;
}

/** A kafkajs client for the test broker, with its logs silenced. */
export function kafkaClient(brokers: string = kafkaBrokers(), clientId = 'amnesia-test'): Kafka {
  return new Kafka({
    clientId,
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
    retry: { retries: 5, initialRetryTime: 100 },
  });
}

/** An unconnected transactional producer (idempotent, one request in flight) with an id of its own. */
export function transactionalProducer(brokers: string = kafkaBrokers()): Producer {
  return kafkaClient(brokers).producer({
    transactionalId: uniqueName('t-tx'),
    idempotent: true,
    maxInFlightRequests: 1,
  });
}

/**
 * The keys of `topic`'s records from the beginning to its end offsets, as the service reads
 * (readToEnd: eachBatch, read_committed).
 */
export async function keysReadToEnd(
  topic: string,
  brokers: string = kafkaBrokers(),
  timeoutMs = 20_000,
): Promise<string[]> {
  const keys: string[] = [];
  await readToEnd(kafkaClient(brokers), topic, (m) => void keys.push(m.key?.toString() ?? ''), { timeoutMs });
  return keys;
}

export interface CreateTopicsOptions {
  partitions?: number;
  /** cleanup.policy=compact */
  compact?: boolean;
  /** Keep the topics after the test file (default: delete them in afterAll). */
  keep?: boolean;
  /** Further topic configs (name → value). */
  configs?: Record<string, string>;
}

const created = new Map<string, Set<string>>();

/**
 * Creates the topics through the admin API and waits until their leaders are known (auto-creation
 * on first produce races with kafkajs metadata on KRaft). They are deleted after the test file.
 */
export async function createTopics(
  brokers: string,
  topics: readonly string[],
  { partitions = 1, compact = false, keep = false, configs = {} }: CreateTopicsOptions = {},
): Promise<string[]> {
  const admin = kafkaClient(brokers).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: topics.map((topic) => ({
        topic,
        numPartitions: partitions,
        replicationFactor: 1,
        configEntries: [
          ...(compact ? [{ name: 'cleanup.policy', value: 'compact' }] : []),
          ...Object.entries(configs).map(([name, value]) => ({ name, value })),
        ],
      })),
    });
    await admin.fetchTopicMetadata({ topics: [...topics] });
    // KRaft may answer "does not host this topic-partition" for a moment after the leaders are
    // elected: wait until every partition answers an offset request.
    const deadline = Date.now() + 15_000;
    for (const topic of topics) {
      for (;;) {
        try {
          await admin.fetchTopicOffsets(topic);
          break;
        } catch (e) {
          if (Date.now() > deadline) throw e;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
  } finally {
    await admin.disconnect();
  }
  if (!keep) {
    const set = created.get(brokers) ?? new Set<string>();
    for (const t of topics) set.add(t);
    created.set(brokers, set);
  }
  return [...topics];
}

/** Topics created by someone else (e.g. the service's internal topics), deleted with the others. */
export function deleteTopicsAfterAll(topics: readonly string[], brokers: string = kafkaBrokers()): void {
  const set = created.get(brokers) ?? new Set<string>();
  for (const t of topics) set.add(t);
  created.set(brokers, set);
}

/** Deletes topics, ignoring ones that are already gone. */
export async function deleteTopics(brokers: string, topics: readonly string[]): Promise<void> {
  if (topics.length === 0) return;
  const admin = kafkaClient(brokers).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const toDelete = topics.filter((t) => existing.has(t));
    if (toDelete.length > 0) await admin.deleteTopics({ topics: toDelete, timeout: 10_000 });
  } finally {
    await admin.disconnect();
  }
}

/** Deletes every topic created by `createTopics` in this test file so far. */
export async function deleteCreatedTopics(): Promise<void> {
  for (const [brokers, set] of created) {
    await deleteTopics(brokers, [...set]);
    created.delete(brokers);
  }
}

// Test files are isolated modules, so this hook belongs to the file that imported the helpers.
afterAll(async () => {
  await deleteCreatedTopics();
});

/** A registry client (Confluent wire format encode/decode) for the test registry. */
export function registryClient(url: string = schemaRegistryUrl()): SchemaRegistry {
  return new SchemaRegistry({ host: url });
}

/** The text of `schemas/<name>.avsc` (e.g. `interaction-event`). */
export async function readSchema(name: string): Promise<string> {
  return readFile(path.join(REPO_ROOT, 'schemas', `${name}.avsc`), 'utf8');
}

/** Registers `schemas/<name>.avsc` as an AVRO schema under `subject`; returns the schema id. */
export async function registerSchema(
  registry: SchemaRegistry,
  subject: string,
  name: string,
): Promise<number> {
  const schema = await readSchema(name);
  const { id } = await registry.register({ type: SchemaType.AVRO, schema }, { subject });
  return id;
}

/** Produces messages (acks=all) and disconnects. */
export async function produce(
  topic: string,
  messages: Message[],
  brokers: string = kafkaBrokers(),
): Promise<void> {
  const producer = kafkaClient(brokers).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({ topic, messages, acks: -1 });
  } finally {
    await producer.disconnect();
  }
}

export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: string;
  timestamp: string;
  key: string | null;
  value: Buffer | null;
  headers: IHeaders;
}

/**
 * Reads `topic` from the beginning with a fresh consumer group until `n` records arrived, then
 * disconnects. Rejects after `timeoutMs` saying how many had arrived.
 */
export async function consumeN(
  topic: string,
  n: number,
  timeoutMs = 30_000,
  brokers: string = kafkaBrokers(),
): Promise<ConsumedRecord[]> {
  const consumer = kafkaClient(brokers).consumer({ groupId: uniqueName('t-group'), maxWaitTimeInMs: 100 });
  const records: ConsumedRecord[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(new Error(`consumeN(${topic}): ${records.length} of ${n} records after ${timeoutMs} ms`)),
        timeoutMs,
      );
      if (n <= 0) resolve();
      consumer
        .run({
          eachMessage: ({ topic: t, partition, message }) => {
            records.push({
              topic: t,
              partition,
              offset: message.offset,
              timestamp: message.timestamp,
              key: message.key ? message.key.toString('utf8') : null,
              value: message.value,
              headers: message.headers ?? {},
            });
            if (records.length >= n) resolve();
            return Promise.resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    if (timer) clearTimeout(timer);
    await consumer.disconnect().catch(() => {});
  }
  return records.slice(0, Math.max(n, 0));
}

/** Decodes a value in either input encoding: Confluent wire format (byte 0 = 0x00) or JSON. */
export async function decodeValue(registry: SchemaRegistry, value: Buffer): Promise<unknown> {
  if (value.length > 0 && value[0] === 0x00) return registry.decode(value);
  return JSON.parse(value.toString('utf8'));
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(
  check: () => Promise<T> | T,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`waitFor: condition not met after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
