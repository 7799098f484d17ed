// The inspector's matrices: the seed's H, n, C, S exactly as the paper's example has them, the
// automatic subset of a large catalogue, explicit selections and the id search.
import { describe, expect, it } from 'vitest';
import { Model } from '../../../src/model/index.js';
import { seedPairs } from '../../../src/cli/demo.js';
import {
  AUTO_SIDE,
  MAX_SIDE,
  computeView,
  modelFingerprint,
  parseIdList,
  resolveSelection,
  search,
} from '../../../src/http/inspector/view.js';

function seeded(): Model {
  const m = new Model({ topK: 20 });
  for (const [userId, itemId] of seedPairs()) m.interaction({ userId, itemId, action: 'ADD', occurredAt: 1 });
  m.flush();
  return m;
}

describe('the inspector view', () => {
  it('shows a small catalogue whole: H, n, C = HᵀH off the diagonal, S = Jaccard', () => {
    const m = seeded();
    const v = computeView(m, resolveSelection(m, {}));
    expect(v.large).toBe(false);
    expect(v.users).toEqual(['Bart', 'Homer', 'Lisa', 'Marge']);
    expect(v.items).toEqual(['0', '1', '2', '3', '4']);
    expect(v.H).toEqual([
      [1, 1, 0, 1, 0],
      [1, 1, 1, 0, 1],
      [0, 1, 0, 1, 0],
      [0, 1, 1, 0, 0],
    ]);
    expect(v.n).toEqual([2, 4, 2, 2, 1]);
    expect(v.C).toEqual([
      [null, 2, 1, 1, 1],
      [2, null, 2, 2, 1],
      [1, 2, null, 0, 1],
      [1, 2, 0, null, 0],
      [1, 1, 1, 0, null],
    ]);
    expect(v.S[0]).toEqual([null, 1 / 2, 1 / 3, 1 / 3, 1 / 2]);
    expect(v.S[1]).toEqual([1 / 2, null, 1 / 2, 1 / 2, 1 / 4]);
    expect(v.S[2]![4]).toBe(1 / 2);
  });

  it('after forgetting Marge the view equals the view of the data without her', () => {
    const m = seeded();
    m.forget({ userId: 'Marge', requestedAt: 2 });
    m.flush();
    const without = new Model({ topK: 20 });
    for (const [userId, itemId] of seedPairs())
      if (userId !== 'Marge') without.interaction({ userId, itemId, action: 'ADD', occurredAt: 1 });
    without.flush();
    const a = computeView(m, resolveSelection(m, {}));
    expect(a).toEqual(computeView(without, resolveSelection(without, {})));
    expect(a.S[0]![1]).toBe(2 / 3);
    expect(a.S[2]![4]).toBe(1);
  });

  it('shows a chosen subset of a large catalogue: popular items and their heaviest users', () => {
    const m = new Model({ topK: 5 });
    // 60 users × 80 items; item k is held by every user u with u % (k % 7 + 1) === 0.
    for (let u = 0; u < 60; u++)
      for (let k = 0; k < 80; k++)
        if (u % ((k % 7) + 1) === 0)
          m.interaction({ userId: `u${u}`, itemId: `i${k}`, action: 'ADD', occurredAt: 1 });
    m.flush();
    const sel = resolveSelection(m, {});
    expect(sel.large).toBe(true);
    expect(sel.totals).toEqual({ users: 60, items: 80 });
    expect(sel.items).toHaveLength(AUTO_SIDE);
    // Items with k % 7 === 0 are held by everyone: they are the most popular.
    for (const i of sel.items) expect(Number(i.slice(1)) % 7).toBe(0);
    expect(sel.users).toHaveLength(AUTO_SIDE);
    const v = computeView(m, sel);
    expect(v.n.every((n) => n === 60)).toBe(true);
    expect(v.S[0]![1]).toBe(1);

    const explicit = resolveSelection(m, { items: ['i1', 'i2', 'nope'], users: ['u2'] });
    const e = computeView(m, explicit);
    expect(e.items).toEqual(['i1', 'i2', 'nope']);
    expect(e.H).toEqual([[1, 0, 0]]);
    expect(e.n).toEqual([30, 20, 0]);
    expect(e.S[0]![2]).toBe(0);
  });

  it('searches ids case-insensitively and parses id lists with a bound', () => {
    const m = seeded();
    expect(search(m, 'ar')).toEqual({ users: ['Bart', 'Marge'], items: [] });
    expect(search(m, '  ')).toEqual({ users: [], items: [] });
    expect(search(m, '3')).toEqual({ users: [], items: ['3'] });
    expect(parseIdList(null)).toBeUndefined();
    expect(parseIdList(' a, b,,a ,c')).toEqual(['a', 'b', 'c']);
    expect(parseIdList(Array.from({ length: 100 }, (_, k) => `x${k}`).join(','))).toHaveLength(MAX_SIDE);
  });

  it('changes its fingerprint when the state changes', () => {
    const m = seeded();
    const before = modelFingerprint(m, 1);
    m.forget({ userId: 'Marge', requestedAt: 2 });
    m.flush();
    expect(modelFingerprint(m, 1)).not.toBe(before);
    expect(modelFingerprint(m, 2)).not.toBe(modelFingerprint(m, 1));
  });
});
