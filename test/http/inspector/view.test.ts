// The inspector's matrices: the seed's H, n, C, S exactly as the paper's example has them, pages of
// a large catalogue, explicit selections, the exact-id lookup and the query parameters.
import { describe, expect, it } from 'vitest';
import { Model } from '../../../src/model/index.js';
import { seedPairs } from '../../../src/cli/demo.js';
import { HttpError } from '../../../src/http/respond.js';
import {
  AUTO_SIDE,
  MAX_SIDE,
  computeView,
  lookup,
  modelFingerprint,
  parseIdList,
  resolveSelection,
  selectionOf,
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

  it('shows S of the configured measure, and names it', () => {
    const m = new Model({ topK: 20, similarity: 'cosine' });
    for (const [userId, itemId] of seedPairs())
      m.interaction({ userId, itemId, action: 'ADD', occurredAt: 1 });
    m.flush();
    const v = computeView(m, resolveSelection(m, {}));
    expect(v.measure).toBe('cosine');
    expect(computeView(seeded(), resolveSelection(seeded(), {})).measure).toBe('jaccard');
    // n = 2, 4, 2, 2, 1 and C as above: C_01 / √(n_0 · n_1) = 2/√8, …
    expect(v.S[0]).toEqual([null, 2 / Math.sqrt(8), 1 / Math.sqrt(4), 1 / Math.sqrt(4), 1 / Math.sqrt(2)]);
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

  it('shows a large catalogue a page of users at a time, with the items they hold most', () => {
    const m = new Model({ topK: 5 });
    // 60 users × 80 items; item k is held by every user u with u % (k % 7 + 1) === 0.
    const holds = (u: number, k: number) => u % ((k % 7) + 1) === 0;
    for (let u = 0; u < 60; u++)
      for (let k = 0; k < 80; k++)
        if (holds(u, k)) m.interaction({ userId: `u${u}`, itemId: `i${k}`, action: 'ADD', occurredAt: 1 });
    m.flush();
    const first = resolveSelection(m, {});
    expect(first.large).toBe(true);
    expect(first.totals).toEqual({ users: 60, items: 80 });
    expect(first.users).toHaveLength(AUTO_SIDE);
    expect(first.page.users).toEqual({ cursor: 0, next: AUTO_SIDE });
    // Every user holds the items with k % 7 === 0: they are the ones held most.
    expect(first.items).toHaveLength(AUTO_SIDE);
    for (const i of first.items) expect(Number(i.slice(1)) % 7).toBe(0);
    expect(first.page.items).toBeNull();
    const v = computeView(m, first);
    expect(v.n.every((n) => n === 60)).toBe(true);
    expect(v.S[0]![1]).toBe(1);
    // H agrees with the rule the data was made by, cell by cell.
    v.users.forEach((u, r) =>
      v.items.forEach((i, c) =>
        expect(v.H[r]![c]).toBe(holds(Number(u.slice(1)), Number(i.slice(1))) ? 1 : 0),
      ),
    );

    // All pages together hold every user once.
    const seen: string[] = [];
    let cursor: number | null = 0;
    while (cursor !== null) {
      const p = resolveSelection(m, { userCursor: cursor, limit: 25 });
      seen.push(...p.users);
      cursor = p.page.users!.next;
    }
    expect(seen.sort()).toEqual(Array.from({ length: 60 }, (_, u) => `u${u}`).sort());

    const items = resolveSelection(m, { itemCursor: 70, users: ['u0'] });
    expect(items.items).toHaveLength(10);
    expect(items.page).toEqual({ users: null, items: { cursor: 70, next: null } });

    const explicit = computeView(m, resolveSelection(m, { items: ['i1', 'i2', 'nope'], users: ['u2'] }));
    expect(explicit.items).toEqual(['i1', 'i2', 'nope']);
    expect(explicit.H).toEqual([[1, 0, 0]]);
    expect(explicit.n).toEqual([30, 20, 0]);
    expect(explicit.S[0]![2]).toBe(0);
  });

  it('finds ids by exact lookup only, and parses id lists with a bound', () => {
    const m = seeded();
    expect(lookup(m, 'Marge')).toEqual({ users: ['Marge'], items: [] });
    expect(lookup(m, '3')).toEqual({ users: [], items: ['3'] });
    expect(lookup(m, 'ar')).toEqual({ users: [], items: [] });
    expect(lookup(m, 'marge')).toEqual({ users: [], items: [] });
    expect(lookup(m, '')).toEqual({ users: [], items: [] });
    m.forget({ userId: 'Marge', requestedAt: 2 });
    m.flush();
    expect(lookup(m, 'Marge')).toEqual({ users: [], items: [] });
    expect(parseIdList(null)).toBeUndefined();
    expect(parseIdList(' a, b,,a ,c')).toEqual(['a', 'b', 'c']);
    expect(parseIdList(Array.from({ length: 100 }, (_, k) => `x${k}`).join(','))).toHaveLength(MAX_SIDE);
  });

  it('reads the paging parameters, refusing malformed ones with 400 INVALID_PARAMETER', () => {
    const sel = (q: string) => selectionOf(new URL(`http://localhost/inspector/state${q}`));
    expect(sel('')).toEqual({});
    expect(sel('?userCursor=12&itemCursor=0&limit=40&users=a,b')).toEqual({
      userCursor: 12,
      itemCursor: 0,
      limit: 40,
      users: ['a', 'b'],
    });
    for (const q of [
      '?userCursor=-1',
      '?userCursor=1.5',
      '?itemCursor=x',
      '?limit=0',
      '?limit=41',
      '?userCursor=',
    ]) {
      expect(() => sel(q), q).toThrow(HttpError);
      try {
        sel(q);
      } catch (e) {
        expect((e as HttpError).code).toBe('INVALID_PARAMETER');
      }
    }
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
