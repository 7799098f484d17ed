// The task assigner: every task to exactly one member, shares differ by at most one, and tasks stay
// with their owner when the shares allow (an instance joining takes tasks from the others; one leaving
// hands out only its own).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assignTasks } from '../../src/partitioned/assigner.js';

function check(tasks: number, plan: Map<string, number[]>): void {
  const all = [...plan.values()].flat().sort((a, b) => a - b);
  expect(all).toEqual(Array.from({ length: tasks }, (_, t) => t));
  const sizes = [...plan.values()].map((l) => l.length);
  expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
}

describe('task assignment', () => {
  it('is complete and balanced for any members and claims', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 24 }),
        fc.array(fc.array(fc.integer({ min: -1, max: 30 }), { maxLength: 10 }), {
          minLength: 1,
          maxLength: 7,
        }),
        (tasks, claims) => {
          const members = claims.map((owned, k) => ({ memberId: `m${k}`, owned }));
          check(tasks, assignTasks(tasks, members));
        },
      ),
    );
  });

  it('moves only what balance requires when a member joins or leaves', () => {
    const three = assignTasks(12, [
      { memberId: 'a', owned: [] },
      { memberId: 'b', owned: [] },
      { memberId: 'c', owned: [] },
    ]);
    check(12, three);
    // A fourth joins: each of the three gives up exactly one task, the rest stay.
    const four = assignTasks(12, [
      ...[...three].map(([memberId, owned]) => ({ memberId, owned })),
      { memberId: 'd', owned: [] },
    ]);
    check(12, four);
    for (const m of ['a', 'b', 'c']) {
      const kept = four.get(m)!.filter((t) => three.get(m)!.includes(t));
      expect(kept).toHaveLength(3);
    }
    // b leaves: a, c and d keep theirs and share b's.
    const after = assignTasks(
      12,
      ['a', 'c', 'd'].map((memberId) => ({ memberId, owned: four.get(memberId)! })),
    );
    check(12, after);
    for (const m of ['a', 'c', 'd']) for (const t of four.get(m)!) expect(after.get(m)).toContain(t);
  });
});
