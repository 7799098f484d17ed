// Property: paging through the model's users and items (any page size) visits exactly the users
// with a non-empty history and the items with n > 0 of a brute-force recomputation from the
// surviving events, each once, and ends with `next` undefined.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Model } from '../../src/model/index.js';
import { applyToModel, opArb } from '../helpers/model-ops.js';
import { Reference, type RefOp } from '../helpers/oracle.js';

function apply(model: Model, op: RefOp): void {
  if (op.kind === 'flush') model.flush();
  else applyToModel(model, op);
}

/** Every id of all pages, checking that each page is non-empty and the cursor moves forward. */
function walk(
  page: (cursor: number, limit: number) => { ids: string[]; next: number | undefined },
  limit: number,
) {
  const all: string[] = [];
  let cursor: number | undefined = 0;
  for (let pages = 0; cursor !== undefined; pages++) {
    const p = page(cursor, limit);
    expect(p.ids.length).toBeLessThanOrEqual(limit);
    if (pages > 0) expect(p.ids.length, 'a page after a defined next is not empty').toBeGreaterThan(0);
    if (p.next !== undefined) {
      expect(p.next).toBeGreaterThan(cursor);
      expect(p.ids).toHaveLength(limit);
    }
    all.push(...p.ids);
    cursor = p.next;
  }
  return all;
}

describe('paging through users and items', () => {
  it('visits exactly the users and items of the surviving events, each once', () => {
    fc.assert(
      fc.property(
        fc.array(opArb(12, 10), { maxLength: 120 }),
        fc.integer({ min: 1, max: 5 }),
        fc.boolean(),
        (ops, limit, flushAtEnd) => {
          const model = new Model({ topK: 3, tombstoneRetentionMs: 1e12 });
          const ref = new Reference();
          for (const op of ops) {
            apply(model, op);
            ref.apply(op);
          }
          if (flushAtEnd) model.flush();
          const users = walk((c, l) => model.userPage(c, l), limit);
          expect(new Set(users).size).toBe(users.length);
          expect([...users].sort()).toEqual([...ref.H.keys()].sort());
          const items = walk((c, l) => model.itemPage(c, l), limit);
          expect(new Set(items).size).toBe(items.length);
          expect([...items].sort()).toEqual([...ref.counts().keys()].sort());
        },
      ),
      { numRuns: 300 },
    );
  });

  it('an empty model has one empty page', () => {
    const m = new Model({ topK: 3 });
    expect(m.userPage(0, 10)).toEqual({ ids: [], next: undefined });
    expect(m.itemPage(0, 10)).toEqual({ ids: [], next: undefined });
  });
});
