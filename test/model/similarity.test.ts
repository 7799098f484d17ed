// The similarity measures (src/model/similarity.ts) and what the top-K index's bounds must know of
// them: a row's bound follows a change of the row's own n by the measure's rule, and a rule that
// is right for one measure can prove a wrong list under the other.
import { describe, expect, it } from 'vitest';
import { cosine, jaccard, Model } from '../../src/model/index.js';
import { Reference, refSimilarity, type RefList, type RefMeasure, type RefOp } from '../helpers/oracle.js';

describe('the measures', () => {
  it('compute the contract formulas, bit for bit and symmetric', () => {
    for (const [c, a, b] of [
      [1, 1, 1],
      [2, 3, 5],
      [7, 10, 21],
      [3, 2 ** 20, 2 ** 21],
    ] as const) {
      expect(jaccard(c, a, b)).toBe(refSimilarity('jaccard', c, a, b));
      expect(cosine(c, a, b)).toBe(refSimilarity('cosine', c, a, b));
      expect(jaccard(c, a, b)).toBe(jaccard(c, b, a));
      expect(cosine(c, a, b)).toBe(cosine(c, b, a));
    }
    expect(cosine(4, 4, 4)).toBe(1);
  });
});

/**
 * A hub item A with 30 neighbours B01..B30, all held together by 10 users; B_k also by k users of
 * its own, so the neighbours rank B01 > B02 > … in A's row and A's candidates are the best L with a
 * bound from B11 (the first flush changes every item: one bulk sweep). Then n_A grows fourfold
 * (users holding only A) while B01..B10 gain holders enough to fall under B11's new value but not
 * under a bound that follows n_A by Jaccard's rule: B11 must become A's first neighbour.
 */
function hubScenario(): RefOp[][] {
  const ops: RefOp[] = [];
  const b = (k: number) => `B${String(k).padStart(2, '0')}`;
  for (let u = 0; u < 10; u++) {
    ops.push({ kind: 'add', user: `core${u}`, item: 'A', at: 1 });
    for (let k = 1; k <= 30; k++) ops.push({ kind: 'add', user: `core${u}`, item: b(k), at: 1 });
  }
  for (let k = 1; k <= 30; k++)
    for (let e = 0; e < k; e++) ops.push({ kind: 'add', user: `solo-${k}-${e}`, item: b(k), at: 1 });
  const grow: RefOp[] = [];
  for (let u = 0; u < 30; u++) grow.push({ kind: 'add', user: `hub${u}`, item: 'A', at: 2 });
  for (let k = 1; k <= 10; k++)
    for (let e = k; e < 20; e++) grow.push({ kind: 'add', user: `solo-${k}-${e}`, item: b(k), at: 2 });
  return [ops, grow];
}

function plain(l: { itemId: string; interactions: number; neighbors: readonly object[] }): RefList {
  return JSON.parse(JSON.stringify(l)) as RefList;
}

describe('bounds follow n by the measure', () => {
  for (const measure of ['jaccard', 'cosine'] as RefMeasure[])
    for (const representation of ['dense', 'sparse'] as const)
      it(`a hub item's list stays exact when its n grows and its candidates fall (${measure}, ${representation})`, () => {
        const model = new Model({ topK: 1, similarity: measure }, { representation });
        const ref = new Reference();
        for (const batch of hubScenario()) {
          for (const op of batch) {
            if (op.kind !== 'add') continue;
            ref.apply(op);
            model.interaction({ userId: op.user, itemId: op.item, action: 'ADD', occurredAt: op.at });
          }
          model.flush();
          const want = ref.lists(1, 1, measure);
          for (const [item, list] of want) expect(plain(model.neighbors(item)!), item).toEqual(list);
        }
        expect(model.neighbors('A')?.neighbors[0]?.itemId).toBe('B11');
      });
});
