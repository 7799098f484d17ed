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
    const outcomes = { sparse: 0, refused: 0 };
    // A sparse catalogue (500 items, users of a few items each), where sparse rows beat the square.
    const op = fc.record({ user: fc.nat(199), item: fc.nat(499), remove: fc.nat(4), flush: fc.nat(9) });
    fc.assert(
      fc.property(
        fc.noBias(fc.integer({ min: 80_000, max: 900_000 })),
        fc.array(fc.noBias(op), { minLength: 100, maxLength: 600, size: 'max' }),
        (budget, ops) => {
          const m = new Model({ topK: 2, memoryBudgetBytes: budget, tombstoneRetentionMs: 1e12 });
          const ref = new Reference();
          let refused = false;
          for (const o of ops) {
            const kind = o.remove === 0 ? 'remove' : 'add';
            const r: RefOp = { kind, user: `u${o.user}`, item: `i${o.item}`, at: 1 };
            const action = kind === 'add' ? 'ADD' : 'REMOVE';
            try {
              m.interaction({ userId: r.user, itemId: r.item, action, occurredAt: 1 });
              ref.apply(r);
            } catch (e) {
              expect(e).toBeInstanceOf(ModelCapacityError);
              refused = true;
            }
            if (o.flush === 0) {
              m.flush();
              expect(m.stats().bytes).toBeLessThanOrEqual(budget);
            }
          }
          m.flush();
          expect(m.stats().bytes).toBeLessThanOrEqual(budget);
          const lists = bruteForceLists(ref.H, 2, 1);
          for (let i = 0; i < 500; i++) expect(plain(m, `i${i}`)).toEqual(lists.get(`i${i}`));
          if (m.representation === 'sparse') outcomes.sparse++;
          if (refused) outcomes.refused++;
        },
      ),
      // Shrinking 600-operation runs over 500 items takes minutes: report the first failure as is.
      { numRuns: 40, endOnFailure: true },
    );
    // Both paths were taken (the property is not vacuous).
    expect(outcomes.sparse).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(0);
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
