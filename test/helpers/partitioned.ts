// Helpers for the partitioned mode's integration tests: its environment, and waiting until both
// stages have committed everything (every input record, every delta) with nothing left in flight.
import type { Kafka } from 'kafkajs';
import { deleteTopicsAfterAll, waitFor } from './kafka.js';

/**
 * The internal topics the service creates for `groupId` are deleted after the test file, after the
 * services are stopped (with the topics the test created).
 */
export function deleteInternalTopicsAfterAll(groupId: string): void {
  deleteTopicsAfterAll(
    ['users-changelog', 'items-changelog', 'deltas', 'acks', 'users-repartition'].map(
      (t) => `${groupId}-${t}`,
    ),
  );
}

export const PARTITIONED_KEY = 'a-partitioned-test-key-0123456789';

/** MODE=partitioned with short linger, small changelog segments and a short purge bound. */
export function partitionedEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    MODE: 'partitioned',
    TOMBSTONE_KEY: PARTITIONED_KEY,
    BATCH_MAX_MS: '50',
    CHANGELOG_SEGMENT_MS: '2000',
    CHANGELOG_MAX_COMPACTION_LAG_MS: '2000',
    PURGE_MARGIN_MS: '3000',
    KAFKA_TRANSACTION_TIMEOUT_MS: '20000',
    ...extra,
  };
}

/** Committed offsets of a group per topic-partition ('-1' when none). */
async function committed(kafka: Kafka, groupId: string, topic: string): Promise<Map<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((t?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}

async function sumCommitted(kafka: Kafka, group: string, topics: readonly string[]): Promise<number> {
  let sum = 0;
  for (const topic of topics)
    for (const at of (await committed(kafka, group, topic)).values()) sum += Math.max(0, at);
  return sum;
}

/** The user stage's committed offsets summed over the input partitions (progress while a test runs). */
export function usersCommitted(kafka: Kafka, groupId: string, inputs: readonly string[]): Promise<number> {
  return sumCommitted(kafka, `${groupId}-users`, inputs);
}

/** The item stage's committed offsets summed over the deltas partitions. */
export function itemsCommitted(kafka: Kafka, groupId: string): Promise<number> {
  return sumCommitted(kafka, `${groupId}-items`, [`${groupId}-deltas`]);
}

async function ends(kafka: Kafka, topic: string): Promise<Map<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]));
  } finally {
    await admin.disconnect();
  }
}

/**
 * Waits until the user stage has committed the inputs to their ends and the item stage the deltas to
 * theirs, three checks in a row. The tests produce the inputs without transactions, so an input is
 * processed only when committed = end: a slack there would let a check pass with a partition's last
 * events unapplied. The internal topics are written in transactions: a marker follows the last
 * record, and an aborted attempt may leave its records and marker after it (committed ≥ end − 2).
 * On time-out the error names the partitions still behind, and `onTimeout` may add what it knows.
 */
export async function waitPartitionedProcessed(
  kafka: Kafka,
  groupId: string,
  inputs: readonly string[],
  timeoutMs = 90_000,
  onTimeout: () => string = () => '',
): Promise<void> {
  let behind: string[] = [];
  const caughtUp = async (): Promise<boolean> => {
    const checks: [group: string, topic: string, slack: number][] = [
      ...inputs.map((t) => [`${groupId}-users`, t, 0] as [string, string, number]),
      [`${groupId}-users`, `${groupId}-users-repartition`, 2],
      [`${groupId}-items`, `${groupId}-deltas`, 2],
    ];
    behind = [];
    for (const [group, topic, slack] of checks) {
      const c = await committed(kafka, group, topic);
      for (const [p, end] of await ends(kafka, topic)) {
        if (end === 0) continue;
        const at = c.get(p) ?? -1;
        if (at < end - slack) behind.push(`${group} ${topic}[${p}] committed ${at} of ${end}`);
      }
    }
    return behind.length === 0;
  };
  let streak = 0;
  await waitFor(
    async () => {
      streak = (await caughtUp()) ? streak + 1 : 0;
      return streak >= 3;
    },
    timeoutMs,
    300,
  ).catch((e: Error) => {
    throw new Error(`${e.message}: not processed: ${behind.join('; ')}\n${onTimeout()}`);
  });
}
