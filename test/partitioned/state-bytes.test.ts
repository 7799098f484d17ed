// The item stage's byte estimate (what the memory guard weighs against MODEL_MEMORY_BYTES) against
// the heap it really takes, measured after a full GC: CountMap.bytes in each of its layouts (empty,
// small and large sparse tables, dense), and ItemTable.stats().bytes for a state whose C rows go
// dense (few items, users holding many) and one whose rows and columns stay small and sparse.
// V8's object sizes are the engine's, not ours: the tolerance is the estimate's, ±15 %.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { CountMap } from '../../src/partitioned/count-map.js';
import { ItemPartitions } from '../../src/partitioned/ids.js';
import { ItemTable } from '../../src/partitioned/item-table.js';
import { rng } from '../helpers/generator.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const used = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

/** Bytes the objects built by make take on the heap (their own array of references excluded). */
function measured<T>(count: number, make: () => T): { bytes: number; made: T[] } {
  make(); // compiled before the baseline
  const made: T[] = new Array<T>(count);
  const before = used();
  for (let k = 0; k < count; k++) made[k] = make();
  const bytes = used() - before;
  return { bytes, made };
}

const within = (estimate: number, real: number) => {
  expect(estimate).toBeGreaterThan(real * 0.85);
  expect(estimate).toBeLessThan(real * 1.15);
};

describe('CountMap.bytes', () => {
  it.each([
    ['empty', 0, 1],
    ['sparse, 2 keys', 2, 100_000],
    ['sparse, 40 keys', 40, 100_000],
    ['sparse, 3 000 keys', 3_000, 1_000_000],
    ['dense, 200 keys of 256', 200, 256],
    ['dense, 3 000 keys of 3 500', 3_000, 3_500],
  ])('is the heap a map takes: %s', (_, keys, span) => {
    const r = rng(keys + span);
    const count = Math.max(200, Math.min(20_000, Math.floor(8e6 / (keys * 8 + 500))));
    const { bytes, made } = measured(count, () => {
      const m = new CountMap();
      while (m.size < keys) m.add(Math.floor(r() * span), 1);
      return m;
    });
    expect(made[0]!.isDense).toBe(span < 10_000 && keys > 0);
    const estimate = made.reduce((sum, m) => sum + m.bytes, 0);
    within(estimate, bytes - count * 8);
  });
});

describe('ItemTable.stats().bytes', () => {
  it.each([
    ['rows dense: 80 users × 150 of 1 000 items', 80, 1_000, 150],
    ['rows and columns sparse: 2 000 users × 12 of 20 000 items', 2_000, 20_000, 12],
  ])('is the heap the tables of the partitions take: %s', async (_, users, items, perUser) => {
    const Q = 4;
    const parts = new ItemPartitions(Q);
    const build = async () => {
      const r = rng(users);
      const tables = Array.from(
        { length: Q },
        (_, q) => new ItemTable({ partition: q, parts, topK: 10, minCooccurrences: 1 }),
      );
      for (let u = 0; u < users; u++) {
        const mine = new Set<number>();
        while (mine.size < perUser) mine.add(Math.floor(r() * items));
        const s = [...mine].map((i) => `item-${i}`);
        // Each partition decodes its own record (its own strings), as the stage does.
        const json = JSON.stringify({ p: 0, o: [{ t: `token-${u}`, s }], n: s.map((i) => [i, 1]), m: [] });
        for (const t of tables) t.apply(JSON.parse(json) as Parameters<ItemTable['apply']>[0]);
        if (u % 100 === 99 || u === users - 1) for (const t of tables) await t.flush(() => Promise.resolve());
      }
      return tables;
    };
    // Compiled before the baseline; awaited as undefined (an awaited value stays in the frame).
    await build().then(() => undefined);
    const before = used();
    const tables = await build();
    const real = used() - before;
    const estimate = tables.reduce((sum, t) => sum + t.stats().bytes, 0);
    expect(estimate).toBe(tables.reduce((sum, t) => sum + t.recountBytes(), 0));
    within(estimate, real);
  });
});
