// Each mode's runtime alone, for unit tests: the single mode's engine over the in-memory fake Kafka
// (test/helpers/fake-kafka.ts), and one partitioned user task (partition 0 of 1, one item
// partition) over a given sink. No broker involved.
import { loadConfig, type Config } from '../../src/config.js';
import type { PartitionOffset } from '../../src/kafka/partitions.js';
import type { Outgoing, OutputSink } from '../../src/kafka/ports.js';
import { createLogger } from '../../src/log.js';
import type { ForgetEffects } from '../../src/output/forget-effects.js';
import { Outbox, OutputEncoder } from '../../src/output/outbox.js';
import { ItemPartitions } from '../../src/partitioned/ids.js';
import { createPartitionedMetrics } from '../../src/partitioned/metrics.js';
import { UserTask } from '../../src/partitioned/user-task.js';
import { Engine } from '../../src/single/engine.js';
import { createMetrics, type Metrics } from '../../src/telemetry/metrics.js';
import { FakeConsumer, type FakeLog } from './fake-kafka.js';

export const TEST_TOMBSTONE_KEY = 'a-test-key-of-sixteen-chars-or-more';

/** The four topics of a single-mode engine test, and the configuration naming them. */
export const SINGLE_TOPICS = { in: 'in', del: 'del', sim: 'sim', rec: 'rec' } as const;

export function singleConfig(env: Record<string, string> = {}): Config {
  const T = SINGLE_TOPICS;
  return loadConfig({
    INTERACTIONS_TOPIC: T.in,
    DELETIONS_TOPIC: T.del,
    SIMILARITIES_TOPIC: T.sim,
    RECEIPTS_TOPIC: T.rec,
    TOP_K: '3',
    BATCH_MAX_MS: '10000',
    LOG_LEVEL: 'silent',
    ...env,
  });
}

export function loneUserTask(o: {
  readonly config: Config;
  readonly sink: OutputSink;
  readonly metrics: Metrics;
  readonly topics: { readonly in: string; readonly del: string; readonly rec: string };
}): UserTask {
  return new UserTask({
    stage: 'users',
    partition: 0,
    sink: o.sink,
    log: createLogger('silent'),
    metrics: o.metrics,
    pmetrics: createPartitionedMetrics(o.metrics.registry, () => [], { users: 1, items: 1 }),
    batch: o.config.batch,
    tickMs: 60_000,
    keyFingerprint: 'test-fingerprint',
    enqueue: () => undefined,
    pause: () => Promise.resolve(),
    stopping: () => false,
    topics: {
      interactions: o.topics.in,
      deletions: o.topics.del,
      repartition: 'rep',
      acks: 'acks',
      deltas: 'deltas',
      changelog: 'ucl',
      receipts: o.topics.rec,
    },
    parts: new ItemPartitions(1),
    userPartitions: 1,
    table: {
      maxItemsPerUser: 1000,
      dedupWindow: 8,
      tombstoneRetentionMs: 1e12,
      interactionTtlMs: o.config.model.interactionTtlMs,
      ttlCheckMs: o.config.model.ttlCheckMs,
      onExpired: (n) => o.metrics.interactionsExpired.inc(n),
    },
    tombstoneKey: TEST_TOMBSTONE_KEY,
    registry: undefined,
    inputRules: o.config.input,
    encoder: new OutputEncoder(undefined),
    dlqMaxBytes: o.config.dlq.maxRecordBytes,
    purgeDelayMs: 5_000,
    admin: { deleteTopicRecords: () => Promise.resolve() },
  });
}

/** The single mode's engine over `log` (its sink by default), with a consumer that is not joined yet. */
export function engineOnFake(
  log: FakeLog,
  config: Config,
  o: {
    readonly sink?: OutputSink;
    readonly metrics?: Metrics;
    readonly dlqMaxBytes?: number;
    readonly tombstoneKey?: string;
    readonly forgetEffects?: ForgetEffects;
  } = {},
): { engine: Engine; consumer: FakeConsumer; metrics: Metrics } {
  const metrics = o.metrics ?? createMetrics();
  const consumer = new FakeConsumer(log);
  const engine = new Engine({
    config,
    log: createLogger('silent'),
    metrics,
    consumer,
    offsets: log.offsetsPort(),
    sink: o.sink ?? log.sink(),
    outbox: new Outbox(config.topics, new OutputEncoder(undefined), metrics, o.dlqMaxBytes),
    registry: undefined,
    tombstoneKey: o.tombstoneKey ?? TEST_TOMBSTONE_KEY,
    forgetEffects: o.forgetEffects,
  });
  return { engine, consumer, metrics };
}

/** A sink that keeps every delivered record whole (headers included). */
export function capturingSink(): OutputSink & { readonly out: Outgoing[] } {
  const out: Outgoing[] = [];
  return {
    out,
    activate: () => Promise.resolve(),
    deactivate: () => Promise.resolve(),
    deliver(records: readonly Outgoing[], _offsets: readonly PartitionOffset[]) {
      out.push(...records);
      return Promise.resolve();
    },
  };
}
