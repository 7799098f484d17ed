// Property: a model restored from its exported state is indistinguishable from the original — after
// any further sequence of adds, removes and forgets, both give the same change reports, lists,
// similarities, recommendations and histories.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Model } from '../../src/model/index.js';
import { applyToModel, ITEM_IDS, opArb as anyOps } from '../helpers/model-ops.js';
import type { RefOp } from '../helpers/oracle.js';

const USERS = 8;
const opArb = (items: number): fc.Arbitrary<RefOp> => anyOps(USERS, items);

function apply(model: Model, op: RefOp): string | undefined {
  if (op.kind === 'forget') return JSON.stringify(model.forget({ userId: op.user, requestedAt: op.at }));
  return applyToModel(model, op);
}

/**
 * The exported state as content: histories in arrival order by user (user slots are not part of the
 * state), item dictionary with its free slots, tombstones; not the candidates, which may differ once
 * rebuilt by scans.
 */
function exported(m: Model): unknown {
  const s = m.exportState();
  const users = s.userIds.map((id, k) => [id, Array.from(s.histories[k]!), s.lateBounds[k]] as const);
  return {
    users: users.sort((a, b) => (a[0] < b[0] ? -1 : 1)),
    items: s.itemNames,
    free: s.itemFree,
    lists: s.lists,
    tombstones: [...s.tombstones].sort(),
  };
}

function observe(m: Model, items: string[]): unknown {
  const users = Array.from({ length: USERS }, (_, u) => `user-${u}`);
  return {
    lists: items.map((i) => m.neighbors(i) ?? null),
    n: items.map((i) => m.interactions(i)),
    sims: items.flatMap((a) => items.map((b) => m.similarity(a, b) ?? null)),
    recs: users.map((u) => m.recommend(u, 5)),
    histories: users.map((u) => [m.hasUser(u), m.items(u)]),
    itemIds: m.itemIds(),
    userIds: m.userIds(),
    stats: { ...m.stats(), bytes: 0 },
    state: exported(m),
  };
}

function run(
  before: RefOp[],
  after: RefOp[],
  topK: number,
  minC: number,
  repr: 'dense' | 'sparse',
  items: number,
  withTopk: boolean,
  similarity: 'jaccard' | 'cosine',
): void {
  const opts = { topK, minCooccurrences: minC, tombstoneRetentionMs: 1e12, similarity };
  // The original keeps its candidates offer by offer, the restored one rebuilds them in sweeps: the
  // same reports either way.
  const original = new Model(opts, { representation: repr, flushMode: 'incremental' });
  let t = 0;
  for (const op of before) {
    apply(original, op);
    if (op.kind === 'flush') original.flush(++t);
  }
  original.flush(++t);
  const { topk, ...rest } = original.exportState();
  expect(topk).toBeDefined();
  const restored = Model.fromState(withTopk ? { ...rest, topk: topk! } : rest, opts, {
    representation: repr,
    flushMode: withTopk ? 'auto' : 'bulk',
  });
  const allItems = Array.from({ length: items }, (_, i) => ITEM_IDS[i] ?? `item-${i}`);
  expect(observe(restored, allItems)).toEqual(observe(original, allItems));
  for (const op of [...after, { kind: 'flush' as const }]) {
    expect(apply(restored, op)).toEqual(apply(original, op));
    if (op.kind !== 'flush') continue;
    t++;
    // The same reports, order included, whether the candidates were restored or rebuilt by scans
    // (offer counters and pending rescans are not part of the state: they start afresh).
    expect(restored.flush(t)).toEqual(original.flush(t));
    expect(observe(restored, allItems)).toEqual(observe(original, allItems));
  }
  // The tombstones (late-event bounds) travel too: a late event of a forgotten user stays dropped.
  expect([...restored.exportState().tombstones].sort()).toEqual(
    [...original.exportState().tombstones].sort(),
  );
}

describe('a restored model is indistinguishable from the original', () => {
  for (const [repr, withTopk, measure] of [
    ['dense', true, 'jaccard'],
    ['sparse', true, 'jaccard'],
    ['dense', false, 'jaccard'],
    ['sparse', false, 'jaccard'],
    // The restored bounds are values of the measure: the restored model must follow them by its rule.
    ['dense', true, 'cosine'],
    ['sparse', true, 'cosine'],
  ] as const) {
    const how = withTopk ? 'top-K buffers restored' : 'rows rescanned';
    it(`random ops → export → import → more random ops: same reports, lists and queries (${repr}, ${how}, ${measure})`, () => {
      fc.assert(
        fc.property(
          fc
            .integer({ min: 2, max: 12 })
            .chain((items) =>
              fc.tuple(
                fc.constant(items),
                fc.array(opArb(items), { maxLength: 60 }),
                fc.array(opArb(items), { maxLength: 60 }),
                fc.integer({ min: 1, max: 4 }),
                fc.integer({ min: 1, max: 2 }),
              ),
            ),
          ([items, before, after, topK, minC]) =>
            run(before, after, topK, minC, repr, items, withTopk, measure),
        ),
        { numRuns: 300 },
      );
    });
  }

  it('refuses a state built with other settings', () => {
    const m = new Model({ topK: 3 });
    m.interaction({ userId: 'u', itemId: 'a', action: 'ADD', occurredAt: 1 });
    m.flush();
    expect(() => Model.fromState(m.exportState(), { topK: 4 })).toThrow(/topK=3/);
    expect(() => Model.fromState(m.exportState(), { topK: 3, similarity: 'cosine' })).toThrow(
      /similarity=jaccard; .*similarity=cosine/,
    );
    const { similarity: _, ...older } = m.exportState().settings;
    const legacy = { ...m.exportState(), settings: older };
    expect(() => Model.fromState(legacy, { topK: 3 })).not.toThrow();
    expect(() => Model.fromState(legacy, { topK: 3, similarity: 'cosine' })).toThrow(/similarity=jaccard/);
  });

  it('exportState needs a flushed model', () => {
    const m = new Model();
    m.interaction({ userId: 'u', itemId: 'a', action: 'ADD', occurredAt: 1 });
    expect(() => m.exportState()).toThrow(/flush/);
  });
});
