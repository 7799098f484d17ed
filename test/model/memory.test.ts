// The memory budget: C is a dense square while it fits, sparse rows when it no longer does, and an
// interaction that would take the model past the budget is refused before it changes anything — the
// lists of what was applied stay exactly the brute-force ones.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Model, ModelCapacityError } from '../../src/model/index.js';
import { bruteForceLists, Reference, type RefOp } from '../helpers/oracle.js';

const plain = (m: Model, item: string) => {
  const l = m.neighbors(item);
  return (
    l && { itemId: l.itemId, interactions: l.interactions, neighbors: l.neighbors.map((n) => ({ ...n })) }
  );
};

// A sparse catalogue (500 items, users of a few items each), where sparse rows beat the square.
interface Op {
  readonly user: number;
  readonly item: number;
  readonly remove: number;
  readonly flush: number;
}
const op: fc.Arbitrary<Op> = fc.record({
  user: fc.nat(199),
  item: fc.nat(499),
  remove: fc.nat(4),
  flush: fc.nat(9),
});
const opsArb = fc.array(fc.noBias(op), { minLength: 100, maxLength: 600, size: 'max' });
const ITEMS = 500;

type PairOp = Extract<RefOp, { item: string }>;

const refOp = (o: Op): PairOp => ({
  kind: o.remove === 0 ? 'remove' : 'add',
  user: `u${o.user}`,
  item: `i${o.item}`,
  at: 1,
});
const event = (r: PairOp) =>
  ({ userId: r.user, itemId: r.item, action: r.kind === 'add' ? 'ADD' : 'REMOVE', occurredAt: 1 }) as const;

/** Bytes a model without a budget holds after the whole stream, C kept in `representation`. */
function bytesHolding(ops: readonly Op[], representation: 'dense' | 'sparse'): number {
  const m = new Model({ topK: 2, tombstoneRetentionMs: 1e12 }, { representation });
  for (const o of ops) {
    m.interaction(event(refOp(o)));
    if (o.flush === 0) m.flush();
  }
  m.flush();
  return m.stats().bytes;
}

/**
 * Replays the stream into a model with `budget`: it never holds more than the budget after a flush,
 * refuses only with ModelCapacityError, and its lists are exactly the brute-force lists of what it
 * applied. Returns the model and how many ADDs it applied and refused.
 */
function replayExactly(ops: readonly Op[], budget: number): { model: Model; added: number; refused: number } {
  const m = new Model({ topK: 2, memoryBudgetBytes: budget, tombstoneRetentionMs: 1e12 });
  const ref = new Reference();
  let added = 0;
  let refused = 0;
  for (const o of ops) {
    const r = refOp(o);
    try {
      m.interaction(event(r));
      ref.apply(r);
      if (r.kind === 'add') added++;
    } catch (e) {
      expect(e).toBeInstanceOf(ModelCapacityError);
      refused++;
    }
    if (o.flush === 0) {
      m.flush();
      expect(m.stats().bytes).toBeLessThanOrEqual(budget);
    }
  }
  m.flush();
  expect(m.stats().bytes).toBeLessThanOrEqual(budget);
  const lists = bruteForceLists(ref.H, 2, 1);
  for (let i = 0; i < ITEMS; i++) expect(plain(m, `i${i}`)).toEqual(lists.get(`i${i}`));
  return { model: m, added, refused };
}

describe('the memory budget', () => {
  it('refuses an interaction that would exceed it before changing anything', () => {
    const budget = 400_000;
    const m = new Model({ topK: 2, memoryBudgetBytes: budget });
    let refused: unknown;
    for (let k = 0; k < 5000 && refused === undefined; k++) {
      const e = { userId: `u${k % 30}`, itemId: `i${k}`, action: 'ADD' as const, occurredAt: 1 };
      const before = { version: m.version, stats: m.stats(), items: m.itemIds(), users: m.userIds() };
      try {
        m.interaction(e);
      } catch (error) {
        refused = error;
        expect({ version: m.version, stats: m.stats(), items: m.itemIds(), users: m.userIds() }).toEqual(
          before,
        );
      }
      if (k % 25 === 24) m.flush();
    }
    expect(refused).toBeInstanceOf(ModelCapacityError);
    expect(refused).toMatchObject({ code: 'MODEL_MEMORY_EXCEEDED', budgetBytes: budget });
    expect((refused as ModelCapacityError).neededBytes).toBeGreaterThan(budget);
    // What shrinks the model still works; the state is the one of the applied events.
    expect(m.forget({ userId: 'u0', requestedAt: 2 }).interactionsRemoved).toBeGreaterThan(0);
    m.flush();
    expect(m.stats().bytes).toBeLessThanOrEqual(budget);
  });

  it('keeps the lists exact across the switch to sparse rows and any refusals (any budget)', () => {
    // Budgets from far too small to one where the square holds everything: refusals, sparse rows from
    // the start, a square switching to sparse rows mid-stream, and a square throughout.
    fc.assert(
      fc.property(fc.noBias(fc.integer({ min: 80_000, max: 2_500_000 })), opsArb, (budget, ops) => {
        replayExactly(ops, budget);
      }),
      // Shrinking 600-operation runs over 500 items takes minutes: report the first failure as is.
      { numRuns: 40, endOnFailure: true },
    );
  });

  // The property holds whichever path a run takes; these take each path by construction, with
  // budgets computed from what the stream needs in each representation when nothing is refused.
  const streams = fc.sample(opsArb, { seed: 20_251_202, numRuns: 3 });

  it('switches C to sparse rows when the square would not fit but the rows do', () => {
    for (const ops of streams) {
      const dense = bytesHolding(ops, 'dense');
      const sparse = bytesHolding(ops, 'sparse');
      // The catalogue is sparse: the rows need far less than the square.
      expect(2 * sparse).toBeLessThan(dense);
      const m = replayExactly(ops, (sparse + dense) / 2).model;
      expect(m.representation).toBe('sparse');
    }
  });

  it('refuses interactions when even sparse rows would not fit, and keeps the rest exact', () => {
    for (const ops of streams) {
      // Half of what the whole stream needs in the smaller representation: it cannot all be applied.
      const need = Math.min(bytesHolding(ops, 'dense'), bytesHolding(ops, 'sparse'));
      const { refused, added } = replayExactly(ops, need / 2);
      expect(refused).toBeGreaterThan(0);
      expect(added).toBeGreaterThan(0);
    }
  });

  it('keeps C a dense square while it takes at most half the budget', () => {
    // Few pairs yet: sparse rows would be smaller than the first tiles, but the square is cheap.
    const m = new Model({ topK: 2, memoryBudgetBytes: 64 * 2 ** 20 });
    for (let k = 0; k < 3000; k++)
      m.interaction({ userId: `u${k % 300}`, itemId: `i${(k * 7) % 200}`, action: 'ADD', occurredAt: 1 });
    m.flush();
    expect(m.representation).toBe('dense');
    const restored = Model.fromState(m.exportState(), { topK: 2, memoryBudgetBytes: 64 * 2 ** 20 });
    expect(restored.representation).toBe('dense');
  });

  it('restores a state whose dense square would not fit its budget as sparse rows', () => {
    // 600 items held in pairs: a 768² square (1.1 MB) or a few hundred sparse cells.
    const big = new Model({ topK: 2 });
    for (let u = 0; u < 300; u++)
      for (const i of [2 * u, 2 * u + 1])
        big.interaction({ userId: `u${u}`, itemId: `i${i}`, action: 'ADD', occurredAt: 1 });
    big.flush();
    expect(big.representation).toBe('dense');
    const budget = big.stats().bytes / 2;
    const restored = Model.fromState(big.exportState(), { topK: 2, memoryBudgetBytes: budget });
    expect(restored.representation).toBe('sparse');
    expect(restored.stats().bytes).toBeLessThanOrEqual(budget);
    for (const id of big.itemIds()) expect(restored.neighbors(id)).toEqual(big.neighbors(id));
    expect(() => Model.fromState(big.exportState(), { topK: 2, memoryBudgetBytes: 10_000 })).toThrow(
      ModelCapacityError,
    );
  });
});
