// The seed example (Homer, Marge, Bart, Lisa × five items) as a flushed Model, for the HTTP tests.
// n = {0:2, 1:4, 2:2, 3:2, 4:1}; S01 = S04 = S12 = S13 = S24 = 1/2, S02 = S03 = 1/3, S14 = 1/4.
import { Model } from '../../src/model/index.js';

export const USERS = ['homer', 'marge', 'bart', 'lisa'] as const;
export const item = (i: number): string => `item-${i}`;
export const SEED: readonly (readonly [number, number])[] = [
  [0, 0],
  [0, 1],
  [0, 2],
  [0, 4],
  [1, 1],
  [1, 2],
  [2, 0],
  [2, 1],
  [2, 3],
  [3, 1],
  [3, 3],
];

export function seedModel(options: ConstructorParameters<typeof Model>[0] = {}): Model {
  const m = new Model({ topK: 20, ...options });
  for (const [u, i] of SEED) {
    m.interaction({ userId: USERS[u]!, itemId: item(i), action: 'ADD', occurredAt: 1_000 });
  }
  m.flush(2_000);
  return m;
}
