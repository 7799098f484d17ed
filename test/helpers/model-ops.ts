// Random operation sequences for the model's property tests.
import fc from 'fast-check';
import type { Model } from '../../src/model/index.js';
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

/** The model's answer to one operation, in the oracle's terms (Reference.apply returns the same). */
export function applyToModel(model: Model, op: RefOp): string | undefined {
  if (op.kind === 'flush') return undefined;
  if (op.kind === 'expire') return String(model.expireBefore(op.at));
  if (op.kind === 'forget')
    return String(model.forget({ userId: op.user, requestedAt: op.at }).interactionsRemoved);
  return model.interaction({
    userId: op.user,
    itemId: op.item,
    action: op.kind === 'add' ? 'ADD' : 'REMOVE',
    occurredAt: op.at,
  });
}

/**
 * opArb's operations with INTERACTION_TTL_MS checks among them: an expiry at a cutoff that only
 * moves forward, in steps over the same time range as the events (0..60).
 */
export function timedOpArb(users: number, items: number): fc.Arbitrary<RefOp[]> {
  const step = fc.oneof(
    { weight: 12, arbitrary: opArb(users, items) },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 0, max: 12 }).map((d) => ({ kind: 'expire' as const, at: d })),
    },
  );
  return fc.array(step, { minLength: 10, maxLength: 150, size: 'large' }).map((ops) => {
    let cutoff = 0;
    return ops.map((op) => (op.kind === 'expire' ? { kind: 'expire' as const, at: (cutoff += op.at) } : op));
  });
}
