// Nothing of a forgotten user is noted after the forget (issue 21, item 3), in both modes: a late
// event of the user (occurredAt before the request) carrying an eventId is dropped, and it leaves
// nothing behind — not the raw id, not the user's token — in what each mode keeps: the single mode's
// snapshot (every byte of the file, the eventId window's section included), the partitioned mode's
// user changelog (every record still live after compaction, but the user's tombstone). The eventId
// window still works for everyone else: a retried event of another user is dropped in both modes.
// The expectation is written out by hand, not taken from either mode. The single mode's record of
// what the forget changed (issue 23) is searched too.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ForgetEffects } from '../../src/output/forget-effects.js';
import { encodeSnapshotToBuffer } from '../../src/state/format.js';
import { FakeLog } from '../helpers/fake-kafka.js';
import { engineOnFake, SINGLE_TOPICS, singleConfig } from '../helpers/runtimes.js';
import { KEY, P, TOPICS, pump, world } from '../helpers/partitioned-tasks.js';
import { partitionOf } from '../../src/partitioned/ids.js';

const GONE = 'forgotten-user-4711@example.org';
const KEEPER = 'keeper-0815';
const now = Date.now();

interface Input {
  readonly topic: 'interactions' | 'deletions';
  readonly value: Record<string, unknown>;
}

const add = (userId: string, itemId: string, eventId: string, occurredAt: number, action = 'ADD'): Input => ({
  topic: 'interactions',
  value: { userId, itemId, action, occurredAt, eventId },
});

/** Before the forget: both users' events; then the deletion request. */
const BEFORE: readonly Input[] = [
  add(GONE, 'd', 'g0', now - 9_500), // d is the user's alone: its list goes with the forget
  add(KEEPER, 'a', 'k1', now - 9_000),
  add(GONE, 'a', 'g1', now - 9_000),
  add(KEEPER, 'b', 'k2', now - 8_000),
  add(GONE, 'b', 'g2', now - 8_000),
  { topic: 'deletions', value: { requestId: 'dsr-1', userId: GONE, requestedAt: now - 5_000 } },
];
/** After the forget: a late event of the forgotten user, and a retried event of the keeper. */
const AFTER: readonly Input[] = [
  add(GONE, 'c', 'g3', now - 6_000), // late: occurredAt ≤ requestedAt, dropped
  add(KEEPER, 'b', 'k3', now - 4_000, 'REMOVE'),
  add(KEEPER, 'b', 'k2', now - 8_000), // a producer's retry of k2: dropped, b stays removed
];
/** By hand: what each user holds at the end. */
const HOLDS = { [KEEPER]: ['a'], [GONE]: [] as string[] };

/** The token the service keys a user by (HMAC-SHA-256 of "amnesia-user\0" + id, 128 bits, base64url). */
const token = (userId: string) =>
  createHmac('sha256', KEY).update('amnesia-user\0').update(userId).digest('base64url').slice(0, 22);

interface Kept {
  /** Every byte the mode keeps of its state (one blob per record or file). */
  readonly blobs: readonly Buffer[];
  readonly itemsOf: (userId: string) => string[];
}

async function viaSingleMode(): Promise<Kept> {
  const T = SINGLE_TOPICS;
  const log = new FakeLog({ [T.in]: 1, [T.del]: 1, [T.sim]: 1, [T.rec]: 1 });
  // What the forget changed is kept too (the query API's /forgets): it must hold nothing of the user.
  const effects = new ForgetEffects(3_600_000);
  const { engine, consumer } = engineOnFake(log, singleConfig(), {
    tombstoneKey: KEY,
    forgetEffects: effects,
  });
  const order = [T.del, T.in, T.sim, T.rec];
  const produce = (inputs: readonly Input[]) => {
    for (const i of inputs)
      log.appendJson(i.topic === 'interactions' ? T.in : T.del, 0, String(i.value.userId), i.value, now);
  };
  consumer.join(engine, { [T.del]: [0], [T.in]: [0], [T.sim]: [0], [T.rec]: [0] });
  produce(BEFORE.slice(0, -1));
  await consumer.drain(engine, order);
  await engine.flushNow();
  produce(BEFORE.slice(-1)); // the deletion, carried out live
  await consumer.drain(engine, order);
  produce(AFTER);
  await consumer.drain(engine, order);
  await engine.flushNow();
  const file = await engine.atBoundary((state, offsets, sections) =>
    encodeSnapshotToBuffer({
      createdAt: now,
      offsets,
      purges: [],
      state: state(),
      ...(sections ? { sections: sections() } : {}),
    }),
  );
  expect(file).toBeDefined();
  expect(effects.get('dsr-1')?.items.length).toBeGreaterThan(0);
  const record = Buffer.from(JSON.stringify(effects.list()));
  return { blobs: [file!, record], itemsOf: (u) => engine.model.items(u) };
}

async function viaPartitionedMode(): Promise<Kept> {
  const w = world(() => now);
  const produce = (inputs: readonly Input[]) => {
    for (const i of inputs) {
      const userId = String(i.value.userId);
      const topic = i.topic === 'interactions' ? TOPICS.interactions : TOPICS.deletions;
      w.log.append(topic, partitionOf(userId, P), userId, JSON.stringify(i.value), now);
    }
  };
  produce(BEFORE);
  await pump(w);
  produce(AFTER);
  await pump(w);
  // The changelog after compaction: the last record per key, unless a tombstone (null).
  const live = new Map<string, Buffer>();
  for (let p = 0; p < P; p++)
    for (const m of w.log.records(TOPICS.usersChangelog, p)) {
      const k = `${p}/${m.key!.toString()}`;
      if (m.value === null) live.delete(k);
      else live.set(k, m.value);
    }
  // The user's tombstone (key t<token>) is meant to stay, for TOMBSTONE_RETENTION_MS.
  const blobs = [...live]
    .filter(([k]) => !k.endsWith(`/t${token(GONE)}`))
    .map(([k, v]) => Buffer.concat([Buffer.from(k), v]));
  // Wherever the user stage keeps the user (its home partition), whichever partition the input used.
  return { blobs, itemsOf: (u) => w.users.flatMap((t) => t.itemsOf(u)) };
}

describe.each([
  ['single', viaSingleMode],
  ['partitioned', viaPartitionedMode],
])('nothing of a forgotten user is noted after the forget (%s mode)', (_mode, run) => {
  it("a late event with an eventId leaves neither the user's id nor token in the kept state; others' retries are still dropped", async () => {
    const kept = await run();
    for (const [user, items] of Object.entries(HOLDS)) expect(kept.itemsOf(user).sort()).toEqual(items);
    const traces = (needle: string) => kept.blobs.filter((b) => b.includes(Buffer.from(needle))).length;
    expect(traces(GONE)).toBe(0);
    expect(traces(token(GONE))).toBe(0);
    // The keeper is still there (the search would find them): the check is not vacuous.
    expect(
      kept.blobs.some((b) => b.includes(Buffer.from(KEEPER)) || b.includes(Buffer.from(token(KEEPER)))),
    ).toBe(true);
  });
});
