// Property: any sequence of adds, removes, duplicates and forgets (with late events) leaves the model
// equal to a brute-force recomputation from the surviving events, and each change report equals the
// difference between the brute-force lists before and after the batch — for both similarity
// measures (Jaccard, cosine), whose values the oracle computes from the contract's formulas.

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model, type ChangeReport } from '../../src/model/index.js';
import { QUANTUM, setSliceQuantum } from '../../src/model/slice.js';
import { applyToModel, ITEM_IDS, itemId, opArb, timedOpArb } from '../helpers/model-ops.js';
import {
  expectedReport,
  Reference,
  refSimilarity,
  type RefList,
  type RefMeasure,
  type RefOp,
} from '../helpers/oracle.js';

const MEASURES: readonly RefMeasure[] = ['jaccard', 'cosine'];

const apply = applyToModel;

function asPlain(l: {
  itemId: string;
  interactions: number;
  neighbors: readonly { itemId: string; similarity: number; cooccurrences: number }[];
}): RefList {
  return { itemId: l.itemId, interactions: l.interactions, neighbors: l.neighbors.map((n) => ({ ...n })) };
}

function checkState(
  model: Model,
  ref: Reference,
  lists: Map<string, RefList>,
  allItems: string[],
  measure: RefMeasure,
): void {
  const n = ref.counts();
  const C = ref.cooccurrences();
  for (const item of allItems) {
    expect(model.interactions(item), `n of ${item}`).toBe(n.get(item) ?? 0);
    const expected = lists.get(item);
    const got = model.neighbors(item);
    expect(got === undefined ? undefined : asPlain(got), `list of ${item}`).toEqual(expected);
    for (const other of allItems) {
      if (other === item || !n.has(item) || !n.has(other)) continue;
      const c = C.get(item)?.get(other) ?? 0;
      const s = model.similarity(item, other);
      expect(s?.cooccurrences, `C ${item},${other}`).toBe(c);
      expect(s?.similarity).toBe(refSimilarity(measure, c, n.get(item) as number, n.get(other) as number));
    }
  }
  for (const [user, items] of ref.H) expect(model.items(user)).toEqual([...items].sort());
  let pairs = 0;
  for (const row of C.values()) for (const c of row.values()) if (c > 0) pairs++;
  expect(model.stats()).toMatchObject({ users: ref.H.size, items: n.size, pairs: pairs / 2 });
}

interface RunOptions {
  /** maxItemsPerUser of both the model and the oracle. */
  readonly cap?: number;
  /** Flush in the smallest slices (yield at every check), reading the lists between them. */
  readonly sliced?: boolean;
  /** How flushes keep the candidates: offer by offer, by one sweep of C, or chosen per batch. */
  readonly mode?: 'incremental' | 'bulk' | 'auto';
  /** The similarity of the model and the oracle (default jaccard). */
  readonly measure?: RefMeasure;
  /** INTERACTION_TTL_MS on in both (times kept, the TTL rules, expire operations). */
  readonly timed?: boolean;
  /** After each flush, also check every row's candidates and bound (checkBounds). */
  readonly bounds?: boolean;
}

/**
 * The top-K index's invariant (state.ts, TopKState) against the brute force: every eligible
 * neighbour of a row that is not among its candidates ranks after the row's bound, or at most
 * equals a value-only bound; with no bound (negative), every eligible neighbour is a candidate.
 */
function checkBounds(model: Model, ref: Reference, measure: RefMeasure, minC: number): void {
  const { itemNames, topk } = model.exportState();
  if (topk === undefined) throw new Error('no top-K state');
  const n = ref.counts();
  const C = ref.cooccurrences();
  itemNames.forEach((a, i) => {
    if (a === undefined || !n.has(a)) return;
    const from = topk.offsets[i] as number;
    const to = topk.offsets[i + 1] as number;
    const candidates = new Set(Array.from(topk.candidates.subarray(from, to), (j) => itemNames[j]));
    const bv = topk.boundValue[i] as number;
    const bItem = topk.boundItem[i] as number;
    const bn = bItem >= 0 ? itemNames[bItem] : undefined;
    for (const [b, c] of C.get(a) ?? []) {
      if (c < minC || candidates.has(b)) continue;
      const v = refSimilarity(measure, c, n.get(a) as number, n.get(b) as number);
      const after = bv >= 0 && (v < bv || (v === bv && (bn === undefined || b >= bn)));
      expect(after, `${b} outside ${a}'s candidates, ${v} against the bound ${bv} ${bn}`).toBe(true);
    }
  });
}

function flushed(model: Model, sliced: boolean, lastReported: [string, RefList | undefined][]): ChangeReport {
  if (!sliced) return model.flush();
  const job = model.beginFlush();
  let slices = 0;
  while (!job.step(() => true)) {
    slices++;
    // Between slices, queries see the lists of the last completed flush.
    for (const [item, list] of lastReported) {
      const got = model.neighbors(item);
      expect(got === undefined ? undefined : asPlain(got), `list of ${item} mid-flush`).toEqual(list);
    }
    expect(() => model.interaction({ userId: 'x', itemId: 'y', action: 'ADD', occurredAt: 0 })).toThrow(
      /flush is in progress/,
    );
  }
  const report = job.result();
  if (report.changed.length > 0) expect(slices, 'the flush ran in slices').toBeGreaterThan(0);
  return report;
}

function run(
  ops: RefOp[],
  topK: number,
  minC: number,
  repr: 'dense' | 'sparse',
  items: number,
  o: RunOptions = {},
): void {
  const measure = o.measure ?? 'jaccard';
  const model = new Model(
    {
      topK,
      minCooccurrences: minC,
      tombstoneRetentionMs: 1e12,
      maxItemsPerUser: o.cap ?? 10_000,
      similarity: measure,
      interactionTtlMs: o.timed === true ? 1 : 0,
    },
    { representation: repr, flushMode: o.mode ?? 'auto' },
  );
  const ref = new Reference(o.cap, o.timed);
  const allItems = Array.from({ length: items }, (_, i) => ITEM_IDS[i] ?? `item-${i}`);
  let before = new Map<string, RefList>();
  for (const op of [...ops, { kind: 'flush' as const }]) {
    const got = apply(model, op);
    const want = ref.apply(op);
    expect(got).toBe(want);
    if (op.kind === 'forget') {
      // Forgetting is immediate for readers of H, whatever C still holds until the flush.
      expect(model.hasUser(op.user)).toBe(false);
      expect(model.itemsOf(op.user)).toEqual([]);
      expect(model.userIds()).not.toContain(op.user);
    }
    if (op.kind !== 'flush') continue;
    const report = flushed(
      model,
      o.sliced === true,
      allItems.map((i): [string, RefList | undefined] => [i, before.get(i)]),
    );
    const after = ref.lists(topK, minC, measure);
    const exp = expectedReport(before, after);
    expect(new Map(report.changed.map((l) => [l.itemId, asPlain(l)]))).toEqual(exp.changed);
    expect(report.changed.length, 'one list per item').toBe(exp.changed.size);
    expect([...report.removed].sort()).toEqual(exp.removed);
    checkState(model, ref, after, allItems, measure);
    if (o.bounds === true) checkBounds(model, ref, measure, minC);
    before = after;
  }
  for (const user of ['user-0', 'user-1', 'user-2', 'user-3', 'user-4', 'user-5', 'user-6', 'user-7'])
    if (!ref.H.has(user)) expect(model.hasUser(user)).toBe(false);
}

describe('the model equals a brute-force recomputation from the surviving events', () => {
  for (const measure of MEASURES)
    for (const repr of ['dense', 'sparse'] as const) {
      for (const mode of ['incremental', 'bulk', 'auto'] as const) {
        it(`small catalogues, any K (${measure}, ${repr}, ${mode} flushes)`, () => {
          fc.assert(
            fc.property(
              fc.array(opArb(5, 8), { maxLength: 80 }),
              fc.integer({ min: 1, max: 4 }),
              fc.integer({ min: 1, max: 2 }),
              (ops, topK, minC) => run(ops, topK, minC, repr, 8, { mode, measure }),
            ),
            { numRuns: 100 },
          );
        });

        it(`rows longer than the candidate buffer (${measure}, ${repr}, ${mode} flushes)`, () => {
          // 40 items and K = 1..2 make rows far longer than the 2K..K+8 candidates kept per item, so
          // bounds, evictions and forced rescans are all exercised.
          fc.assert(
            fc.property(
              fc.array(opArb(8, 40), { minLength: 50, maxLength: 300 }),
              fc.integer({ min: 1, max: 2 }),
              (ops, topK) => run(ops, topK, 1, repr, 40, { mode, measure }),
            ),
            { numRuns: 25 },
          );
        }, 120_000);
      }
    }
});

describe('bounded work', () => {
  // Every resume point of a flush is exercised: ask whether to yield after every unit of work.
  beforeAll(() => setSliceQuantum(1));
  afterAll(() => setSliceQuantum(QUANTUM));

  for (const measure of MEASURES)
    for (const repr of ['dense', 'sparse'] as const) {
      it(`a user at maxItemsPerUser loses their oldest item first, as the oracle's rule says (${measure}, ${repr})`, () => {
        fc.assert(
          fc.property(
            fc.array(opArb(4, 12), { minLength: 20, maxLength: 200 }),
            fc.integer({ min: 1, max: 5 }),
            fc.integer({ min: 1, max: 3 }),
            (ops, cap, topK) => run(ops, topK, 1, repr, 12, { cap, measure }),
          ),
          { numRuns: 100 },
        );
      });

      it(`a flush in slices reports what a flush at once does, serving the last lists meanwhile (${measure}, ${repr})`, () => {
        fc.assert(
          fc.property(
            fc.array(opArb(6, 40), { minLength: 30, maxLength: 200 }),
            fc.integer({ min: 1, max: 3 }),
            (ops, topK) => run(ops, topK, 1, repr, 40, { sliced: true, cap: 8, measure }),
          ),
          { numRuns: 30 },
        );
      }, 120_000);
    }
});

describe('INTERACTION_TTL_MS: an expired interaction is as if never seen', () => {
  for (const measure of MEASURES)
    for (const repr of ['dense', 'sparse'] as const)
      it(`expiries among adds, re-adds, removes, forgets and the cap (${measure}, ${repr})`, () => {
        fc.assert(
          fc.property(
            timedOpArb(5, 10),
            fc.integer({ min: 1, max: 3 }),
            fc.constantFrom(2, 4, 10_000),
            fc.constantFrom<('incremental' | 'bulk' | 'auto')[]>('incremental', 'bulk', 'auto'),
            (ops, topK, cap, mode) => run(ops, topK, 1, repr, 10, { measure, cap, mode, timed: true }),
          ),
          { numRuns: 150 },
        );
      });
});

describe('ties at the bound', () => {
  for (const measure of MEASURES)
    it(`breaks equal similarities by neighbour id even when candidates come and go (${measure})`, () => {
      // Many users with two or three items make equal values (Jaccard 1/2, 1/3, …; cosine 1/√2,
      // 1/2, …) the rule, so the bound's name part decides which equal candidates are kept.
      fc.assert(
        fc.property(fc.array(opArb(30, 24), { minLength: 100, maxLength: 300 }), (ops) =>
          run(ops, 1, 1, 'dense', 24, { measure }),
        ),
        { numRuns: 15 },
      );
    }, 120_000);
});

describe('forgets in a populated catalogue', () => {
  // Ten users holding 10-30 of 40 items each make rows far longer than the L = K + 8 candidates
  // kept, so a forget's propagation rebuilds rows of many eligible entries (from a scan seeded by
  // the (L + 1)-th best candidate), and later forgets, removes and re-adds move entries across the
  // rebuilt bounds; ties are frequent (small counts).
  const user = fc.integer({ min: 0, max: 9 }).map((u) => `user-${u}`);
  const item = fc.integer({ min: 0, max: 39 }).map(itemId);
  const at = fc.integer({ min: 0, max: 60 });
  const tail = fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('forget' as const), user, at }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('remove' as const), user, item, at }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('add' as const), user, item, at }) },
    { weight: 2, arbitrary: fc.constant({ kind: 'flush' as const }) },
  );
  const ops = fc
    .tuple(
      fc.array(fc.uniqueArray(fc.nat(39), { minLength: 10, maxLength: 30 }), {
        minLength: 10,
        maxLength: 10,
      }),
      fc.array(tail, { minLength: 10, maxLength: 60 }),
    )
    .map(([held, rest]): RefOp[] => [
      ...held.flatMap((items, u) =>
        items.map((i) => ({ kind: 'add' as const, user: `user-${u}`, item: itemId(i), at: 0 })),
      ),
      { kind: 'flush' as const },
      ...rest,
    ]);
  for (const measure of MEASURES)
    for (const repr of ['dense', 'sparse'] as const)
      it(`every list and every row's bound hold against the brute force (${measure}, ${repr})`, () => {
        fc.assert(
          fc.property(ops, fc.integer({ min: 1, max: 2 }), (o, topK) =>
            run(o, topK, 1, repr, 40, { mode: 'incremental', measure, bounds: true }),
          ),
          { numRuns: 25 },
        );
      }, 120_000);
});

describe('forgetting then re-adding', () => {
  it('restores n, C, S and the lists exactly', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ user: fc.integer({ min: 0, max: 5 }), item: fc.integer({ min: 0, max: 14 }) }), {
          minLength: 1,
          maxLength: 60,
        }),
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 1, max: 3 }),
        (pairs, victim, topK) => {
          const model = new Model({ topK });
          for (const p of pairs)
            model.interaction({
              userId: `u${p.user}`,
              itemId: ITEM_IDS[p.item] as string,
              action: 'ADD',
              occurredAt: 1,
            });
          model.flush();
          const snapshot = () =>
            ITEM_IDS.slice(0, 15).map((i) => [
              i,
              model.interactions(i),
              model.neighbors(i) && asPlain(model.neighbors(i)!),
            ]);
          const before = snapshot();
          const victimItems = model.items(`u${victim}`);
          model.forget({ userId: `u${victim}`, requestedAt: 5 });
          model.flush();
          expect(model.items(`u${victim}`)).toEqual([]);
          for (const item of victimItems)
            expect(
              model.interaction({ userId: `u${victim}`, itemId: item, action: 'ADD', occurredAt: 6 }),
            ).toBe('applied');
          model.flush();
          expect(snapshot()).toEqual(before);
        },
      ),
      { numRuns: 100 },
    );
  });
});
