// The partitioned mode's tasks without a broker: user tasks read generated input records (JSON, some
// malformed), their transactions' deltas go to item tasks, the item tasks' acks come back; the
// lists the item tasks publish equal the brute-force lists, every request gets one FORGOTTEN and,
// once the purge bound has passed, one PURGED receipt; a task restored from its changelog goes on.
import { describe, expect, it } from 'vitest';
import { partitionOf, userToken } from '../../src/partitioned/ids.js';
import { homeOf } from '../../src/partitioned/route.js';
import { scenario } from '../helpers/generator.js';
import { crc32 } from '../helpers/partitioners.js';
import { bruteForceLists, survivingHistory } from '../helpers/oracle.js';
import { KEY, P, produce, publishedLists, pump, TOPICS, world } from '../helpers/partitioned-tasks.js';

describe('partitioned tasks (Kafka faked)', () => {
  const s = scenario({ seed: 5, users: 30, items: 25, events: 500, forget: 5 });

  it('publish exactly the brute-force lists and one FORGOTTEN, then one PURGED, per request', async () => {
    let now = 1_000_000;
    const w = world(() => now);
    produce(w, s, 'before');
    w.log.append(TOPICS.interactions, 0, 'bad', '{not json');
    for (const d of s.deletions)
      w.log.append(TOPICS.deletions, partitionOf(d.userId, P), d.userId, JSON.stringify(d));
    await pump(w);
    produce(w, s, 'after');
    await pump(w);
    expect(publishedLists(w)).toEqual(
      bruteForceLists(survivingHistory([...s.before, ...s.after], s.deletions), 4, 1),
    );
    const receipts = () =>
      w.log
        .records(TOPICS.receipts, 0)
        .map((m) => JSON.parse(m.value!.toString()) as { requestId: string; status: string });
    expect(
      receipts()
        .map((r) => `${r.requestId} ${r.status}`)
        .sort(),
    ).toEqual(s.deletions.map((d) => `${d.requestId} FORGOTTEN`).sort());
    now += 5_001;
    for (const t of w.users) await t.periodic(now);
    expect(
      receipts()
        .filter((r) => r.status === 'PURGED')
        .map((r) => r.requestId)
        .sort(),
    ).toEqual(s.deletions.map((d) => d.requestId).sort());
    expect(w.log.records('in.dlq', 0)).toHaveLength(1);
  });

  it("end exact whatever partitioner each producer used: a user's records meet at one home partition", async () => {
    // Interactions placed by librdkafka's CRC32 of the user id, deletions by another rule still
    // (murmur2 + 1): not where murmur2 of the user id — the user stage's rule — puts either.
    const now = 1_000_000;
    const w = world(() => now);
    const crcOf = (userId: string) => (crc32(Buffer.from(userId)) >>> 0) % P;
    const spread = (phase: 'before' | 'after') => {
      for (const e of s[phase])
        w.log.append(TOPICS.interactions, crcOf(e.userId), e.userId, JSON.stringify(e));
    };
    spread('before');
    for (const d of s.deletions)
      w.log.append(TOPICS.deletions, (partitionOf(d.userId, P) + 1) % P, d.userId, JSON.stringify(d));
    expect(s.deletions.filter((d) => crcOf(d.userId) !== partitionOf(d.userId, P)).length).toBeGreaterThan(1);
    await pump(w);
    spread('after');
    await pump(w);
    expect(publishedLists(w)).toEqual(
      bruteForceLists(survivingHistory([...s.before, ...s.after], s.deletions), 4, 1),
    );
    // Each user's surviving items are held once, at one partition.
    const surviving = survivingHistory([...s.before, ...s.after], s.deletions);
    for (const d of s.deletions) {
      const held = w.users.flatMap((t) => t.itemsOf(d.userId));
      expect(held.sort()).toEqual([...(surviving.get(d.userId) ?? [])].sort());
    }
  });

  it('PURGED waits until the routed records up to the request are unreadable', async () => {
    let now = 1_000_000;
    const w = world(() => now);
    produce(w, s, 'before');
    for (const d of s.deletions)
      w.log.append(TOPICS.deletions, partitionOf(d.userId, P), d.userId, JSON.stringify(d));
    await pump(w);
    const purged = () =>
      w.log.records(TOPICS.receipts, 0).filter((m) => m.value!.toString().includes('PURGED')).length;
    // The broker refuses DeleteRecords: the purge bound passes, no PURGED goes out.
    w.log.purgeFails = true;
    now += 5_001;
    for (const t of w.users) await t.periodic(now);
    expect(purged()).toBe(0);
    w.log.purgeFails = false;
    now += 5_000;
    for (const t of w.users) await t.periodic(now);
    expect(purged()).toBe(s.deletions.length);
    // Every routed record each home task committed past is deleted (low offset = its end).
    for (let p = 0; p < P; p++)
      expect(w.log.low.get(`${TOPICS.repartition}/${p}`) ?? 0).toBe(
        w.log.records(TOPICS.repartition, p).length,
      );
  });

  it('counts in the receipt what reached the home partition after the request, until its FORGOTTEN', async () => {
    // The request arrives on one partition, the user's interactions (recorded before it) on another,
    // routed home after the request: the tombstone drops them, the receipt still counts them.
    const T = 1_700_000_000_000;
    const w = world(() => T + 10_000);
    const user = Array.from({ length: 50 }, (_, k) => `user-${k}`).find(
      (u) => homeOf(userToken(KEY, u), P) === 1,
    )!;
    const [ins, dels, home] = [w.users[0]!, w.users[2]!, w.users[1]!];
    const event = (itemId: string, action: 'ADD' | 'REMOVE', at: number) =>
      w.log.append(
        TOPICS.interactions,
        0,
        user,
        JSON.stringify({ userId: user, itemId, action, occurredAt: at }),
        at,
      );
    event('i1', 'ADD', T + 1_000);
    event('i2', 'ADD', T + 1_001);
    event('i3', 'ADD', T + 1_002);
    event('i3', 'REMOVE', T + 1_003);
    event('i4', 'ADD', T + 3_000); // after the request: stays
    w.log.append(
      TOPICS.deletions,
      2,
      user,
      JSON.stringify({ requestId: 'late', userId: user, requestedAt: T + 2_000 }),
      T + 2_000,
    );
    const rep = () => w.log.records(TOPICS.repartition, 1).slice(home.positions.get(TOPICS.repartition));
    await dels.onRecords(TOPICS.deletions, w.log.records(TOPICS.deletions, 2));
    await home.onRecords(TOPICS.repartition, rep()); // the forget: nothing held yet
    await ins.onRecords(TOPICS.interactions, w.log.records(TOPICS.interactions, 0));
    await home.onRecords(TOPICS.repartition, rep()); // late: dropped by the tombstone
    await pump(w);
    const receipt = w.log
      .records(TOPICS.receipts, 0)
      .map(
        (m) =>
          JSON.parse(m.value!.toString()) as {
            requestId: string;
            status: string;
            interactionsRemoved: number;
          },
      )
      .find((r) => r.requestId === 'late');
    expect(receipt).toMatchObject({ status: 'FORGOTTEN', interactionsRemoved: 2 });
    expect(home.itemsOf(user)).toEqual(['i4']);
  });
});
