// Compressed batches against an independent client, the Apache Kafka Java client (kafka-clients with
// snappy-java, lz4-java and zstd-jni): interaction events it writes in each codec are read and decoded
// by the service's consumer path (createKafka + decodeInteraction), and neighbour lists our producer
// writes in each codec are read back by it byte for byte.
import type { Consumer, EachBatchPayload } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, OUTPUT_COMPRESSIONS, type OutputCompression } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { decodeInteraction, prefetchSchemas, uncachedSchemaIds } from '../../src/input/codec.js';
import { encodeValue } from '../../src/output/encode.js';
import { outputCompression } from '../../src/kafka/compression.js';
import type { Interaction } from '../../src/input/codec.js';
import { createKafka } from '../../src/kafka/client.js';
import { SchemaRegistryClient } from '../../src/kafka/registry.js';
import { javaConsume, javaProduce, javaTopicSizes, type RawRecord } from '../helpers/java-kafka.js';
import {
  createTopics,
  kafkaBrokers,
  registerSchema,
  registryClient,
  schemaRegistryUrl,
  uniqueName,
  waitFor,
} from '../helpers/kafka.js';

const brokers = kafkaBrokers();
const config = loadConfig({ KAFKA_BROKERS: brokers, SCHEMA_REGISTRY_URL: schemaRegistryUrl() });
const kafka = createKafka(config.kafka, createLogger('silent'), '-compression-test');
const consumers: Consumer[] = [];
afterAll(async () => {
  await Promise.allSettled(consumers.map((c) => c.disconnect()));
});

const N = 300;

/** Interaction events, half JSON and half Avro, with ids outside ASCII; repetitive enough to compress. */
function events(): { expected: Interaction[]; records: (schemaId: number) => RawRecord[] } {
  const expected: Interaction[] = [];
  for (let i = 0; i < N; i++) {
    expected.push({
      userId: `user-${i % 17}-é`,
      itemId: `item-${(i * 7) % 50}-😀`,
      action: i % 5 === 0 ? 'REMOVE' : 'ADD',
      occurredAt: 1_700_000_000_000 + i,
      eventId: `event-${i}`,
    });
  }
  return {
    expected,
    records: (schemaId) =>
      expected.map((e, i) => ({
        key: Buffer.from(e.userId),
        value: encodeValue('interaction', e, i % 2 === 0 ? undefined : schemaId),
      })),
  };
}

/** Reads n records from each topic with a kafkajs consumer from createKafka and decodes them. */
async function readDecoded(topics: readonly string[], n: number): Promise<Map<string, unknown[]>> {
  const registry = new SchemaRegistryClient(config.registry!);
  const got = new Map<string, unknown[]>(topics.map((t) => [t, []]));
  const consumer = kafka.consumer({ groupId: uniqueName('t-group'), maxWaitTimeInMs: 100 });
  consumers.push(consumer);
  // A batch the client cannot decompress crashes the consumer: fail with that, not a time-out.
  let crash: Error | undefined;
  consumer.on(consumer.events.CRASH, (e) => {
    crash = e.payload.error;
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [...topics], fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }: EachBatchPayload) => {
      const values = batch.messages.map((m) => m.value);
      await prefetchSchemas(uncachedSchemaIds(values, registry), registry);
      for (const m of batch.messages) {
        const d = decodeInteraction({ key: m.key, value: m.value, timestamp: m.timestamp }, registry);
        got.get(batch.topic)!.push(d.ok ? d.value : d);
      }
    },
  });
  await waitFor(() => {
    if (crash) throw crash;
    return topics.every((t) => got.get(t)!.length >= n);
  }, 45_000);
  await consumer.disconnect();
  return got;
}

describe('compressed batches between the service and the Java client', () => {
  it('decodes the events the Java client writes with no compression, gzip, snappy, lz4 and zstd', async () => {
    const prefix = uniqueName('t-in');
    const topics = OUTPUT_COMPRESSIONS.map((c) => [c, `${prefix}-${c}`] as const);
    await createTopics(
      brokers,
      topics.map(([, t]) => t),
    );
    const schemaId = await registerSchema(registryClient(), `${prefix}-value`, 'interaction-event');
    const { expected, records } = events();
    await javaProduce(brokers, topics, records(schemaId));

    const got = await readDecoded(
      topics.map(([, t]) => t),
      N,
    );
    for (const [codec, topic] of topics) {
      expect({ codec, values: got.get(topic) }).toEqual({ codec, values: expected });
    }
  });

  it('writes lists in every codec that the Java client reads back byte for byte', async () => {
    const prefix = uniqueName('t-out');
    const topics = OUTPUT_COMPRESSIONS.map((c) => [c, `${prefix}-${c}`] as const);
    await createTopics(
      brokers,
      topics.map(([, t]) => t),
    );
    const messages: RawRecord[] = [];
    for (let i = 0; i < N; i++) {
      const list = {
        itemId: `item-${i}`,
        interactions: 10 + (i % 7),
        neighbors: Array.from({ length: 20 }, (_, j) => ({
          itemId: `item-${(i + j + 1) % N}`,
          similarity: 1 / (j + 2),
          cooccurrences: 20 - j,
        })),
        updatedAt: 1_700_000_000_000,
      };
      // Half JSON, half Avro framed (the schema id is not looked up: the Java side compares bytes).
      messages.push({
        key: Buffer.from(list.itemId),
        value: encodeValue('neighbors', list, i % 2 ? 7 : undefined),
      });
    }
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      for (const [codec, topic] of topics) {
        const c: OutputCompression = codec;
        await producer.send({
          topic,
          messages,
          acks: -1,
          compression: outputCompression({ outputCompression: c }),
        });
      }
    } finally {
      await producer.disconnect();
    }

    const read = await javaConsume(
      brokers,
      topics.map(([, t]) => t),
      N,
    );
    for (const [codec, topic] of topics) {
      const back = read
        .get(topic)!
        .map((r) => ({ key: r.key?.toString('hex'), value: r.value.toString('hex') }));
      const sent = messages.map((r) => ({ key: r.key?.toString('hex'), value: r.value.toString('hex') }));
      expect({ codec, back }).toEqual({ codec, back: sent });
    }
    // Compressed on the wire and on disk, not just labelled so: each codec stores well under the
    // uncompressed size of the same records.
    const sizes = await javaTopicSizes(
      brokers,
      topics.map(([, t]) => t),
    );
    const plain = sizes.get(`${prefix}-none`)!;
    expect(plain).toBeGreaterThan(N * 100);
    for (const [codec, topic] of topics.filter(([c]) => c !== 'none')) {
      expect(sizes.get(topic)!, codec).toBeLessThan(plain * 0.6);
    }
  });
});
