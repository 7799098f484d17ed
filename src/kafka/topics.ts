// Start-up plumbing: the topics the service reads and writes (created if missing) and, with a
// registry, the value schemas under `<topic>-value` with BACKWARD_TRANSITIVE compatibility.
import type { Admin, ITopicConfig } from 'kafkajs';
import type { Config } from '../config.js';
import { AmnesiaError, describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { SchemaRegistryClient } from './registry.js';
import { retry } from './retry.js';
import { localSchema, type SchemaName } from './schemas.js';

/** Where the dead letters of an input topic go. */
export function dlqTopic(topic: string): string {
  return `${topic}.dlq`;
}

export const COMPATIBILITY = 'BACKWARD_TRANSITIVE';

export function topicSpecs(config: Config): ITopicConfig[] {
  const { topics } = config;
  const base = { numPartitions: topics.partitions, replicationFactor: topics.replicationFactor };
  const compact = [{ name: 'cleanup.policy', value: 'compact' }];
  // A DLQ keeps a forgotten user's malformed records (keyed by their id) for at most its retention;
  // its size limit leaves room for a copy at DLQ_MAX_RECORD_BYTES plus the batch overhead.
  const dlq = [
    { name: 'retention.ms', value: String(config.dlq.retentionMs) },
    { name: 'max.message.bytes', value: String(config.dlq.maxRecordBytes + 1024) },
  ];
  return [
    { topic: topics.interactions, ...base },
    { topic: topics.deletions, ...base },
    { topic: dlqTopic(topics.interactions), ...base, configEntries: dlq },
    { topic: dlqTopic(topics.deletions), ...base, configEntries: dlq },
    { topic: topics.similarities, ...base, configEntries: compact },
    { topic: topics.receipts, ...base, configEntries: compact },
    {
      topic: topics.progress,
      numPartitions: 1,
      replicationFactor: topics.replicationFactor,
      configEntries: compact,
    },
  ];
}

/** Creates the missing topics; existing ones are left as they are. */
export async function ensureTopics(admin: Admin, config: Config, log: Logger): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = topicSpecs(config).filter((t) => !existing.has(t.topic));
  if (missing.length === 0) return;
  try {
    await admin.createTopics({ topics: missing, waitForLeaders: true });
  } catch (e) {
    // Another instance may have created them in between; anything else is fatal.
    const now = new Set(await admin.listTopics());
    if (missing.some((t) => !now.has(t.topic))) {
      throw new AmnesiaError('KAFKA_UNAVAILABLE', 'could not create topics', { cause: e });
    }
  }
  log.info({ topics: missing.map((t) => t.topic) }, 'topics created');
}

export type SchemaIds = Readonly<Record<SchemaName, number>>;

/** Sets compatibility and registers our four schemas; returns their ids (cached in the client). */
export async function registerSchemas(
  registry: SchemaRegistryClient,
  config: Config,
  log: Logger,
): Promise<SchemaIds> {
  const subjects: [SchemaName, string][] = [
    ['interaction', `${config.topics.interactions}-value`],
    ['deletion', `${config.topics.deletions}-value`],
    ['neighbors', `${config.topics.similarities}-value`],
    ['receipt', `${config.topics.receipts}-value`],
  ];
  const ids: Partial<Record<SchemaName, number>> = {};
  for (const [name, subject] of subjects) {
    const schema = localSchema(name);
    await registry.setCompatibility(subject, COMPATIBILITY);
    const id = await registry.register(subject, schema.text);
    registry.remember(id, schema.type);
    ids[name] = id;
  }
  log.info({ ids }, 'schemas registered');
  return ids as SchemaIds;
}

/** Retries an idempotent start-up step while the dependency is briefly away (10 attempts). */
export function withRetry<T>(what: string, log: Logger, fn: () => Promise<T>, attempts = 10): Promise<T> {
  return retry(fn, {
    attempts,
    onRetry: (e, attempt) =>
      log.warn({ what, attempt, err: describeError(e) }, 'start-up step failed, retrying'),
  });
}
