import { describe, expect, it } from 'vitest';
import { Model } from '../../src/model/index.js';
import { Reference } from '../helpers/oracle.js';
import { SEED } from '../helpers/seed.js';

// The seed's example: Homer, Marge, Bart, Lisa (users 0..3) over items 0..4.
const NAMES = ['Homer', 'Marge', 'Bart', 'Lisa'];

function seeded(): Model {
  const m = new Model({ topK: 20 });
  for (const [u, i] of SEED)
    m.interaction({ userId: NAMES[u] as string, itemId: String(i), action: 'ADD', occurredAt: 1000 });
  m.flush();
  return m;
}

function nOf(m: Model): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of ['0', '1', '2', '3', '4']) out[i] = m.interactions(i);
  return out;
}

function sOf(m: Model): Record<string, number> {
  const out: Record<string, number> = {};
  for (let a = 0; a < 5; a++)
    for (let b = a + 1; b < 5; b++) {
      const s = m.similarity(String(a), String(b));
      if (s !== undefined && s.similarity > 0) out[`${a}${b}`] = s.similarity;
    }
  return out;
}

describe('the seed example', () => {
  it('computes n and Jaccard similarity from the interactions', () => {
    const m = seeded();
    expect(nOf(m)).toEqual({ 0: 2, 1: 4, 2: 2, 3: 2, 4: 1 });
    expect(sOf(m)).toEqual({
      '01': 1 / 2,
      '02': 1 / 3,
      '03': 1 / 3,
      '04': 1 / 2,
      '12': 1 / 2,
      '13': 1 / 2,
      '14': 1 / 4,
      '24': 1 / 2,
    });
  });

  it('forgetting Marge gives the state without Marge', () => {
    const m = seeded();
    expect(m.forget({ userId: 'Marge', requestedAt: 2000 })).toEqual({
      interactionsRemoved: 2,
      itemsAffected: 2,
    });
    const report = m.flush();
    expect(nOf(m)).toEqual({ 0: 2, 1: 3, 2: 1, 3: 2, 4: 1 });
    expect(sOf(m)).toEqual({
      '01': 2 / 3,
      '02': 1 / 2,
      '03': 1 / 3,
      '04': 1 / 2,
      '12': 1 / 3,
      '13': 2 / 3,
      '14': 1 / 3,
      '24': 1,
    });
    expect(m.items('Marge')).toEqual([]);
    expect(m.hasUser('Marge')).toBe(false);
    // Every item's list changed: n of 1 and 2 changed and all others neighbour 1 or 2.
    expect(report.changed.map((l) => l.itemId).sort()).toEqual(['0', '1', '2', '3', '4']);
    expect(m.neighbors('2')?.neighbors).toEqual([
      { itemId: '4', similarity: 1, cooccurrences: 1 },
      { itemId: '0', similarity: 1 / 2, cooccurrences: 1 },
      { itemId: '1', similarity: 1 / 3, cooccurrences: 1 },
    ]);
  });

  it('orders ties by neighbour id and honours k', () => {
    const m = seeded();
    // Item 1: 0 (1/2), 2 (1/2), 3 (1/2), 4 (1/4).
    expect(m.neighbors('1', 2)?.neighbors.map((x) => x.itemId)).toEqual(['0', '2']);
    expect(m.neighbors('1')?.interactions).toBe(4);
  });

  it('recommends items the user lacks, scored by summed similarity', () => {
    const m = seeded();
    // Lisa has 1 and 3. Candidates: 0 = S10 + S30 = 1/2 + 1/3, 2 = S12 = 1/2, 4 = S14 = 1/4.
    const recs = m.recommend('Lisa', 10);
    expect(recs.map((r) => r.itemId)).toEqual(['0', '2', '4']);
    expect(recs[0]?.score).toBeCloseTo(1 / 2 + 1 / 3, 12);
  });
});

describe('bounds when counts fall', () => {
  it('forgetting many users of an item lets a rare neighbour overtake candidates it trailed', () => {
    // X's ten neighbours P01..P10 share 5 users with X but have 30 users of their own; Q shares one
    // user with X and has no other. With K = 1 the candidates are the P's (5/56 > 1/26). Forgetting
    // the 20 users who hold only X leaves n_X = 6, and then Q (1/6) beats every P (5/36).
    const m = new Model({ topK: 1 });
    const add = (u: string, items: string[]) => {
      for (const i of items) m.interaction({ userId: u, itemId: i, action: 'ADD', occurredAt: 1 });
    };
    const P = Array.from({ length: 10 }, (_, j) => `P${String(j + 1).padStart(2, '0')}`);
    for (let u = 0; u < 5; u++) add(`core${u}`, ['X', ...P]);
    for (let u = 0; u < 30; u++) add(`p${u}`, P);
    add('q', ['X', 'Q']);
    for (let u = 0; u < 20; u++) add(`x${u}`, ['X']);
    m.flush();
    expect(m.neighbors('X')?.neighbors).toEqual([{ itemId: 'P01', similarity: 5 / 56, cooccurrences: 5 }]);
    for (let u = 0; u < 20; u++) m.forget({ userId: `x${u}`, requestedAt: 2 });
    m.flush();
    expect(m.neighbors('X')).toMatchObject({
      interactions: 6,
      neighbors: [{ itemId: 'Q', similarity: 1 / 6, cooccurrences: 1 }],
    });
  });
});

describe('a bound left by a scan that kept every entry at or above its seed', () => {
  it('takes a later neighbour tying the K-th of a list of ties (lists vs the brute force)', () => {
    // X's ten neighbours j0..j9 (one user each besides X's) all tie at 1/n_X. When n_X falls, the
    // pass over X's row keeps all ten (they are its candidates: the scan skips below the tenth)
    // and leaves a value-only bound under their value; X's list is j0, j1. A user of X then adds
    // the new item 'a': 1/n_X as well, before j0 by id, and X's list must take it although X's n
    // did not change.
    const m = new Model({ topK: 2 });
    const ref = new Reference();
    const apply = (kind: 'add' | 'remove', user: string, item: string) => {
      ref.apply({ kind, user, item, at: 1 });
      m.interaction({ userId: user, itemId: item, action: kind === 'add' ? 'ADD' : 'REMOVE', occurredAt: 1 });
    };
    const check = () => {
      m.flush();
      for (const [item, list] of ref.lists(2, 1)) expect({ ...m.neighbors(item) }).toEqual(list);
    };
    for (let u = 0; u < 5; u++)
      for (const item of ['X', `j${2 * u}`, `j${2 * u + 1}`]) apply('add', `u${u}`, item);
    apply('add', 'u5', 'X');
    check();
    apply('remove', 'u5', 'X');
    check();
    apply('add', 'u0', 'a');
    check();
    expect(m.neighbors('X')?.neighbors.map((nb) => nb.itemId)).toEqual(['a', 'j0']);
  });
});

describe('interactions', () => {
  it('treats a repeated ADD and a REMOVE of an absent pair as duplicates', () => {
    const m = new Model();
    expect(m.interaction({ userId: 'u', itemId: 'a', action: 'ADD', occurredAt: 1 })).toBe('applied');
    expect(m.interaction({ userId: 'u', itemId: 'a', action: 'ADD', occurredAt: 2 })).toBe('duplicate');
    expect(m.interaction({ userId: 'u', itemId: 'b', action: 'REMOVE', occurredAt: 3 })).toBe('duplicate');
    expect(m.interaction({ userId: 'v', itemId: 'a', action: 'REMOVE', occurredAt: 3 })).toBe('duplicate');
  });

  it('removes an item whose count reaches zero and reports it once', () => {
    const m = new Model();
    m.interaction({ userId: 'u', itemId: 'a', action: 'ADD', occurredAt: 1 });
    m.interaction({ userId: 'u', itemId: 'b', action: 'ADD', occurredAt: 1 });
    expect(m.flush().changed).toHaveLength(2);
    m.interaction({ userId: 'u', itemId: 'a', action: 'REMOVE', occurredAt: 2 });
    const r = m.flush();
    expect(r.removed).toEqual(['a']);
    expect(r.changed).toEqual([{ itemId: 'b', interactions: 1, neighbors: [] }]);
    expect(m.neighbors('a')).toBeUndefined();
    expect(m.flush()).toEqual({ changed: [], removed: [] });
  });

  it('drops a late interaction of a forgotten user and accepts a later one', () => {
    const m = new Model();
    m.interaction({ userId: 'u', itemId: 'a', action: 'ADD', occurredAt: 10 });
    m.forget({ userId: 'u', requestedAt: 20 });
    expect(m.interaction({ userId: 'u', itemId: 'b', action: 'ADD', occurredAt: 20 })).toBe(
      'suppressed-late',
    );
    expect(m.interaction({ userId: 'u', itemId: 'b', action: 'ADD', occurredAt: 21 })).toBe('applied');
    expect(m.items('u')).toEqual(['b']);
    expect(m.interaction({ userId: 'u', itemId: 'b', action: 'REMOVE', occurredAt: 15 })).toBe(
      'suppressed-late',
    );
  });

  it('lets tombstones expire after the retention', () => {
    const m = new Model({ tombstoneRetentionMs: 100 });
    m.forget({ userId: 'u', requestedAt: 1000 });
    expect(m.stats().tombstones).toBe(1);
    expect(m.expireTombstones(1099)).toBe(0);
    expect(m.expireTombstones(1100)).toBe(1);
    expect(m.interaction({ userId: 'u', itemId: 'a', action: 'ADD', occurredAt: 5 })).toBe('applied');
  });

  it('keeps no user id in its tombstones', () => {
    const m = new Model();
    m.interaction({ userId: 'alice@example.org', itemId: 'a', action: 'ADD', occurredAt: 1 });
    m.interaction({ userId: 'bob', itemId: 'a', action: 'ADD', occurredAt: 1 });
    m.forget({ userId: 'alice@example.org', requestedAt: 2 });
    m.flush();
    const state = m.exportState();
    expect(state.tombstones).toHaveLength(1);
    expect(JSON.stringify(state)).not.toContain('alice');
  });
});
