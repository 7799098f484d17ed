// The state the receipts benchmark checks its published lists against (the model alone): the data
// set, the users whose deletion was requested forgotten, and the background passes under the user
// names replay-worker.mjs gives them — equal to the brute force over the same surviving history.
import { describe, expect, it } from 'vitest';
import { receiptsReference } from '../../../bench/e2e/model-baseline.js';
import type { EventStream } from '../../../bench/datasets.js';
import { bruteForceLists, survivingHistory, type RefEvent } from '../../helpers/oracle.js';

const s: EventStream = {
  name: 'tiny',
  users: Int32Array.from([0, 0, 1, 1, 2, 2, 2]),
  items: Int32Array.from([0, 1, 0, 2, 1, 2, 0]),
  times: Float64Array.from([1, 2, 3, 4, 5, 6, 7]),
  userNames: ['a', 'b', 'c'],
  itemNames: ['x', 'y', 'z'],
};

describe('the receipts run reference', () => {
  it('is the brute force over the data set minus the deleted users plus the background sent', () => {
    const model = receiptsReference({ topK: 5 }, s, ['b'], [{ sent: 10, userPrefix: 'bg1-' }]);
    const events: RefEvent[] = [];
    const add = (userId: string, e: number) =>
      events.push({ userId, itemId: s.itemNames[s.items[e]!]!, action: 'ADD', occurredAt: s.times[e]! });
    for (let e = 0; e < 7; e++) add(s.userNames[s.users[e]!]!, e);
    // 10 background events: the whole pass 0, then the first 3 events of pass 1.
    for (let k = 0; k < 10; k++) add(`bg1-${Math.floor(k / 7)}-${s.userNames[s.users[k % 7]!]!}`, k % 7);
    const expected = bruteForceLists(survivingHistory(events, [{ userId: 'b', requestedAt: 100 }]), 5, 1);
    for (const [item, list] of expected) expect(model.neighbors(item), item).toEqual(list);
    expect(model.itemIds().sort()).toEqual([...expected.keys()].sort());
    expect(model.itemsOf('b')).toEqual([]);
    expect(model.itemsOf('bg1-1-a')).toEqual(['x', 'y']);
  });
});
