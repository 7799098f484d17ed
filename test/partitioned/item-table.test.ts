// An item partition's changelog records the similarity measure its lists were computed with: a
// table of another measure refuses it (its restored lists would not be the published ones), and a
// changelog that holds state but no measure was written before the setting existed — Jaccard.
import { describe, expect, it } from 'vitest';
import type { SimilarityMeasure } from '../../src/model/index.js';
import { ItemPartitions } from '../../src/partitioned/ids.js';
import { ItemTable, MEASURE_KEY } from '../../src/partitioned/item-table.js';
import type { ChangelogRecord } from '../../src/partitioned/user-table.js';

const noPause = () => Promise.resolve();
const table = (similarity?: SimilarityMeasure) =>
  new ItemTable({
    partition: 0,
    parts: new ItemPartitions(1),
    topK: 3,
    minCooccurrences: 1,
    ...(similarity ? { similarity } : {}),
  });

async function written(similarity: SimilarityMeasure): Promise<ChangelogRecord[]> {
  const t = table(similarity);
  t.apply({
    p: 0,
    o: [{ t: 'tok-1', s: ['a', 'b', 'c'] }],
    n: [
      ['a', 1],
      ['b', 1],
      ['c', 1],
    ],
    m: [],
  });
  t.apply({
    p: 0,
    o: [{ t: 'tok-2', s: ['a', 'b'] }],
    n: [
      ['a', 1],
      ['b', 1],
    ],
    m: [],
  });
  return (await t.flush(noPause)).changelog;
}

async function restoredUnder(log: readonly ChangelogRecord[], similarity: SimilarityMeasure) {
  const t = table(similarity);
  for (const r of log) t.restore(r.key, r.value);
  await t.endRestore(noPause);
  return t;
}

describe('the measure in the items changelog', () => {
  it('is written with the state, and a table of the same measure restores the published lists', async () => {
    const log = await written('cosine');
    expect(log.filter((r) => r.key === MEASURE_KEY)).toEqual([{ key: MEASURE_KEY, value: 'cosine' }]);
    const t = await restoredUnder(log, 'cosine');
    expect(t.restoreRefusal()).toBeUndefined();
    // a–b: C = 2, n = 2, 2 → cosine 2/√4 = 1; a–c: C = 1, n = 2, 1 → 1/√2.
    expect(t.list('a')?.neighbors.map((x) => x.similarity)).toEqual([1, 1 / Math.sqrt(2)]);
  });

  it('is refused under the other measure, naming SIMILARITY', async () => {
    for (const [was, now] of [
      ['jaccard', 'cosine'],
      ['cosine', 'jaccard'],
    ] as const) {
      const t = await restoredUnder(await written(was), now);
      expect(t.restoreRefusal()).toMatch(
        new RegExp(`written with SIMILARITY=${was}.*configured with SIMILARITY=${now}`),
      );
    }
  });

  it('is Jaccard for a changelog that predates it, and nothing for an empty one', async () => {
    const legacy = (await written('jaccard')).filter((r) => r.key !== MEASURE_KEY);
    expect((await restoredUnder(legacy, 'jaccard')).restoreRefusal()).toBeUndefined();
    expect((await restoredUnder(legacy, 'cosine')).restoreRefusal()).toMatch(/SIMILARITY=jaccard/);
    expect((await restoredUnder([], 'cosine')).restoreRefusal()).toBeUndefined();
  });
});
