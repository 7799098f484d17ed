// The floor under every exactly_once delivery: one small transaction as the service's output sink
// makes it (a record, the input offsets with sendOffsets, commit) with the service's own producer
// (kafka/client.ts transactionalProducer: its settings and retry policy), spaced out and back to
// back; beside it an acks=all send of the same record by an idempotent producer (at_least_once,
// before its commit).
// A transaction started right after another commits can be refused as concurrent by the broker
// until the previous one's markers are written; kafkajs then retries after its backoff.
import { randomUUID } from 'node:crypto';
import { transactionalProducer } from '../../src/kafka/client.js';
import { configOf, type BenchContext } from './context.js';
import { latencySummary, sleep } from './stats.js';

export interface DeliveryResult {
  readonly deliveries: number;
  /** One transaction every 100 ms. */
  readonly transactionSpaced: ReturnType<typeof latencySummary>;
  /** Transactions back to back (as chunks and deletions do under load). */
  readonly transactionBackToBack: ReturnType<typeof latencySummary>;
  /** acks=all send of the same record, every 100 ms. */
  readonly ackedSend: ReturnType<typeof latencySummary>;
}

export async function deliveryRun(ctx: BenchContext, n = 100): Promise<DeliveryResult> {
  const topic = `${ctx.prefix}-delivery`;
  const input = `${ctx.prefix}-delivery-in`;
  await ctx.admin.createTopics({
    topics: [
      { topic, numPartitions: ctx.partitions },
      { topic: input, numPartitions: ctx.partitions },
    ],
    waitForLeaders: true,
  });
  const groupId = `${ctx.prefix}-delivery`;
  const txp = transactionalProducer(
    ctx.kafka,
    configOf(ctx.baseEnv),
    `${ctx.prefix}-delivery-${randomUUID()}`,
  );
  const acked = ctx.kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  await Promise.all([txp.connect(), acked.connect()]);
  const value = Buffer.alloc(120, 1); // about a receipt
  try {
    const transact = async (k: number): Promise<number> => {
      const t0 = performance.now();
      const txn = await txp.transaction();
      await txn.sendBatch({ topicMessages: [{ topic, messages: [{ key: `r${k}`, value }] }], acks: -1 });
      await txn.sendOffsets({
        consumerGroupId: groupId,
        topics: [{ topic: input, partitions: [{ partition: k % ctx.partitions, offset: String(k) }] }],
      });
      await txn.commit();
      return performance.now() - t0;
    };
    await transact(0); // the first one registers the transactional id
    const spaced: number[] = [];
    for (let k = 1; k <= n; k++) {
      spaced.push(await transact(k));
      await sleep(100);
    }
    const backToBack: number[] = [];
    for (let k = 1; k <= n; k++) backToBack.push(await transact(n + k));
    const sends: number[] = [];
    for (let k = 0; k < n; k++) {
      const t0 = performance.now();
      await acked.sendBatch({ topicMessages: [{ topic, messages: [{ key: `a${k}`, value }] }], acks: -1 });
      sends.push(performance.now() - t0);
      await sleep(100);
    }
    return {
      deliveries: n,
      transactionSpaced: latencySummary(spaced),
      transactionBackToBack: latencySummary(backToBack),
      ackedSend: latencySummary(sends),
    };
  } finally {
    await Promise.allSettled([txp.disconnect(), acked.disconnect()]);
  }
}
