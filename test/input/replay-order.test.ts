import { describe, expect, it } from 'vitest';
import { DeletionsByUser } from '../../src/input/replay-order.js';

const del = (requestId: string, userId: string, recordMs: number) => ({
  deletion: { requestId, userId, requestedAt: recordMs },
  recordMs,
  silent: false,
});

describe('deletion requests during a replay', () => {
  it('are applied just before the first interaction of their user recorded after them', () => {
    const q = new DeletionsByUser();
    q.add(del('r2', 'u', 20));
    q.add(del('r1', 'u', 10));
    q.add(del('r3', 'v', 5));
    expect(q.takeBefore('u', 10)).toBeUndefined(); // a tie goes to the interaction
    expect(q.takeBefore('u', 15)?.map((d) => d.deletion.requestId)).toEqual(['r1']);
    expect(q.takeBefore('w', 100)).toBeUndefined();
    expect(q.takeAll().map((d) => d.deletion.requestId)).toEqual(['r3', 'r2']);
    expect(q.takeAll()).toEqual([]);
  });
});
