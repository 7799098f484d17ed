// The deletion lane (src/single/deletion-lane.ts) with Kafka faked in memory: deletion requests read
// by a consumer of their own go ahead of the group consumer's queued chunks. Whatever the interleaving
// of the two consumers, the batch sizes and the chunk cuts, the lists end as the brute force of the
// surviving events, and every request is answered once.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Engine } from '../../src/single/engine.js';
import type { Outgoing, OutputSink } from '../../src/kafka/ports.js';
import { FakeConsumer, FakeLog } from '../helpers/fake-kafka.js';
import { engineOnFake, SINGLE_TOPICS, singleConfig } from '../helpers/runtimes.js';
import { bruteForceLists, survivingHistory, type RefDeletion, type RefEvent } from '../helpers/oracle.js';

const T = SINGLE_TOPICS;
const ORDER = [T.del, T.in, T.sim, T.rec];
const ASSIGNMENT = { [T.del]: [0, 1], [T.in]: [0, 1], [T.sim]: [0, 1], [T.rec]: [0, 1] };
const T0 = 1_700_000_000_000;
const partitionOf = (userId: string) => [...userId].reduce((h, c) => h + c.charCodeAt(0), 0) % 2;

type Request = RefDeletion & { readonly requestId: string };

interface Case {
  readonly events: RefEvent[];
  /** A forgotten user's events after the request, produced once its receipt is out. */
  readonly after: RefEvent[];
  readonly deletions: Request[];
}

/** Events over time; some users are forgotten at a time among their events (none of theirs after it until the receipt). */
function caseOf(seed: number, users: number, items: number, count: number, forget: number): Case {
  let x = seed >>> 0 || 1;
  const r = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const deletions: Request[] = [];
  const forgottenAt = new Map<string, number>();
  for (let k = 0; k < forget; k++) {
    const userId = `u${k}`;
    const requestedAt = T0 + Math.floor(r() * count);
    forgottenAt.set(userId, requestedAt);
    deletions.push({ requestId: `req-${k}`, userId, requestedAt });
  }
  const events: RefEvent[] = [];
  const after: RefEvent[] = [];
  for (let k = 0; k < count; k++) {
    const userId = `u${Math.floor(r() * users)}`;
    const itemId = `i${Math.floor(items * r() ** 2)}`;
    const e: RefEvent = { userId, itemId, action: r() < 0.15 ? 'REMOVE' : 'ADD', occurredAt: T0 + k };
    const t = forgottenAt.get(userId);
    (t !== undefined && e.occurredAt > t ? after : events).push(e);
  }
  // Late events of forgotten users, recorded before their request but written after its receipt.
  for (const d of deletions)
    after.push({ userId: d.userId, itemId: 'i0', action: 'ADD', occurredAt: d.requestedAt - 1 });
  return { events, after, deletions };
}

function produce(log: FakeLog, events: readonly RefEvent[], deletions: readonly Request[] = []): void {
  for (const e of events) log.appendJson(T.in, partitionOf(e.userId), e.userId, e, e.occurredAt);
  for (const d of deletions) log.appendJson(T.del, partitionOf(d.userId), d.userId, d, d.requestedAt);
}

const published = (log: FakeLog) => log.publishedLists(T.sim);

/**
 * The fake log's sink, except that the first delivery `hold` picks waits until `release()` (`held`
 * resolves when it starts waiting); `seen` notes every delivery as it goes out.
 */
function holdingSink(
  log: FakeLog,
  hold: (records: readonly Outgoing[]) => boolean,
  seen: (records: readonly Outgoing[]) => void,
) {
  const base = log.sink();
  let release = () => undefined as void;
  let holding!: () => void;
  const held = new Promise<void>((r) => (holding = r));
  let waited = false;
  const sink: OutputSink = {
    activate: () => base.activate(),
    deactivate: () => base.deactivate(),
    async deliver(records, offsets) {
      if (!waited && hold(records)) {
        waited = true;
        await new Promise<void>((r) => {
          release = r;
          holding();
        });
      }
      seen(records);
      return base.deliver(records, offsets);
    },
  };
  return { sink, held, release: () => release() };
}

/** Polls the group consumer and the lane at once, in rounds, until neither hands anything over. */
async function interleave(
  engine: Engine,
  group: FakeConsumer,
  lane: FakeConsumer,
  sizes: () => [number, number],
): Promise<void> {
  for (let round = 0; round < 10_000; round++) {
    const [g, l] = sizes();
    const handed = await Promise.all([group.poll(engine, ORDER, g), lane.poll(engine, [T.del], l)]);
    await engine.idle();
    if (handed[0] + handed[1] === 0) return;
  }
  throw new Error('did not come to rest');
}

async function run(c: Case, o: { maxEvents: number; cut: boolean; sizes: () => [number, number] }) {
  const log = new FakeLog({ [T.in]: 2, [T.del]: 2, [T.sim]: 2, [T.rec]: 2 });
  const config = singleConfig({
    BATCH_MAX_EVENTS: String(o.maxEvents),
    BATCH_MAX_MS: '60000',
    DELETION_FLUSH_MS: o.cut ? '1' : '0',
  });
  const { engine, consumer: group } = engineOnFake(log, config);
  const lane = new FakeConsumer(log, 'lane');
  group.join(engine, ASSIGNMENT);
  await group.drain(engine, ORDER);
  expect(engine.phase).toBe('live');
  lane.joinLane(engine, T.del);
  produce(log, c.events, c.deletions);
  await interleave(engine, group, lane, o.sizes);
  await engine.flushNow();
  const receipts = [...log.compacted(T.rec).values()].map(
    (v) => JSON.parse(v.toString()) as { requestId: string; status: string },
  );
  produce(log, c.after);
  await interleave(engine, group, lane, o.sizes);
  await engine.flushNow();
  return { log, config, receipts };
}

describe('the deletion lane (Kafka faked in memory)', () => {
  it('any interleaving of the lane and the group consumer ends in the brute force of the surviving events', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.integer({ min: 1, max: 60 }),
        fc.boolean(),
        fc.array(fc.tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 5 })), {
          minLength: 1,
          maxLength: 8,
        }),
        async (seed, maxEvents, cut, sizeList) => {
          const c = caseOf(seed, 12, 15, 300, 4);
          let k = 0;
          const sizes = () => sizeList[k++ % sizeList.length]!;
          const { log, config, receipts } = await run(c, { maxEvents, cut, sizes });
          const all = [...c.events, ...c.after];
          expect(published(log)).toEqual(
            bruteForceLists(
              survivingHistory(all, c.deletions),
              config.model.topK,
              config.model.minCooccurrences,
            ),
          );
          expect(receipts.map((r) => r.requestId).sort()).toEqual(c.deletions.map((d) => d.requestId).sort());
          for (const r of receipts) expect(r.status).toBe('FORGOTTEN');
        },
      ),
      { numRuns: 40 },
    );
  });

  it('a request the lane reads while a chunk is delivered goes out before the rest of the backlog', async () => {
    const c = caseOf(11, 10, 12, 400, 1);
    const log = new FakeLog({ [T.in]: 2, [T.del]: 2, [T.sim]: 2, [T.rec]: 2 });
    // Deletions seen: chunks cut to the fewest events (256) however fast the model is.
    const config = singleConfig({
      BATCH_MAX_EVENTS: '1000000',
      BATCH_MAX_MS: '60000',
      DELETION_FLUSH_MS: '1',
    });
    // The first chunk's delivery is held until the lane has read a request.
    const deliveries: string[] = [];
    let armed = false;
    const kindOf = (records: readonly Outgoing[]) =>
      records.some((r) => r.topic === T.rec) ? 'receipts' : records.length > 0 ? 'lists' : 'offsets';
    const { sink, held, release } = holdingSink(
      log,
      (records) => armed && kindOf(records) === 'lists',
      (records) => deliveries.push(kindOf(records)),
    );
    const { engine, consumer: group } = engineOnFake(log, config, { sink });
    const lane = new FakeConsumer(log, 'lane');
    group.join(engine, ASSIGNMENT);
    await group.drain(engine, ORDER);
    lane.joinLane(engine, T.del);
    // A first request opens the window in which chunks are cut.
    produce(log, [], [{ requestId: 'first', userId: 'nobody', requestedAt: T0 }]);
    await lane.poll(engine, [T.del]);
    await engine.idle();
    deliveries.length = 0;
    armed = true;
    produce(log, c.events);
    const backlog = group.poll(engine, [T.in], 1000);
    await Promise.race([held, backlog]);
    armed = false;
    produce(log, [], c.deletions);
    const request = lane.poll(engine, [T.del]);
    release();
    await Promise.all([backlog, request]);
    await engine.flushNow();
    // Today's code flushed the whole backlog in one chunk, the request after it.
    expect(deliveries.filter((d) => d !== 'offsets')).toEqual(['lists', 'receipts', 'lists']);
    expect(published(log)).toEqual(
      bruteForceLists(
        survivingHistory(c.events, c.deletions),
        config.model.topK,
        config.model.minCooccurrences,
      ),
    );
  });

  it('reads the next requests while the one before them is delivered, and answers them together', async () => {
    const c = caseOf(5, 12, 10, 300, 3);
    const [first, second, third] = c.deletions as [Request, Request, Request];
    const log = new FakeLog({ [T.in]: 2, [T.del]: 2, [T.sim]: 2, [T.rec]: 2 });
    const config = singleConfig({ BATCH_MAX_EVENTS: '1000000', BATCH_MAX_MS: '60000' });
    // The first receipt's delivery is held until released.
    const answered: string[][] = [];
    const receiptsOf = (records: readonly Outgoing[]) => records.filter((r) => r.topic === T.rec);
    const { sink, held, release } = holdingSink(
      log,
      (records) => receiptsOf(records).length > 0,
      (records) => {
        if (receiptsOf(records).length > 0)
          answered.push(receiptsOf(records).map((r) => String(r.message.key)));
      },
    );
    const { engine, consumer: group } = engineOnFake(log, config, { sink });
    const lane = new FakeConsumer(log, 'lane');
    group.join(engine, ASSIGNMENT);
    produce(log, c.events);
    await group.drain(engine, ORDER);
    lane.joinLane(engine, T.del);
    produce(log, [], [first]);
    await lane.poll(engine, [T.del]);
    await held;
    // While the first is delivered, two more are written: the lane reads them (it does not wait for
    // the first's turn to end; the old code's poll returned only after the release).
    let read = 0;
    for (const d of [second, third]) {
      produce(log, [], [d]);
      const polled = lane.poll(engine, [T.del]).then((n) => (read += n));
      for (let turn = 0; turn < 20 && read === 0; turn++) await new Promise((r) => setImmediate(r));
      await Promise.race([polled, new Promise((r) => setImmediate(r))]);
    }
    expect(read).toBe(2);
    release();
    await engine.idle();
    await engine.flushNow();
    const receipts = [...log.compacted(T.rec).values()].map(
      (v) => JSON.parse(v.toString()) as { requestId: string; status: string },
    );
    expect(receipts.map((r) => [r.requestId, r.status]).sort()).toEqual([
      [first.requestId, 'FORGOTTEN'],
      [second.requestId, 'FORGOTTEN'],
      [third.requestId, 'FORGOTTEN'],
    ]);
    // The two that queued up behind the first went out in one delivery (one flush, one transaction).
    expect(answered.map((keys) => keys.length)).toEqual([1, 2]);
    expect(published(log)).toEqual(
      bruteForceLists(
        survivingHistory(c.events, c.deletions),
        config.model.topK,
        config.model.minCooccurrences,
      ),
    );
  });
});
