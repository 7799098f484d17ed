// Random operation sequences for the model's property tests.
import fc from 'fast-check';
import type { RefOp } from './oracle.js';

/** Item ids whose string order differs from their numeric order, to exercise the tie-break. */
export const ITEM_IDS = [
  '10',
  '9',
  'a',
  'B',
  'b',
  '1',
  '100',
  'z',
  'Z',
  '01',
  'x1',
  'x10',
  'x2',
  'é',
  'ä',
  '_',
];

export const itemId = (i: number): string => ITEM_IDS[i] ?? `item-${i}`;

/** Adds, removes (also of absent pairs), forgets and flushes over `users` users and `items` items. */
export function opArb(users: number, items: number): fc.Arbitrary<RefOp> {
  const user = fc.integer({ min: 0, max: users - 1 }).map((u) => `user-${u}`);
  const item = fc.integer({ min: 0, max: items - 1 }).map(itemId);
  const at = fc.integer({ min: 0, max: 60 });
  return fc.oneof(
    { weight: 10, arbitrary: fc.record({ kind: fc.constant('add' as const), user, item, at }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('remove' as const), user, item, at }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('forget' as const), user, at }) },
    { weight: 2, arbitrary: fc.constant({ kind: 'flush' as const }) },
  );
}
