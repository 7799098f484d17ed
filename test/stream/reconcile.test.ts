import { describe, expect, it } from 'vitest';
import { canonicalList, RebuildState } from '../../src/stream/reconcile.js';

const del = (requestId: string, userId: string, recordMs: number) => ({
  deletion: { requestId, userId, requestedAt: recordMs },
  recordMs,
  silent: false,
});

describe('rebuild bookkeeping', () => {
  it('compares lists without their updatedAt, and long-as-number values alike', () => {
    const a = {
      itemId: 'x',
      interactions: 2,
      neighbors: [{ itemId: 'y', similarity: 0.5, cooccurrences: 1 }],
      updatedAt: 1,
    };
    const b = { ...a, updatedAt: 99 };
    expect(canonicalList(a)).toBe(canonicalList(b));
    expect(canonicalList(a)).not.toBe(canonicalList({ ...a, interactions: 3 }));
  });

  it("applies a user's deletions just before the first interaction recorded after them", () => {
    const rb = new RebuildState(1, new Map(), new Map(), 0);
    rb.bufferDeletion(del('r2', 'u', 20));
    rb.bufferDeletion(del('r1', 'u', 10));
    rb.bufferDeletion(del('r3', 'v', 5));
    expect(rb.takeDeletionsBefore('u', 10)).toBeUndefined(); // a tie goes to the interaction
    expect(rb.takeDeletionsBefore('u', 15)?.map((d) => d.deletion.requestId)).toEqual(['r1']);
    expect(rb.takeDeletionsBefore('w', 100)).toBeUndefined();
    expect(rb.takeAllDeletions().map((d) => d.deletion.requestId)).toEqual(['r3', 'r2']);
    expect(rb.takeAllDeletions()).toEqual([]);
  });

  it('knows when a partition has been read to the mark taken at the start', () => {
    const rb = new RebuildState(
      1,
      new Map([
        ['t:0', { low: 0, high: 10 }],
        ['t:1', { low: 4, high: 4 }],
      ]),
      new Map(),
      0,
    );
    expect(rb.reached('t:0', 9)).toBe(false);
    expect(rb.reached('t:0', 10)).toBe(true);
    expect(rb.reached('t:1', undefined)).toBe(true);
    expect(rb.reached('t:2', undefined)).toBe(true);
  });
});
