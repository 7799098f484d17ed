// A paused active instance (SIGSTOP: a long GC pause, a frozen VM, a stalled disk) must never
// publish again once the standby has taken over. Two service processes in one group; the active one
// is stopped at a chosen moment — with a transaction open on the outputs, right after a deletion's
// receipt was written but before its commit, in the middle of working off a backlog — until the
// standby is ready and has caught up, then continued. The continued instance finds itself fenced;
// whichever instance ends up active catches up, and the outputs are those of one writer in order:
// exact lists, each receipt once, and (adds only) no item's count ever going backwards on the topic.
import { afterAll, describe, expect, it } from 'vitest';
import { expectExactEnd, inputProgress, stopInTransaction, UncommittedWatch } from '../helpers/chaos.js';
import { Feeder } from '../helpers/feed.js';
import { waitFor } from '../helpers/kafka.js';
import { listsGoingBack } from '../helpers/output-history.js';
import { killChildren } from '../helpers/process.js';
import {
  logged,
  metric,
  settledActive,
  startChild,
  tail,
  waitReady,
  waitStandby,
  type ServiceChild,
} from '../helpers/service-child.js';
import { harness, type Harness } from '../helpers/service.js';

afterAll(killChildren);

const TOP_K = 10;
const ENV = { OUTPUT_FORMAT: 'json', TOP_K: String(TOP_K), KAFKA_TRANSACTION_TIMEOUT_MS: '20000' };

const progress = inputProgress;

interface Setup {
  readonly h: Harness;
  readonly a: ServiceChild;
  readonly b: ServiceChild;
  readonly feed: Feeder;
  readonly watch: UncommittedWatch;
}

async function twoInstances(feed: (h: Harness) => Feeder): Promise<Setup> {
  const h = await harness(3);
  const a = await startChild(h, 'A', ENV);
  await waitReady(a);
  const b = await startChild(h, 'B', ENV);
  await waitStandby(b);
  const f = feed(h);
  f.start();
  await waitFor(async () => (await progress(h)).committed > 200, 30_000);
  return { h, a, b, feed: f, watch: await UncommittedWatch.start(h) };
}

/**
 * A is stopped; B must take over (ready) and catch up with the input written until then; then A
 * continues and must find itself fenced.
 */
async function takeOverAndContinue({ h, a, b }: Setup, aHadOpenTransaction: boolean): Promise<void> {
  const t0 = Date.now();
  await waitReady(b, 60_000);
  const { end } = await progress(h);
  await waitFor(async () => (await progress(h)).committed >= end, 60_000).catch((e: Error) => {
    throw new Error(`${e.message}: B did not catch up\n${tail(b)}`);
  });
  const takeoverMs = Date.now() - t0;
  a.child.kill('SIGCONT');
  if (aHadOpenTransaction) {
    // Its open transaction was aborted by B's activation: the next thing it tries is refused.
    await waitFor(
      () => logged(a, 'outputs fenced: another instance took over, or our transaction timed out'),
      30_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}: A never found itself fenced\n${tail(a)}`);
    });
    expect(await metric(a, 'amnesia_producer_fenced_total')).toBeGreaterThanOrEqual(1);
  }
  console.info(`[chaos] ${a.name} stopped → ${b.name} ready and caught up in ${takeoverMs} ms`);
}

async function settle(s: Setup): Promise<ServiceChild> {
  await s.feed.stop();
  await s.watch.stop();
  await s.h.waitProcessed(90_000);
  const active = await settledActive([s.a, s.b]);
  expect(s.a.child.exitCode).toBeNull();
  expect(s.b.child.exitCode).toBeNull();
  return active;
}

describe('a paused active instance', () => {
  it('stopped with a transaction open: the standby takes over, the continued one is fenced, lists never go backwards', async () => {
    const s = await twoInstances((h) => new Feeder(h, { seed: 1, users: 400, items: 120, rate: 400 }));
    const attempts = await stopInTransaction(s.a, s.watch);
    await takeOverAndContinue(s, true);
    await settle(s);
    const end = await expectExactEnd(s.h, { topK: TOP_K });
    expect(listsGoingBack(end.lists)).toEqual([]);
    console.info(`[chaos] caught a transaction open at attempt ${attempts}`);
  }, 180_000);

  it('stopped during a catch-up flush: the same, from the middle of a backlog', async () => {
    const s = await twoInstances((h) => new Feeder(h, { seed: 2, users: 400, items: 120, rate: 200 }));
    // A backlog: the input grows while A is stopped for less than a session. Each attempt makes its
    // own: an attempt that misses the open transaction may let A drain the backlog, and nothing
    // would be written for the next one to catch.
    await s.feed.stop();
    let backlogEnd = 0;
    let bursting = false;
    await stopInTransaction(s.a, s.watch, {
      // Outputs of the previous attempt still arriving while the backlog is written are not the moment.
      when: () => !bursting,
      before: async () => {
        bursting = true;
        s.a.child.kill('SIGSTOP');
        await s.feed.burst(30_000);
        backlogEnd = (await progress(s.h)).end;
        bursting = false;
        s.a.child.kill('SIGCONT');
      },
    });
    const at = await progress(s.h);
    // Stopped in the middle of the backlog, not after it.
    expect(at.committed).toBeLessThan(backlogEnd);
    s.feed.start();
    await takeOverAndContinue(s, true);
    await settle(s);
    const end = await expectExactEnd(s.h, { topK: TOP_K });
    expect(listsGoingBack(end.lists)).toEqual([]);
  }, 180_000);

  it("stopped right after a deletion's receipt was written, before its commit: every receipt exactly once, lists exact", async () => {
    const s = await twoInstances(
      (h) =>
        new Feeder(h, { seed: 3, users: 300, items: 100, rate: 300, removeShare: 0.15, deletionEvery: 150 }),
    );
    await stopInTransaction(s.a, s.watch, {
      when: (topic) => topic === s.h.topics.receipts,
      before: async () => {
        await s.feed.forgetOne();
      },
    });
    await takeOverAndContinue(s, true);
    await settle(s);
    const end = await expectExactEnd(s.h, { topK: TOP_K });
    expect(end.input.requests.length).toBeGreaterThan(5);
  }, 180_000);
});
