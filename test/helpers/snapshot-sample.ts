// Sample models and snapshots for the state tests.
import { Model } from '../../src/model/index.js';
import type { Snapshot } from '../../src/state/format.js';

export function sampleModel(seed = 1, users = 40, items = 30): Model {
  const m = new Model({ topK: 5, tombstoneRetentionMs: 1e12 });
  let x = seed;
  const rnd = (n: number) => ((x = (x * 1103515245 + 12345) % 2 ** 31), x % n);
  for (const item of ['item-0', 'item-1', 'item-2'])
    m.interaction({ userId: 'user-3!', itemId: item, action: 'ADD', occurredAt: 0 });
  for (let k = 0; k < users * 6; k++)
    m.interaction({
      userId: `user-${rnd(users)}!`,
      itemId: `item-${rnd(items)}`,
      action: 'ADD',
      occurredAt: k,
    });
  m.flush(1000);
  m.forget({ userId: 'user-3!', requestedAt: 500 });
  m.interaction({ userId: 'user-4!', itemId: 'item-1', action: 'REMOVE', occurredAt: 600 });
  m.flush(2000);
  return m;
}

export function sampleSnapshot(m = sampleModel()): Snapshot {
  return {
    createdAt: 1_700_000_000_000,
    offsets: [
      { topic: 'interactions', partition: 0, offset: 42 },
      { topic: 'deletion-requests', partition: 0, offset: 1 },
    ],
    purges: [{ requestId: 'dsr-1', interactionsRemoved: 6, itemsAffected: 6, recordMs: 123 }],
    state: m.exportState(),
  };
}
