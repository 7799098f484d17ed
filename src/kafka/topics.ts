// Start-up plumbing: the topics the service reads and writes (created if missing) and, with a
// registry, the value schemas under `<topic>-value` with BACKWARD_TRANSITIVE compatibility.
import kafkajs, { type Admin, type ITopicConfig } from 'kafkajs';
import type { Config } from '../config.js';
import { AmnesiaError, ConfigError, describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { SchemaRegistryClient } from './registry.js';
import { retry } from './retry.js';
import { localSchema, type SchemaName } from './schemas.js';

// kafkajs is CommonJS and Node's ESM loader does not see this export by name.
const TOPIC_RESOURCE = kafkajs.ConfigResourceTypes.TOPIC;

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
  // Segments roll at a tenth of the retention, so a record is gone within 1.1 × it (dlqKeepsFor).
  const dlq = [
    { name: 'retention.ms', value: String(config.dlq.retentionMs) },
    { name: 'segment.ms', value: String(Math.max(60_000, Math.ceil(config.dlq.retentionMs / 10))) },
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

/**
 * How long the DLQ topics may keep a record, from their actual settings (the receipts' honest
 * `dlqRetentionMs`): the largest retention.ms + segment.ms (a record leaves with its segment, which
 * closes at most segment.ms after it opened). A DLQ without a time bound (compacted, or
 * retention.ms -1) stops start-up: a forgotten user's malformed records would stay for ever.
 */
export async function dlqKeepsFor(
  admin: Pick<Admin, 'describeConfigs'>,
  config: Config,
  log: Logger,
): Promise<number> {
  const topics = [dlqTopic(config.topics.interactions), dlqTopic(config.topics.deletions)];
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: topics.map((name) => ({
      type: TOPIC_RESOURCE,
      name,
      configNames: ['cleanup.policy', 'retention.ms', 'segment.ms'],
    })),
  });
  let bound = 0;
  for (const r of resources) {
    const value = (name: string) => r.configEntries.find((c) => c.configName === name)?.configValue;
    const retention = Number(value('retention.ms'));
    const segment = Number(value('segment.ms'));
    const policy = value('cleanup.policy') ?? 'delete';
    if (!policy.includes('delete') || !(retention > 0) || !(segment > 0))
      throw new ConfigError(
        'DLQ_RETENTION_MS',
        `${r.resourceName} keeps records without a time bound (cleanup.policy=${policy}, retention.ms=${String(value('retention.ms'))}): ` +
          "a forgotten user's malformed records would stay; set cleanup.policy=delete and retention.ms on it",
      );
    if (retention !== config.dlq.retentionMs)
      log.warn(
        { topic: r.resourceName, retentionMs: retention, configured: config.dlq.retentionMs },
        'a DLQ topic has another retention.ms than DLQ_RETENTION_MS: receipts state the real one',
      );
    bound = Math.max(bound, retention + segment);
  }
  return bound;
}

/** Creates the missing topics; existing ones are left as they are. */
export async function ensureTopics(admin: Admin, config: Config, log: Logger): Promise<void> {
  const created = await createTopicsAndWait(admin, topicSpecs(config), 'topics');
  if (created.length > 0) log.info({ topics: created }, 'topics created');
}

const alreadyExists = (e: unknown): boolean => {
  const err = e as { type?: unknown; errors?: unknown };
  if (err.type === 'TOPIC_ALREADY_EXISTS') return true;
  return Array.isArray(err.errors) && err.errors.length > 0 && err.errors.every(alreadyExists);
};

/**
 * Creates the topics of `specs` that are missing and waits, with the one retry policy (bounded),
 * until every topic of `specs` is in the metadata with a leader on each partition. Idempotent under
 * concurrent instances: a topic another instance created in between (TOPIC_ALREADY_EXISTS) counts as
 * created, and a fresh cluster's metadata delay (a topic absent from listTopics or metadata right
 * after its creation, UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE) is waited out, not fatal.
 * Returns the topics this call asked the broker to create.
 */
export async function createTopicsAndWait(
  admin: Admin,
  specs: readonly ITopicConfig[],
  what: string,
  attempts = 30,
): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((t) => !existing.has(t.topic));
  if (missing.length > 0) {
    try {
      await admin.createTopics({ topics: missing, waitForLeaders: false });
    } catch (e) {
      if (!alreadyExists(e))
        throw new AmnesiaError('KAFKA_UNAVAILABLE', `could not create the ${what}`, {
          cause: e,
          retriable: true,
        });
    }
  }
  const names = specs.map((t) => t.topic);
  await retry(
    async () => {
      const md = await admin.fetchTopicMetadata({ topics: names });
      for (const name of names) {
        const parts = md.topics.find((t) => t.name === name)?.partitions ?? [];
        if (parts.length === 0 || parts.some((p) => p.leader < 0))
          throw new AmnesiaError('KAFKA_UNAVAILABLE', `the ${what} have no leaders yet (${name})`, {
            retriable: true,
          });
      }
    },
    { attempts, initialDelayMs: 100, maxDelayMs: 2_000 },
  );
  return missing.map((t) => t.topic);
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
