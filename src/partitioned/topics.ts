// The partitioned mode's topics: names derived from KAFKA_GROUP_ID (as Kafka Streams derives its
// internal topics from application.id), created when missing, and checked when present — the inputs
// co-partitioned, the internal topics with the partition counts of the topics they follow, the
// changelogs compacted with a max.compaction.lag.ms. The changelogs' actual settings give the bound
// after which a forgotten user's bytes are gone from them (PURGED waits for it).
import kafkajs, { type Admin, type ITopicConfig } from 'kafkajs';
import type { Config } from '../config.js';
import { AmnesiaError } from '../errors.js';
import type { Logger } from '../log.js';
import { createTopicsAndWait } from '../kafka/topics.js';

export interface PartitionedNames {
  readonly deltas: string;
  readonly acks: string;
  /** The users' home partitions: every input record routed by user token (route.ts). */
  readonly usersRepartition: string;
  readonly usersChangelog: string;
  readonly itemsChangelog: string;
  readonly usersGroup: string;
  readonly itemsGroup: string;
  usersTransactionalId(p: number): string;
  itemsTransactionalId(q: number): string;
}

export function partitionedNames(config: Config): PartitionedNames {
  const g = config.kafka.groupId;
  return {
    deltas: `${g}-deltas`,
    acks: `${g}-acks`,
    usersRepartition: `${g}-users-repartition`,
    usersChangelog: `${g}-users-changelog`,
    itemsChangelog: `${g}-items-changelog`,
    usersGroup: `${g}-users`,
    itemsGroup: `${g}-items`,
    usersTransactionalId: (p) => `${g}-users-${p}`,
    itemsTransactionalId: (q) => `${g}-items-${q}`,
  };
}

export interface PartitionedLayout {
  /** Input partitions: user tasks. */
  readonly userPartitions: number;
  /** Partitions of item-similarities and the deltas: item tasks. */
  readonly itemPartitions: number;
  /** FORGOTTEN → PURGED: the changelogs' roll + compaction bound, the tick, the margin. */
  readonly purgeDelayMs: number;
  /** How often an idle task appends a tick so that its segments roll. */
  readonly tickMs: number;
}

/** A week: the deltas and routed records are purged after use; retention is only a backstop. */
// kafkajs is CommonJS and Node's ESM loader does not see this export by name.
const { ConfigResourceTypes } = kafkajs;

const BACKSTOP_RETENTION_MS = 7 * 86_400_000;

function specs(config: Config, names: PartitionedNames, P: number, Q: number): ITopicConfig[] {
  const { segmentMs, maxCompactionLagMs } = config.partitioned;
  const rf = config.topics.replicationFactor;
  const changelog = [
    { name: 'cleanup.policy', value: 'compact' },
    { name: 'segment.ms', value: String(segmentMs) },
    { name: 'max.compaction.lag.ms', value: String(maxCompactionLagMs) },
    { name: 'min.cleanable.dirty.ratio', value: '0.1' },
  ];
  const stream = [
    { name: 'retention.ms', value: String(BACKSTOP_RETENTION_MS) },
    { name: 'segment.ms', value: String(segmentMs) },
  ];
  return [
    { topic: names.deltas, numPartitions: Q, replicationFactor: rf, configEntries: stream },
    { topic: names.acks, numPartitions: P, replicationFactor: rf, configEntries: stream },
    {
      topic: names.usersRepartition,
      numPartitions: P,
      replicationFactor: rf,
      // The per-user order is by record time: routed records keep their input record's timestamp.
      configEntries: [...stream, { name: 'message.timestamp.type', value: 'CreateTime' }],
    },
    { topic: names.usersChangelog, numPartitions: P, replicationFactor: rf, configEntries: changelog },
    { topic: names.itemsChangelog, numPartitions: Q, replicationFactor: rf, configEntries: changelog },
  ];
}

function refuse(message: string): never {
  throw new AmnesiaError('STATE_INCONSISTENT', message);
}

async function partitionCount(admin: Admin, topic: string): Promise<number> {
  const md = await admin.fetchTopicMetadata({ topics: [topic] });
  return md.topics[0]?.partitions.length ?? 0;
}

/**
 * Creates the internal topics when missing and checks the layout; the contract topics must exist
 * already (ensureTopics). Throws (start-up stops) when the inputs are not co-partitioned, an internal
 * topic has another partition count, or a changelog is not compacted with a compaction lag.
 */
export async function ensurePartitionedTopics(
  admin: Admin,
  config: Config,
  names: PartitionedNames,
  log: Logger,
): Promise<PartitionedLayout> {
  const t = config.topics;
  const P = await partitionCount(admin, t.interactions);
  const Pd = await partitionCount(admin, t.deletions);
  if (P !== Pd)
    refuse(
      `MODE=partitioned needs co-partitioned inputs: ${t.interactions} has ${P} partitions, ${t.deletions} ${Pd}`,
    );
  const Q = await partitionCount(admin, t.similarities);
  const wanted = specs(config, names, P, Q);
  const created = await createTopicsAndWait(admin, wanted, 'internal topics');
  if (created.length > 0) log.info({ topics: created }, 'internal topics created');
  for (const s of wanted) {
    const n = await partitionCount(admin, s.topic);
    if (n !== s.numPartitions)
      refuse(
        `${s.topic} has ${n} partitions, the partitioned mode needs ${s.numPartitions ?? '?'} (the topic it follows)`,
      );
  }
  const bounds = await changelogBounds(admin, [names.usersChangelog, names.itemsChangelog]);
  const tickMs = Math.max(1_000, Math.min(60_000, Math.floor(bounds.segmentMs / 2)));
  const purgeDelayMs =
    bounds.segmentMs + tickMs + bounds.maxCompactionLagMs + config.partitioned.purgeMarginMs;
  return { userPartitions: P, itemPartitions: Q, purgeDelayMs, tickMs };
}

/** The largest segment.ms and max.compaction.lag.ms of the changelogs; refuses a changelog that cannot bound them. */
async function changelogBounds(
  admin: Admin,
  topics: readonly string[],
): Promise<{ segmentMs: number; maxCompactionLagMs: number }> {
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: topics.map((name) => ({
      type: ConfigResourceTypes.TOPIC,
      name,
      configNames: ['cleanup.policy', 'segment.ms', 'max.compaction.lag.ms'],
    })),
  });
  let segmentMs = 0;
  let maxCompactionLagMs = 0;
  for (const r of resources) {
    const value = (name: string) => r.configEntries.find((c) => c.configName === name)?.configValue;
    if (!(value('cleanup.policy') ?? '').includes('compact'))
      refuse(`${r.resourceName} must be compacted (cleanup.policy=compact)`);
    const lag = Number(value('max.compaction.lag.ms'));
    const seg = Number(value('segment.ms'));
    // The broker's default max.compaction.lag.ms is Long.MAX_VALUE: no bound at all.
    if (!Number.isSafeInteger(lag) || lag <= 0)
      refuse(
        `${r.resourceName} needs max.compaction.lag.ms (KIP-354): forgotten users would stay in it without a bound`,
      );
    if (!Number.isSafeInteger(seg) || seg <= 0) refuse(`${r.resourceName} needs a finite segment.ms`);
    segmentMs = Math.max(segmentMs, seg);
    maxCompactionLagMs = Math.max(maxCompactionLagMs, lag);
  }
  return { segmentMs, maxCompactionLagMs };
}
