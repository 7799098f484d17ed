// The synthetic end-to-end benchmark (bench/e2e.ts without --dataset): N synthetic events
// through the service (in-process) against a real broker and registry. Measures:
//   1. bulk: N events produced while the service is paused, then let loose → events/s until every
//      list is published and its offsets committed;
//   2. raw: a plain kafkajs consumer reading the same topic with decoding only → events/s, and the ratio;
//   3. receipt latency: deletion request sent → FORGOTTEN receipt seen by a consumer, p50/p99, under a
//      steady background load of interactions (replay-worker.mjs, in its own thread).
import { randomUUID } from 'node:crypto';
import type { Admin, Message, Producer } from 'kafkajs';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startService } from '../../src/app.js';
import { modelOf, type Service } from '../../src/service.js';
import { decodeInteraction } from '../../src/input/codec.js';
import { encodeValue } from '../../src/output/encode.js';
import { createKafka } from '../../src/kafka/client.js';
import { endOffsets, follow } from '../../src/kafka/reader.js';
import { SchemaRegistryClient } from '../../src/kafka/registry.js';
import { mulberry32, type EventStream } from '../datasets.js';
import { replayEvents } from './context.js';
import { benchStack } from './stack.js';
import { quantile, sleep } from './stats.js';

export interface SyntheticOptions {
  readonly events: number;
  readonly users: number;
  readonly items: number;
  readonly format: 'json' | 'avro' | undefined;
  readonly partitions: number;
  readonly backgroundRate: number;
  readonly deletions: number;
  readonly deletionIntervalMs: number;
  readonly phases: ReadonlySet<string>;
}

const rng = mulberry32;

/** Background interactions: users uniform over U, items skewed towards low ids (as the bulk). */
function background(users: number, items: number, n = 100_000): EventStream {
  const r = rng(7);
  const now = Date.now();
  return {
    name: 'background',
    users: Int32Array.from({ length: n }, () => Math.floor(users * r())),
    items: Int32Array.from({ length: n }, () => Math.floor(items * r() ** 2)),
    times: new Float64Array(n).fill(now),
    userNames: Array.from({ length: users }, (_, u) => `bg${u}`),
    itemNames: Array.from({ length: items }, (_, i) => `i${i}`),
  };
}

async function committedEqualsEnd(admin: Admin, groupId: string, topic: string): Promise<boolean> {
  const ends = await admin.fetchTopicOffsets(topic);
  const [c] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return ends.every(
    (e) =>
      Number(e.high) === 0 ||
      Number(c?.partitions.find((p) => p.partition === e.partition)?.offset ?? -1) >= Number(e.high),
  );
}

async function produceAll(
  producer: Producer,
  topic: string,
  messages: Message[],
  batch = 5_000,
  inFlight = 4,
): Promise<void> {
  const pending = new Set<Promise<unknown>>();
  for (let k = 0; k < messages.length; k += batch) {
    const p = producer.send({ topic, messages: messages.slice(k, k + batch), acks: -1 });
    pending.add(p);
    void p.finally(() => pending.delete(p)).catch(() => undefined);
    if (pending.size >= inFlight) await Promise.race(pending);
  }
  await Promise.all(pending);
}

export async function runSynthetic(
  o: SyntheticOptions,
  log: (msg: string) => void,
): Promise<Record<string, unknown>> {
  const { events: N, users: USERS, items: ITEMS, backgroundRate: BG_RATE, deletions: DELETIONS } = o;
  const PHASES = o.phases;
  const stack = await benchStack(log);
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const format = o.format ?? (stack.registryUrl ? 'avro' : 'json');
  const config = loadConfig({
    ...process.env,
    KAFKA_BROKERS: stack.brokers,
    SCHEMA_REGISTRY_URL: stack.registryUrl,
    KAFKA_GROUP_ID: `${prefix}-service`,
    INTERACTIONS_TOPIC: `${prefix}-interactions`,
    DELETIONS_TOPIC: `${prefix}-deletions`,
    SIMILARITIES_TOPIC: `${prefix}-similarities`,
    RECEIPTS_TOPIC: `${prefix}-receipts`,
    PROGRESS_TOPIC: `${prefix}-progress`,
    TOPIC_PARTITIONS: String(o.partitions),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  });
  const logger = createLogger(config.logLevel, process.stderr);
  const kafka = createKafka(config.kafka, logger, '-bench');
  const registry = config.registry ? new SchemaRegistryClient(config.registry) : undefined;
  let service: Service | undefined;
  const result: Record<string, unknown> = {
    config: {
      events: N,
      users: USERS,
      items: ITEMS,
      inputFormat: format,
      outputFormat: config.outputFormat,
      partitions: o.partitions,
      topK: config.model.topK,
    },
    targets: { eventsPerSecond: 50_000, ratioToRawConsume: 0.7, receiptP99Ms: 100 },
  };
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  try {
    service = await startService(config, { log: logger });
    await service.waitUntilReady(60_000);
    await producer.connect();
    const ids = service.schemaIds;

    // ---------------------------------------------------------------- 1. bulk
    const r = rng(42);
    const messages = new Array<Message>(N);
    const t0ms = Date.now() - N;
    for (let k = 0; k < N; k++) {
      const userId = `u${Math.floor(USERS * r())}`;
      const itemId = `i${Math.floor(ITEMS * r() ** 2)}`;
      const e = { userId, itemId, action: 'ADD' as const, occurredAt: t0ms + k };
      messages[k] = {
        key: userId,
        value: encodeValue('interaction', e, format === 'avro' ? ids!.interaction : undefined),
      };
    }
    log(`producing ${N} ${format} events (service paused)`);
    const metrics = service.metrics.registry;
    const counter = async (name: string) =>
      (await metrics.getSingleMetric(name)?.get())?.values[0]?.value ?? 0;
    const admin = kafka.admin();
    await admin.connect();
    // A backlog in the topic, then the service let loose on it: the same starting point as the raw
    // consumer below, so that the two rates compare.
    service.pauseInputs();
    const p0 = performance.now();
    await produceAll(producer, config.topics.interactions, messages);
    const produced = performance.now();
    const listsBefore = await counter('amnesia_lists_published_total');
    const t0 = performance.now();
    service.resumeInputs();
    while (!(await committedEqualsEnd(admin, config.kafka.groupId, config.topics.interactions)))
      await sleep(10);
    const done = performance.now();
    await admin.disconnect();
    const serviceRate = N / ((done - t0) / 1000);
    const lists = (await counter('amnesia_lists_published_total')) - listsBefore;
    result.bulk = {
      events: N,
      produceSeconds: +((produced - p0) / 1000).toFixed(3),
      produceEventsPerSecond: Math.round(N / ((produced - p0) / 1000)),
      serviceSeconds: +((done - t0) / 1000).toFixed(3),
      eventsPerSecond: Math.round(serviceRate),
      listsPublished: lists,
      model: modelOf(service).stats(),
    };
    log(`bulk: ${Math.round(serviceRate)} events/s end to end (${lists} lists published)`);

    // ---------------------------------------------------------------- 2. raw consume
    if (PHASES.has('raw')) {
      const marks = await endOffsets(kafka, config.topics.interactions);
      const total = [...marks.values()].reduce((a, b) => a + b, 0);
      let seen = 0;
      let firstAt = 0;
      if (registry && ids) await registry.schemaById(ids.interaction);
      const rawStart = performance.now();
      const raw = kafka.consumer({
        groupId: `${prefix}-raw`,
        maxBytesPerPartition: config.batch.fetchMaxBytesPerPartition,
        maxWaitTimeInMs: config.batch.fetchMaxWaitMs,
      });
      await raw.connect();
      await raw.subscribe({ topics: [config.topics.interactions], fromBeginning: true });
      await new Promise<void>((resolve) => {
        void raw.run({
          autoCommit: false,
          eachBatch: ({ batch }) => {
            if (firstAt === 0) firstAt = performance.now();
            for (const m of batch.messages) {
              const d = decodeInteraction(m, registry);
              if (d.ok) seen++;
            }
            if (seen >= total) resolve();
            return Promise.resolve();
          },
        });
      });
      const rawEnd = performance.now();
      await raw.disconnect();
      // The group join is not consumption: count from the first batch.
      const rawRate = total / ((rawEnd - firstAt) / 1000);
      result.rawConsume = {
        events: total,
        eventsPerSecond: Math.round(rawRate),
        joinSeconds: +((firstAt - rawStart) / 1000).toFixed(3),
      };
      result.ratioToRawConsume = +(serviceRate / rawRate).toFixed(3);
      log(
        `raw consume+decode: ${Math.round(rawRate)} events/s → ratio ${(serviceRate / rawRate).toFixed(2)}`,
      );
    }

    // ---------------------------------------------------------------- 3. receipt latency under load
    if (PHASES.has('latency')) {
      const sentAt = new Map<string, number>();
      const latencies: number[] = [];
      const startAt = new Map<number, number>();
      const admin2 = kafka.admin();
      await admin2.connect();
      for (const o of await admin2.fetchTopicOffsets(config.topics.receipts))
        startAt.set(o.partition, Number(o.high));
      await admin2.disconnect();
      let joined!: () => void;
      const joinedP = new Promise<void>((res) => (joined = res));
      const receiptsDone = follow(
        kafka,
        config.topics.receipts,
        (m) => {
          const id = m.key?.toString('utf8');
          const s = id ? sentAt.get(id) : undefined;
          if (s !== undefined) {
            latencies.push(performance.now() - s);
            sentAt.delete(id!);
          }
          return latencies.length >= DELETIONS;
        },
        {
          fromBeginning: true,
          startAt,
          onJoined: () => joined(),
          timeoutMs: 120_000,
          groupPrefix: `${prefix}-receipts`,
        },
      );
      await joinedP;
      await sleep(500);
      const worker = replayEvents([...config.kafka.brokers], o.partitions, background(USERS, ITEMS), {
        topic: config.topics.interactions,
        rate: BG_RATE,
        track: false,
        loop: true,
        acks: 1,
        schemaId: format === 'avro' ? ids!.interaction : undefined,
      });
      await sleep(1_000);
      const dProducer = kafka.producer({ allowAutoTopicCreation: false });
      await dProducer.connect();
      log(`receipt latency: ${DELETIONS} deletions under ${BG_RATE} events/s`);
      for (let k = 0; k < DELETIONS; k++) {
        const requestId = `${prefix}-dsr-${k}`;
        const userId = `u${Math.floor(USERS * Math.random())}`;
        const value = encodeValue(
          'deletion',
          { requestId, userId },
          format === 'avro' ? ids!.deletion : undefined,
        );
        sentAt.set(requestId, performance.now());
        await dProducer.send({
          topic: config.topics.deletions,
          messages: [{ key: userId, value }],
          acks: -1,
        });
        await sleep(o.deletionIntervalMs);
      }
      await receiptsDone;
      worker.stop();
      const r = await worker.done;
      const bg = { sent: r.sent, seconds: (r.end - r.start) / 1000 };
      await dProducer.disconnect();
      latencies.sort((a, b) => a - b);
      const serverSide =
        (await service.metrics.registry.getSingleMetric('amnesia_deletion_receipt_latency_seconds')?.get())
          ?.values ?? [];
      result.receiptLatency = {
        deletions: latencies.length,
        backgroundEventsPerSecond: Math.round(bg.sent / bg.seconds),
        p50Ms: +quantile(latencies, 0.5).toFixed(1),
        p90Ms: +quantile(latencies, 0.9).toFixed(1),
        p99Ms: +quantile(latencies, 0.99).toFixed(1),
        maxMs: +latencies[latencies.length - 1]!.toFixed(1),
        serviceHistogramCount: serverSide.find((v) =>
          (v as { metricName?: string }).metricName?.endsWith('_count'),
        )?.value,
      };
      log(
        `receipts: p50 ${quantile(latencies, 0.5).toFixed(1)} ms, p99 ${quantile(latencies, 0.99).toFixed(1)} ms`,
      );
    }
    const b = result.bulk as { eventsPerSecond: number };
    const rl = (result.receiptLatency ?? { p99Ms: NaN }) as { p99Ms: number };
    result.meetsTargets = {
      eventsPerSecond: b.eventsPerSecond >= 50_000,
      ratioToRawConsume: (result.ratioToRawConsume as number) >= 0.7,
      receiptP99: rl.p99Ms <= 100,
    };
  } finally {
    await producer.disconnect().catch(() => undefined);
    await service?.stop();
    await stack.stop();
  }
  return result;
}
