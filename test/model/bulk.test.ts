// Flushes in bulk (one sweep of C rebuilds every row's candidates) and offer by offer report the same
// lists, on streams where users add items in bursts over many rarely held items: buffers fill up and
// compact in the middle of settling, with small counts where one co-occurrence moves a similarity a
// lot — and the lists equal the brute force from the surviving events.
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../bench/datasets.js';
import { Model } from '../../src/model/index.js';
import { bruteForceLists, Reference } from '../helpers/oracle.js';

function burstyStream(
  seed: number,
  events: number,
  apply: (u: string, i: string, add: boolean, at: number) => void,
) {
  const r = mulberry32(seed);
  for (let e = 0; e < events;) {
    const user = `u${Math.floor(300 * r())}`;
    const burst = 3 + Math.floor(40 * r() ** 2);
    for (let b = 0; b < burst && e < events; b++, e++)
      apply(user, `i${Math.floor(1500 * r() ** 1.5)}`, r() >= 0.05, e);
  }
}

describe('bulk and incremental flushes', () => {
  it('report the same lists, the brute-force ones, on bursty streams of rarely held items', () => {
    for (const seed of [1, 2, 3]) {
      const inc = new Model({ topK: 3 }, { flushMode: 'incremental' });
      const bulk = new Model({ topK: 3 }, { flushMode: 'bulk' });
      const ref = new Reference();
      burstyStream(seed, 12_000, (userId, itemId, add, at) => {
        const action = add ? 'ADD' : 'REMOVE';
        for (const m of [inc, bulk]) m.interaction({ userId, itemId, action, occurredAt: at });
        ref.apply({ kind: add ? 'add' : 'remove', user: userId, item: itemId, at });
        if (at % 700 === 699) expect(inc.flush(at), `seed ${seed}, event ${at}`).toEqual(bulk.flush(at));
      });
      inc.flush();
      bulk.flush();
      const want = bruteForceLists(ref.H, 3, 1);
      for (const id of inc.itemIds()) {
        const list = inc.neighbors(id);
        expect(list && { ...list, updatedAt: undefined }, id).toEqual({
          ...want.get(id),
          updatedAt: undefined,
        });
        expect(bulk.neighbors(id)).toEqual(list);
      }
    }
  }, 60_000);
});
