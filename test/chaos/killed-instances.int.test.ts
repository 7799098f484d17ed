// Instances dying for good (SIGKILL), one after the other, with deletions in the stream: the active
// one with a transaction open (a receipt written, not committed), a standby, then the next active
// one mid-transaction too, so that no instance is left; a fresh one starts from the topics. The
// aborted transactions' outputs must be re-derived once each: exact lists, every receipt once.
import { afterAll, describe, expect, it } from 'vitest';
import { expectExactEnd, inputProgress, stopInTransaction, UncommittedWatch } from '../helpers/chaos.js';
import { Feeder } from '../helpers/feed.js';
import { waitFor } from '../helpers/kafka.js';
import { killChildren } from '../helpers/process.js';
import {
  settledActive,
  startChild,
  tail,
  waitReady,
  waitStandby,
  type ServiceChild,
} from '../helpers/service-child.js';
import { harness, type Harness } from '../helpers/service.js';

afterAll(killChildren);

const ENV = { OUTPUT_FORMAT: 'json', KAFKA_TRANSACTION_TIMEOUT_MS: '20000' };

/** SIGKILL while a transaction with a receipt in it is open (stopped first, so the moment is sure). */
async function killMidReceipt(
  c: ServiceChild,
  h: Harness,
  watch: UncommittedWatch,
  feed: Feeder,
): Promise<void> {
  await stopInTransaction(c, watch, {
    when: (topic) => topic === h.topics.receipts,
    before: async () => {
      await feed.forgetOne();
    },
  });
  c.child.kill('SIGKILL');
  await c.exited;
}

/** Ready, and committed up to the input written by then. */
async function caughtUp(c: ServiceChild, h: Harness): Promise<void> {
  await waitReady(c, 60_000);
  const { end } = await inputProgress(h);
  await waitFor(async () => (await inputProgress(h)).committed >= end, 60_000).catch((e: Error) => {
    throw new Error(`${e.message}: ${c.name} did not catch up\n${tail(c)}`);
  });
}

describe('instances killed', () => {
  it('the active mid-transaction, a standby, then the next active: a fresh instance publishes exactly, every receipt once', async () => {
    const h = await harness(3);
    const a = await startChild(h, 'A', ENV);
    await waitReady(a);
    const b = await startChild(h, 'B', ENV);
    await waitStandby(b);
    const feed = new Feeder(h, {
      seed: 61,
      users: 250,
      items: 80,
      rate: 250,
      removeShare: 0.15,
      deletionEvery: 120,
    });
    feed.start();
    await waitFor(async () => (await inputProgress(h)).committed > 300, 30_000);
    const watch = await UncommittedWatch.start(h);

    await killMidReceipt(a, h, watch, feed);
    await caughtUp(b, h);

    // A standby dies: the active one keeps its state (no second rebuild).
    const joins = () => b.lines.filter((l) => l.includes('"msg":"joined group"')).length;
    const joined = joins();
    const c = await startChild(h, 'C', ENV);
    await waitStandby(c);
    c.child.kill('SIGKILL');
    await c.exited;
    // B rejoins when C joins, and again when C's session has expired.
    await waitFor(() => joins() >= joined + 2, 30_000);
    expect(b.lines.filter((l) => l.includes('"phase":"rebuilding"'))).toHaveLength(1);

    await killMidReceipt(b, h, watch, feed);
    const d = await startChild(h, 'D', ENV);
    await caughtUp(d, h);
    await feed.stop();
    await watch.stop();
    await h.waitProcessed(60_000);
    await settledActive([d]);
    const end = await expectExactEnd(h);
    expect(end.input.requests.length).toBeGreaterThan(4);
  }, 240_000);
});
