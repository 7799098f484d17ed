// Bounded reads of a topic for tools (CLI, tests, benchmarks): read from the beginning up to the
// high-water marks taken at the start, or follow a topic until a predicate holds. Each read uses a
// throwaway consumer group that never commits and is deleted afterwards.
import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';

export interface ReadOptions {
  readonly timeoutMs?: number;
  readonly groupPrefix?: string;
  /** Also records of open and aborted transactions (an audit of everything Kafka serves). */
  readonly readUncommitted?: boolean;
}

/** Deletes a throwaway group that never committed (best effort). */
export async function deleteGroup(kafka: Kafka, groupId: string): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.deleteGroups([groupId]);
  } catch {
    // best effort: an empty group without offsets expires by itself
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** High-water marks per partition (only partitions holding records). */
export async function endOffsets(kafka: Kafka, topic: string): Promise<Map<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const marks = new Map<number, number>();
    for (const o of await admin.fetchTopicOffsets(topic)) {
      if (Number(o.high) > Number(o.low)) marks.set(o.partition, Number(o.high));
    }
    return marks;
  } finally {
    await admin.disconnect();
  }
}

/** Calls onMessage for every record from the beginning up to the end offsets taken at the start. */
export async function readToEnd(
  kafka: Kafka,
  topic: string,
  onMessage: (m: KafkaMessage, partition: number) => void | Promise<void>,
  options: ReadOptions = {},
): Promise<number> {
  const marks = await endOffsets(kafka, topic);
  if (marks.size === 0) return 0;
  let count = 0;
  const remaining = new Set(marks.keys());
  // A partition is read once the fetches have covered its end: the last offset may be a transaction
  // marker (outputs are written in transactions), which is never handed over as a message.
  const covered = (partition: number, lastOffset: number): boolean => {
    const end = marks.get(partition);
    if (end !== undefined && lastOffset >= end - 1) remaining.delete(partition);
    return remaining.size === 0;
  };
  await follow(
    kafka,
    topic,
    async (m, partition) => {
      const end = marks.get(partition);
      if (end === undefined || Number(m.offset) >= end) return covered(partition, Number(m.offset));
      await onMessage(m, partition);
      count++;
      return covered(partition, Number(m.offset));
    },
    { ...options, fromBeginning: true, onCovered: covered },
  );
  return count;
}

/**
 * Feeds records to `onMessage` until it returns true. fromBeginning false starts at the end of the
 * topic as of joining. Rejects after timeoutMs (default: never).
 */
export async function follow(
  kafka: Kafka,
  topic: string,
  onMessage: (m: KafkaMessage, partition: number) => boolean | Promise<boolean>,
  options: ReadOptions & {
    readonly fromBeginning?: boolean;
    /** Start offsets per partition (e.g. end offsets taken before sending a request). */
    readonly startAt?: ReadonlyMap<number, number>;
    readonly onJoined?: () => void;
    /** Ends the read early (resolves, does not reject). */
    readonly signal?: AbortSignal;
    /**
     * Called with the last offset each fetch covered (also fetches that held only transaction
     * markers or aborted records, which hand over no message); true ends the read.
     */
    readonly onCovered?: (partition: number, lastOffset: number) => boolean;
  } = {},
): Promise<void> {
  const groupId = `${options.groupPrefix ?? 'amnesia-reader'}-${randomUUID()}`;
  const consumer = kafka.consumer({
    groupId,
    maxWaitTimeInMs: 100,
    allowAutoTopicCreation: false,
    readUncommitted: options.readUncommitted ?? false,
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await consumer.connect();
    const { startAt, onJoined } = options;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      // seek() here lands before the first fetch of the generation.
      if (startAt)
        for (const [partition, offset] of startAt)
          consumer.seek({ topic, partition, offset: String(offset) });
      onJoined?.();
    });
    await consumer.subscribe({ topics: [topic], fromBeginning: options.fromBeginning ?? false });
    await new Promise<void>((resolve, reject) => {
      let done = false;
      options.signal?.addEventListener('abort', () => {
        done = true;
        resolve();
      });
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(
          () => reject(new Error(`no end reading ${topic} after ${options.timeoutMs} ms`)),
          options.timeoutMs,
        );
      }
      const finish = () => {
        done = true;
        resolve();
      };
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch, ...payload }) => {
            for (const m of batch.messages) {
              if (done) return;
              if (await onMessage(m, batch.partition)) return finish();
              payload.resolveOffset(m.offset);
            }
            if (!done && options.onCovered?.(batch.partition, Number(batch.lastOffset()))) finish();
          },
        })
        .catch(reject);
    });
  } finally {
    if (timer) clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
    await deleteGroup(kafka, groupId);
  }
}
