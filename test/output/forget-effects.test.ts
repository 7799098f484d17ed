// What a forget changed for the people who remain (issue 23), as the single engine records it
// over the fake Kafka: the items whose lists changed, each list before and after, and a remaining
// user's recommendations around the forget — all checked against the brute force of the surviving
// events before and after each deletion (test/helpers/oracle.ts), never against the code's output.
import { describe, expect, it } from 'vitest';
import { recommendationsAround } from '../../src/http/routes/forgets.js';
import {
  FORGET_EFFECTS_KEPT,
  ForgetEffects,
  listChange,
  type ForgetEffect,
} from '../../src/output/forget-effects.js';
import { Model } from '../../src/model/index.js';
import { FakeLog } from '../helpers/fake-kafka.js';
import { scenario } from '../helpers/generator.js';
import { bruteForceLists, survivingHistory, type RefDeletion, type RefList } from '../helpers/oracle.js';
import { engineOnFake, SINGLE_TOPICS, singleConfig } from '../helpers/runtimes.js';

const T = SINGLE_TOPICS;
const ORDER = [T.del, T.in, T.sim, T.rec];
const ASSIGNMENT = { [T.del]: [0, 1], [T.in]: [0, 1], [T.sim]: [0, 1], [T.rec]: [0, 1] };
const partitionOf = (userId: string) => [...userId].reduce((h, c) => h + c.charCodeAt(0), 0) % 2;
type Scored = { itemId: string; similarity: number }[];
const scored = (l: RefList | undefined): Scored =>
  (l?.neighbors ?? []).map(({ itemId, similarity }) => ({ itemId, similarity }));

/** By brute force: the items whose neighbours differ, with both sides (null: the item is gone). */
function expectedItems(before: Map<string, RefList>, after: Map<string, RefList>) {
  const ids = [...new Set([...before.keys(), ...after.keys()])].sort();
  return ids.flatMap((itemId) => {
    const b = scored(before.get(itemId));
    const a = after.has(itemId) ? scored(after.get(itemId)) : null;
    return a !== null && JSON.stringify(a) === JSON.stringify(b) ? [] : [{ itemId, before: b, after: a }];
  });
}

/** By brute force: items outside the history, by the summed similarity of its items' lists. */
function expectedRecs(history: ReadonlySet<string>, lists: Map<string, RefList>) {
  const score = new Map<string, number>();
  for (const i of history)
    for (const nb of lists.get(i)?.neighbors ?? [])
      if (!history.has(nb.itemId)) score.set(nb.itemId, (score.get(nb.itemId) ?? 0) + nb.similarity);
  return canonical([...score].map(([itemId, s]) => ({ itemId, score: s })));
}

/** Scores to 1e-9 and ties by id: the sum's order of float additions is not what is tested. */
function canonical(recs: readonly { itemId: string; score: number }[]) {
  return recs
    .map((r) => ({ itemId: r.itemId, score: Math.round(r.score * 1e9) / 1e9 }))
    .sort((x, y) => y.score - x.score || (x.itemId < y.itemId ? -1 : 1));
}

describe('what a forget changed (single engine, Kafka faked in memory)', () => {
  it.each([
    [7, 'jaccard'],
    [11, 'cosine'],
    [23, 'jaccard'],
  ] as const)(
    "seed %i, %s: each forget's record equals the brute force of the lists before and after it, and so do a remaining user's recommendations",
    async (seed, measure) => {
      const config = singleConfig({ BATCH_MAX_EVENTS: '40', SIMILARITY: measure });
      const { topK, minCooccurrences } = config.model;
      const lists = (h: Map<string, Set<string>>) => bruteForceLists(h, topK, minCooccurrences, measure);
      const s = scenario({ seed, users: 25, items: 30, events: 400, forget: 4 });
      const log = new FakeLog({ [T.in]: 2, [T.del]: 2, [T.sim]: 2, [T.rec]: 2 });
      const effects = new ForgetEffects(3_600_000);
      const { engine, consumer } = engineOnFake(log, config, { forgetEffects: effects });
      for (const e of s.before) log.appendJson(T.in, partitionOf(e.userId), e.userId, e, e.occurredAt);
      consumer.join(engine, ASSIGNMENT);
      await consumer.drain(engine, ORDER);
      await engine.flushNow();
      expect(engine.phase).toBe('live');

      const done: RefDeletion[] = [];
      let changedSomething = 0;
      for (const d of s.deletions) {
        const hBefore = survivingHistory(s.before, done);
        done.push(d);
        const hAfter = survivingHistory(s.before, done);
        log.appendJson(T.del, partitionOf(d.userId), d.userId, d, d.requestedAt);
        await consumer.poll(engine, ORDER);
        await engine.idle();
        const effect = effects.get(d.requestId);
        expect(effect, d.requestId).toBeDefined();
        const [before, after] = [lists(hBefore), lists(hAfter)];
        expect(effect!.items).toEqual(expectedItems(before, after));
        if (effect!.items.length > 0) changedSomething++;
        // Every remaining user, before and after, with every candidate (k large: no cut at a tie).
        for (const [userId, history] of hAfter) {
          const recs = recommendationsAround(engine.model, effect!, userId, 1000);
          expect(canonical(recs.before), userId).toEqual(expectedRecs(history, before));
          expect(canonical(recs.after), userId).toEqual(expectedRecs(history, after));
        }
        // The forgotten user has no recommendations on either side.
        expect(recommendationsAround(engine.model, effect!, d.userId, 1000)).toEqual({
          before: [],
          after: [],
        });
      }
      expect(changedSomething).toBeGreaterThan(0); // not vacuous: the forgets changed lists
      // The ghost user's request changed nothing, and says so.
      expect(effects.get(s.deletions.at(-1)!.requestId)!.items).toEqual([]);
    },
  );
});

describe('the forget effects kept', () => {
  const report = { changed: [], removed: [] };
  const effect = (e: ForgetEffects, id: string, at: number) => {
    e.record([id], report, at);
    return e.get(id);
  };

  it('are kept for the retention at most, the newest FORGET_EFFECTS_KEPT, and none with retention 0', () => {
    let now = 1_000_000;
    const e = new ForgetEffects(60_000, () => now);
    for (let k = 0; k < FORGET_EFFECTS_KEPT + 5; k++) effect(e, `r${k}`, now);
    expect(e.list().map((x) => x.requestIds[0])).toEqual(
      Array.from({ length: FORGET_EFFECTS_KEPT }, (_, k) => `r${FORGET_EFFECTS_KEPT + 4 - k}`),
    );
    expect(e.get('r0')).toBeUndefined();
    now += 60_000;
    expect(e.list()).toEqual([]);
    expect(effect(new ForgetEffects(0, () => now), 'r', now)).toBeUndefined();
  });

  it('a record holds item ids and similarities only: no n, no co-occurrence counts', () => {
    const m = new Model({ topK: 3 });
    const add = (userId: string, itemId: string) =>
      m.interaction({ userId, itemId, action: 'ADD', occurredAt: 1 });
    for (const [u, i] of [
      ['a', 'x'],
      ['a', 'y'],
      ['b', 'x'],
      ['b', 'y'],
      ['b', 'z'],
    ] as const)
      add(u, i);
    m.flush();
    m.forget({ userId: 'b', requestedAt: 2 });
    const e = new ForgetEffects(60_000);
    const job = m.beginFlush(0, { previous: true });
    while (!job.step(() => false));
    e.record(['dsr-1'], job.result(), Date.now());
    const kept = e.get('dsr-1') as ForgetEffect;
    expect(kept.items).toEqual([
      {
        itemId: 'x',
        before: [
          { itemId: 'y', similarity: 1 },
          { itemId: 'z', similarity: 0.5 },
        ],
        after: [{ itemId: 'y', similarity: 1 }],
      },
      {
        itemId: 'y',
        before: [
          { itemId: 'x', similarity: 1 },
          { itemId: 'z', similarity: 0.5 },
        ],
        after: [{ itemId: 'x', similarity: 1 }],
      },
      {
        itemId: 'z',
        before: [
          { itemId: 'x', similarity: 0.5 },
          { itemId: 'y', similarity: 0.5 },
        ],
        after: null,
      },
    ]);
  });

  it('a list change names the neighbours that dropped out, came in and moved', () => {
    const before = [
      { itemId: 'a', similarity: 0.9 },
      { itemId: 'b', similarity: 0.5 },
      { itemId: 'c', similarity: 0.4 },
      { itemId: 'd', similarity: 0.1 },
    ];
    const after = [
      { itemId: 'c', similarity: 0.6 },
      { itemId: 'a', similarity: 0.5 },
      { itemId: 'e', similarity: 0.3 },
      { itemId: 'd', similarity: 0.1 },
    ];
    expect(listChange(before, after)).toEqual({
      dropped: [{ itemId: 'b', rank: 2, similarity: 0.5 }],
      added: [{ itemId: 'e', rank: 3, similarity: 0.3 }],
      moved: [
        { itemId: 'a', rankBefore: 1, rankAfter: 2, similarityBefore: 0.9, similarityAfter: 0.5 },
        { itemId: 'c', rankBefore: 3, rankAfter: 1, similarityBefore: 0.4, similarityAfter: 0.6 },
      ],
    });
    expect(listChange(before, null).dropped).toHaveLength(4);
  });
});
