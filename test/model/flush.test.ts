// A flush in slices: the change report of a flush at once, with the model locked against changes
// until it completes, and a user with thousands of items settled and forgotten across many slices.
import { describe, expect, it } from 'vitest';
import { Model } from '../../src/model/index.js';

const add = (m: Model, userId: string, itemId: string, occurredAt = 1) =>
  m.interaction({ userId, itemId, action: 'ADD', occurredAt });

function twoModels(build: (m: Model) => void, maxItemsPerUser = 10_000): [Model, Model] {
  const a = new Model({ topK: 5, maxItemsPerUser });
  const b = new Model({ topK: 5, maxItemsPerUser });
  build(a);
  build(b);
  return [a, b];
}

/** Runs a job yielding at every check; returns the report and how many slices it took. */
function sliced(m: Model, updatedAt?: number): { report: ReturnType<Model['flush']>; slices: number } {
  const job = m.beginFlush(updatedAt);
  let slices = 1;
  while (!job.step(() => true)) slices++;
  return { report: job.result(), slices };
}

describe('a flush in slices', () => {
  it('keeps the model locked until it completes, then gives its report', () => {
    const m = new Model();
    for (let u = 0; u < 300; u++) for (let i = 0; i < 40; i++) add(m, `u${u}`, `i${(u * 7 + i) % 400}`);
    const job = m.beginFlush(5);
    expect(() => job.result()).toThrow(/not complete/);
    expect(job.step(() => true)).toBe(false);
    expect(() => add(m, 'v', 'i1')).toThrow(/flush is in progress/);
    expect(() => m.forget({ userId: 'u1', requestedAt: 2 })).toThrow(/flush is in progress/);
    expect(() => m.flush()).toThrow(/flush is in progress/);
    expect(() => m.beginFlush()).toThrow(/flush is in progress/);
    expect(() => m.exportState()).toThrow(/flush is in progress/);
    expect(() => m.expireTombstones(0)).toThrow(/flush is in progress/);
    expect(m.neighbors('i1')).toBeUndefined(); // nothing reported yet
    while (!job.step(() => false));
    expect(job.step(() => true)).toBe(true);
    const report = job.result();
    expect(report.changed.length).toBe(400);
    expect(report.changed.every((l) => l.updatedAt === 5)).toBe(true);
    expect(m.neighbors('i1')).toBe(report.changed.find((l) => l.itemId === 'i1'));
    add(m, 'v', 'i1');
    expect(m.flush().changed.length).toBeGreaterThan(0);
  });

  it('settles and forgets a user with 3,000 items in many slices, reporting what a flush at once does', () => {
    const heavy = (m: Model) => {
      for (let u = 0; u < 50; u++)
        for (let i = 0; i < 30; i++) add(m, `u${u}`, `i${(u * 13 + i * 7) % 3000}`);
      for (let i = 0; i < 3000; i++) add(m, 'heavy', `i${i}`);
    };
    const [a, b] = twoModels(heavy);
    const first = sliced(a, 1);
    expect(first.slices).toBeGreaterThan(10);
    expect(first.report).toEqual(b.flush(1));
    expect(a.forget({ userId: 'heavy', requestedAt: 2 })).toEqual({
      interactionsRemoved: 3000,
      itemsAffected: 3000,
    });
    b.forget({ userId: 'heavy', requestedAt: 2 });
    expect(a.hasUser('heavy')).toBe(false);
    const second = sliced(a, 3);
    expect(second.slices).toBeGreaterThan(10);
    expect(second.report).toEqual(b.flush(3));
    expect(a.stats()).toEqual(b.stats());
  });

  it('a user at the cap loses the oldest item on every further ADD, in the same order on a replay', () => {
    const [a, b] = twoModels((m) => {
      for (let i = 0; i < 10; i++) add(m, 'u', `i${i}`, i);
    }, 4);
    expect(a.itemsOf('u')).toEqual(['i6', 'i7', 'i8', 'i9']);
    a.interaction({ userId: 'u', itemId: 'i7', action: 'REMOVE', occurredAt: 20 });
    add(a, 'u', 'i7', 21);
    add(a, 'u', 'x', 22); // evicts i6: i7 came back after it
    expect(a.itemsOf('u')).toEqual(['i7', 'i8', 'i9', 'x']);
    expect(b.flush()).toEqual(
      twoModels((m) => {
        for (let i = 0; i < 10; i++) add(m, 'u', `i${i}`, i);
      }, 4)[0].flush(),
    );
  });
});
