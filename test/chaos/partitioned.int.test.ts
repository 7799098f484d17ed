// MODE=partitioned under chaos, on a stack of this test's own, with two instances as child processes
// sharing a generated stream with removals and deletion requests:
// - the broker SIGKILLed mid-stream and restarted on the same data directory: both instances ride it
//   out and are ready again by themselves (no restart);
// - one instance SIGSTOPped for longer than the session timeout (its partitions move to the other,
//   restored from the changelogs), then continued: it is fenced and rejoins.
// Both end the same way: the compacted lists equal the brute force over the surviving events on the
// input topics, every deletion request has exactly one FORGOTTEN receipt, and each similarities
// partition was written by its one task's transactional id in epoch order (a fenced owner's stale
// lists never commit after its successor's).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Feeder, inputOnTopics } from '../helpers/feed.js';
import { waitFor } from '../helpers/kafka.js';
import { bruteForceLists, survivingHistory } from '../helpers/oracle.js';
import { history, receiptsNotOnce, writersOutOfOrder } from '../helpers/output-history.js';
import { partitionedEnv, usersCommitted, waitPartitionedProcessed } from '../helpers/partitioned.js';
import { privateStack, type PrivateStack } from '../helpers/private-stack.js';
import { killChildren } from '../helpers/process.js';
import { metric, startChild, tail, waitReady, type ServiceChild } from '../helpers/service-child.js';
import { expectExact, harness, sameLists, type Harness } from '../helpers/service.js';

let stack: PrivateStack;
beforeAll(async () => {
  stack = await privateStack();
}, 240_000);
afterAll(async () => {
  killChildren();
  await stack?.stop();
});

const PARTITIONS = 4;
const TOP_K = 10;
const ENV = partitionedEnv({
  OUTPUT_FORMAT: 'json',
  TOP_K: String(TOP_K),
  KAFKA_SESSION_TIMEOUT_MS: '6000',
  KAFKA_HEARTBEAT_INTERVAL_MS: '2000',
});

const inputs = (h: Harness) => [h.topics.interactions, h.topics.deletions];
/** The user stage's committed input offsets, summed (-1 while the coordinator is not answering). */
const progress = (h: Harness) => usersCommitted(h.kafka, h.groupId, inputs(h)).catch(() => -1);

async function twoInstances(h: Harness): Promise<[ServiceChild, ServiceChild]> {
  const a = await startChild(h, 'A', ENV);
  const b = await startChild(h, 'B', ENV);
  await Promise.all([waitReady(a, 90_000), waitReady(b, 90_000)]);
  return [a, b];
}

const feeder = (h: Harness, seed: number) =>
  new Feeder(h, { seed, users: 300, items: 100, rate: 300, removeShare: 0.1, deletionEvery: 120 });

/**
 * Everything processed; the compacted lists exact against the input topics' surviving events;
 * every request exactly one FORGOTTEN; per similarities partition one writer in epoch order.
 */
async function expectExactEnd(h: Harness, a: ServiceChild, b: ServiceChild): Promise<void> {
  await waitPartitionedProcessed(
    h.kafka,
    h.groupId,
    inputs(h),
    120_000,
    () => `${tail(a, 40)}\n${tail(b, 40)}`,
  );
  const input = await inputOnTopics(h);
  expect(input.invalid).toBe(0);
  const expected = bruteForceLists(survivingHistory(input.events, input.requests), TOP_K, 1);
  const ids = input.requests.map((r) => r.requestId);
  // The markers of the last transactions reach the outputs a moment after the offsets commit.
  await waitFor(
    async () => {
      const receipts = await h.receipts();
      return sameLists(await h.similarities(), expected) && ids.every((id) => receipts.has(id));
    },
    20_000,
    250,
  ).catch(() => undefined);
  expectExact(await h.similarities(), expected);
  const lists = await history(h, h.topics.similarities);
  expect(receiptsNotOnce(await history(h, h.topics.receipts), ids)).toEqual({});
  for (let q = 0; q < PARTITIONS; q++)
    expect(writersOutOfOrder(lists.filter((r) => r.partition === q))).toEqual([]);
  expect(ids.length).toBeGreaterThan(5);
}

describe('MODE=partitioned under chaos', () => {
  it('the broker SIGKILLed mid-stream and restarted: both instances recover by themselves, outputs exact, receipts once', async () => {
    const h = await harness(PARTITIONS, { infra: stack });
    const [a, b] = await twoInstances(h);
    const feed = feeder(h, 61);
    feed.start();
    await waitFor(async () => (await progress(h)) > 600, 60_000);
    await stack.killBroker();
    await new Promise((r) => setTimeout(r, 3_000));
    const t0 = Date.now();
    await stack.restartBroker();
    const restartMs = Date.now() - t0;
    const before = await waitFor(async () => {
      const p = await progress(h);
      return p >= 0 ? { p } : undefined;
    }, 60_000).then((x) => x!.p);
    await waitFor(async () => (await progress(h)) > before + 300, 120_000).catch((e: Error) => {
      throw new Error(`${e.message}: no progress after the broker came back\n${tail(a, 30)}\n${tail(b, 30)}`);
    });
    const committingMs = Date.now() - t0 - restartMs;
    await feed.stop();
    await Promise.all([waitReady(a, 120_000), waitReady(b, 120_000)]);
    const readyMs = Date.now() - t0 - restartMs;
    await expectExactEnd(h, a, b);
    expect([a.child.exitCode, b.child.exitCode]).toEqual([null, null]);
    console.info(
      `[chaos] partitioned: broker restart ${restartMs} ms; committing again ${committingMs} ms and both ready ${readyMs} ms after; producer retries ${feed.retries}`,
    );
  }, 360_000);

  it('an instance SIGSTOPped past its session: the other takes all partitions, the continued one is fenced and rejoins, outputs exact', async () => {
    const h = await harness(PARTITIONS, { infra: stack });
    const [a, b] = await twoInstances(h);
    const feed = feeder(h, 67);
    feed.start();
    await waitFor(async () => (await progress(h)) > 600, 60_000);
    a.child.kill('SIGSTOP');
    const t0 = Date.now();
    // B holds and serves every partition of both stages.
    await waitFor(async () => (await metric(b, 'amnesia_partition_live')) === 2 * PARTITIONS, 90_000).catch(
      (e: Error) => {
        throw new Error(`${e.message}: B did not take every partition over\n${tail(b, 30)}`);
      },
    );
    const takeoverMs = Date.now() - t0;
    const moved = await progress(h);
    await waitFor(async () => (await progress(h)) > moved + 300, 60_000);
    const seen = a.lines.length;
    a.child.kill('SIGCONT');
    const t1 = Date.now();
    // A finds its session gone, rejoins both groups and restores the partitions it is given.
    await waitFor(
      () => a.lines.slice(seen).filter((l) => l.includes('partitions assigned')).length >= 2,
      60_000,
    );
    await waitReady(a, 90_000);
    const rejoinMs = Date.now() - t1;
    expect(await metric(a, 'amnesia_partition_live')).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 3_000));
    await feed.stop();
    await Promise.all([waitReady(a, 90_000), waitReady(b, 90_000)]);
    await expectExactEnd(h, a, b);
    expect([a.child.exitCode, b.child.exitCode]).toEqual([null, null]);
    const fenced = await metric(a, 'amnesia_producer_fenced_total');
    console.info(
      `[chaos] partitioned: A stopped → B live on all ${2 * PARTITIONS} tasks in ${takeoverMs} ms; A continued → rejoined, restored and ready in ${rejoinMs} ms; A fenced ${fenced} times`,
    );
  }, 360_000);
});
