// The end-to-end benchmark's check of published lists: a published list counts as right only when
// it equals the model's list in n, neighbour order, co-occurrences and similarity.
import { describe, expect, it } from 'vitest';
import type { NeighborList } from '../../../src/model/index.js';
import { listDifference } from '../../../bench/e2e/verify.js';

const want: NeighborList = {
  itemId: 'a',
  interactions: 3,
  neighbors: [
    { itemId: 'b', similarity: 0.5, cooccurrences: 2 },
    { itemId: 'c', similarity: 0.25, cooccurrences: 1 },
  ],
};

describe('listDifference', () => {
  it('accepts an equal list', () => {
    expect(listDifference(want, { ...want, neighbors: [...want.neighbors] })).toBeUndefined();
  });

  it.each([
    ['another n', { ...want, interactions: 4 }, 'n 4'],
    ['a missing neighbour', { ...want, neighbors: want.neighbors.slice(0, 1) }, '1 neighbours'],
    ['neighbours swapped', { ...want, neighbors: [...want.neighbors].reverse() }, 'neighbour 0 is c'],
    [
      'another similarity',
      { ...want, neighbors: [want.neighbors[0]!, { itemId: 'c', similarity: 0.2500001, cooccurrences: 1 }] },
      'neighbour 1',
    ],
    [
      'another co-occurrence count',
      { ...want, neighbors: [{ itemId: 'b', similarity: 0.5, cooccurrences: 3 }, want.neighbors[1]!] },
      'neighbour 0',
    ],
  ])('rejects %s', (_what, got, why) => {
    expect(listDifference(want, got)).toContain(why);
  });
});
