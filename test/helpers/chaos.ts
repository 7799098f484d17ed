// Chaos-test tools: stopping a service process at a chosen moment (while one of its transactions
// is open on the output topics, found with a read_uncommitted follower and the last stable
// offsets), and the end-state check every chaos test ends with: the compacted lists equal the
// brute force from the surviving events on the input topics, every deletion request has exactly one
// FORGOTTEN receipt record, and the outputs were written by one transactional id in epoch order.
import type { Consumer, KafkaMessage } from 'kafkajs';
import { expect } from 'vitest';
import { inputOnTopics, type TopicInput } from './feed.js';
import { uniqueName, waitFor } from './kafka.js';
import { bruteForceLists, survivingHistory, type RefList } from './oracle.js';
import { history, receiptsNotOnce, writersOutOfOrder, type OutputRecord } from './output-history.js';
import { expectExact, sameLists, type Harness } from './service.js';
import type { ServiceChild } from './service-child.js';

type Listener = (topic: string, messages: readonly KafkaMessage[]) => void;

/** Follows the output topics read_uncommitted: sees a transaction's records before its commit. */
export class UncommittedWatch {
  private readonly next = new Map<string, number>();
  private lastBatchAt = Date.now();
  private listener: Listener | undefined;

  private constructor(
    private readonly h: Harness,
    private readonly consumer: Consumer,
  ) {}

  static async start(h: Harness): Promise<UncommittedWatch> {
    const consumer = h.kafka.consumer({
      groupId: uniqueName('t-watch'),
      readUncommitted: true,
      maxWaitTimeInMs: 20,
    });
    const w = new UncommittedWatch(h, consumer);
    await consumer.connect();
    await consumer.subscribe({ topics: [h.topics.similarities, h.topics.receipts], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: ({ batch }) => {
        w.lastBatchAt = Date.now();
        const key = `${batch.topic}/${batch.partition}`;
        w.next.set(key, Math.max(w.next.get(key) ?? 0, Number(batch.lastOffset()) + 1));
        w.listener?.(batch.topic, batch.messages);
        return Promise.resolve();
      },
    });
    return w;
  }

  /** Calls `on` for every batch until it returns true (or the watch is disarmed). */
  arm(on: (topic: string, messages: readonly KafkaMessage[]) => boolean): void {
    this.listener = (topic, messages) => {
      if (on(topic, messages)) this.listener = undefined;
    };
  }

  disarm(): void {
    this.listener = undefined;
  }

  /**
   * True when a transaction is open on an output partition: records seen past its last stable
   * offset. Waits until nothing new arrived for 300 ms first (the writer is stopped).
   */
  async transactionOpen(): Promise<boolean> {
    await waitFor(() => Date.now() - this.lastBatchAt > 300, 5_000, 50);
    const admin = this.h.kafka.admin();
    await admin.connect();
    try {
      for (const topic of [this.h.topics.similarities, this.h.topics.receipts])
        for (const o of await admin.fetchTopicOffsets(topic))
          // read_committed: the last stable offset
          if ((this.next.get(`${topic}/${o.partition}`) ?? 0) > Number(o.offset)) return true;
      return false;
    } finally {
      await admin.disconnect();
    }
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}

/** The group's committed offsets summed over the input partitions, and the inputs' end offsets. */
export async function inputProgress(h: Harness): Promise<{ committed: number; end: number }> {
  const admin = h.kafka.admin();
  await admin.connect();
  try {
    const topics = [h.topics.interactions, h.topics.deletions];
    let committed = 0;
    let end = 0;
    for (const t of await admin.fetchOffsets({ groupId: h.groupId, topics }))
      for (const p of t.partitions) committed += Math.max(0, Number(p.offset));
    for (const topic of topics) for (const o of await admin.fetchTopicOffsets(topic)) end += Number(o.high);
    return { committed, end };
  } finally {
    await admin.disconnect();
  }
}

export interface StopOptions {
  /** Which written records count as the moment (default: any record on the outputs). */
  readonly when?: (topic: string, messages: readonly KafkaMessage[]) => boolean;
  /** Runs before each attempt (e.g. produce the deletion whose transaction is the target). */
  readonly before?: () => Promise<void>;
  readonly attempts?: number;
}

/**
 * SIGSTOPs the child the moment it writes matching output records, and keeps it stopped if its
 * transaction is still open then; otherwise SIGCONT and try again. Resolves with the attempts used;
 * rejects when no attempt caught a transaction open.
 */
export async function stopInTransaction(
  c: ServiceChild,
  watch: UncommittedWatch,
  o: StopOptions = {},
): Promise<number> {
  const attempts = o.attempts ?? 40;
  for (let k = 1; k <= attempts; k++) {
    let stopped = false;
    watch.arm((topic, messages) => {
      if (o.when && !o.when(topic, messages)) return false;
      stopped = c.child.kill('SIGSTOP');
      return true;
    });
    await o.before?.();
    await waitFor(() => stopped, 30_000, 5).finally(() => watch.disarm());
    if (await watch.transactionOpen()) return k;
    c.child.kill('SIGCONT');
    await new Promise((r) => setTimeout(r, 100 + Math.floor(Math.random() * 200)));
  }
  throw new Error(`${c.name}: no transaction caught open in ${attempts} attempts`);
}

export interface EndState {
  readonly input: TopicInput;
  readonly lists: OutputRecord[];
  readonly receipts: OutputRecord[];
}

/**
 * The end of every chaos test: everything processed; the compacted similarities equal the brute
 * force over the input topics' surviving events; every request exactly one FORGOTTEN receipt
 * record; one transactional writer, epochs in order. `invalid` is how many bad input records the
 * test wrote.
 */
export async function expectExactEnd(
  h: Harness,
  o: { topK?: number; invalid?: number } = {},
): Promise<EndState> {
  await h.waitProcessed(90_000);
  const input = await inputOnTopics(h);
  expect(input.invalid, 'bad input records on the topics').toBe(o.invalid ?? 0);
  const expected: Map<string, RefList> = bruteForceLists(
    survivingHistory(input.events, input.requests),
    o.topK ?? 20,
    1,
  );
  // The group's offsets commit with the outputs, but the transaction's markers reach the output
  // partitions a moment later: until then a read_committed reader stops short of them.
  const ids = input.requests.map((r) => r.requestId);
  await waitFor(
    async () => sameLists(await h.similarities(), expected) && hasAll(await h.receipts(), ids),
    15_000,
    200,
  ).catch(() => undefined);
  expectExact(await h.similarities(), expected);
  const lists = await history(h, h.topics.similarities);
  const receipts = await history(h, h.topics.receipts);
  expect(receiptsNotOnce(receipts, ids)).toEqual({});
  expect(writersOutOfOrder([...lists, ...receipts])).toEqual([]);
  return { input, lists, receipts };
}

const hasAll = (receipts: ReadonlyMap<string, unknown>, ids: readonly string[]): boolean =>
  ids.every((id) => receipts.has(id));
