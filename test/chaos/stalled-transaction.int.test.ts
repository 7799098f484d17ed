// A lone active instance stalled (SIGSTOP) with a transaction open, for longer than its
// KAFKA_TRANSACTION_TIMEOUT_MS but within its session: the broker aborts the transaction and bumps
// the producer's epoch, so the instance finds itself fenced when it continues. Nobody else took
// over, so it must go on by itself with a new producer — no rebuild, no exit — and what the aborted
// transaction carried must still come out, exactly once.
import { afterAll, describe, expect, it } from 'vitest';
import { expectExactEnd, stopInTransaction, UncommittedWatch } from '../helpers/chaos.js';
import { Feeder } from '../helpers/feed.js';
import { waitFor } from '../helpers/kafka.js';
import { killChildren } from '../helpers/process.js';
import { logged, metric, settledActive, startChild, tail, waitReady } from '../helpers/service-child.js';
import { harness } from '../helpers/service.js';

afterAll(killChildren);

describe('a stalled transaction', () => {
  it('aborted by the broker while the instance was stopped: fenced, it goes on with a new producer, nothing lost', async () => {
    const h = await harness(2);
    const a = await startChild(h, 'A', {
      OUTPUT_FORMAT: 'json',
      KAFKA_TRANSACTION_TIMEOUT_MS: '2000',
      KAFKA_SESSION_TIMEOUT_MS: '45000',
      KAFKA_HEARTBEAT_INTERVAL_MS: '1000',
    });
    await waitReady(a);
    const feed = new Feeder(h, {
      seed: 21,
      users: 200,
      items: 60,
      rate: 200,
      removeShare: 0.1,
      deletionEvery: 100,
    });
    feed.start();
    await waitFor(() => feed.requests.length > 1, 30_000);
    const watch = await UncommittedWatch.start(h);
    await stopInTransaction(a, watch, {
      when: (topic) => topic === h.topics.receipts,
      before: async () => {
        await feed.forgetOne();
      },
    });
    // The broker aborts a timed-out transaction on its next check (every 10 s by default).
    const t0 = Date.now();
    await waitFor(async () => !(await watch.transactionOpen()), 30_000, 500);
    const abortedAfterMs = Date.now() - t0;
    a.child.kill('SIGCONT');
    await waitFor(
      () => logged(a, 'outputs fenced: another instance took over, or our transaction timed out'),
      30_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}: never fenced\n${tail(a)}`);
    });
    await feed.stop();
    await watch.stop();
    await h.waitProcessed(60_000);
    await settledActive([a]);
    expect(await metric(a, 'amnesia_producer_fenced_total')).toBeGreaterThanOrEqual(1);
    // It stayed the active instance: no standby phase, no second rebuild.
    expect(a.lines.filter((l) => l.includes('"phase":"rebuilding"'))).toHaveLength(1);
    expect(a.lines.some((l) => l.includes('"phase":"standby"'))).toBe(false);
    expect(a.child.exitCode).toBeNull();
    await expectExactEnd(h);
    console.info(`[chaos] transaction aborted by the broker ${abortedAfterMs} ms into the stop`);
  }, 120_000);
});
