// INTERACTION_TTL_MS in the model: the state after expiries does not depend on when they ran (a
// replay that refuses every ADD before the final cutoff holds the same), the times survive export
// and restore, a state kept without times is refused by a timed model, and the times are counted
// in the memory estimate.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Model } from '../../src/model/index.js';
import { applyToModel, ITEM_IDS, timedOpArb } from '../helpers/model-ops.js';

const timed = (cap = 10_000) =>
  new Model({ topK: 2, interactionTtlMs: 1, maxItemsPerUser: cap, tombstoneRetentionMs: 1e12 });

function content(m: Model): unknown {
  m.flush();
  const s = m.exportState();
  const users = s.userIds
    .map((id, k) => {
      const items = Array.from(s.histories[k]!, (i) => s.itemNames[i]);
      const times = Array.from(s.times![k]!);
      return [id, items.map((item, p) => [item, times[p]]).sort()] as const;
    })
    .filter(([, h]) => h.length > 0)
    .sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const lists = ITEM_IDS.map((i) => m.neighbors(i)).filter((l) => l !== undefined);
  return { users, lists: lists.map((l) => ({ ...l, updatedAt: undefined })) };
}

describe('INTERACTION_TTL_MS in the model', () => {
  it('expiring as it goes equals a replay that never saw what is before the final cutoff', () => {
    fc.assert(
      fc.property(timedOpArb(4, 8), fc.constantFrom(2, 3, 10_000), (ops, cap) => {
        const live = timed(cap);
        let cutoff = 0;
        for (const op of ops) {
          if (op.kind === 'expire') cutoff = op.at;
          if (op.kind === 'flush') live.flush();
          else applyToModel(live, op);
        }
        live.expireBefore(cutoff + 1);
        // The replay (a restart after the cutoff passed): every ADD before it refused on arrival.
        const replay = timed(cap);
        replay.expireBefore(cutoff + 1);
        for (const op of ops) if (op.kind !== 'expire') applyToModel(replay, op);
        expect(content(live)).toEqual(content(replay));
      }),
      { numRuns: 400 },
    );
  });

  it('a re-ADD keeps the later time; an ADD before the cutoff is expired, a REMOVE always applies', () => {
    const m = timed();
    const add = (itemId: string, occurredAt: number) =>
      m.interaction({ userId: 'u', itemId, action: 'ADD', occurredAt });
    expect(add('a', 10)).toBe('applied');
    expect(add('a', 30)).toBe('duplicate');
    expect(add('a', 20)).toBe('duplicate');
    expect(add('b', 5)).toBe('applied');
    expect(m.expireBefore(25)).toBe(1);
    expect(m.items('u')).toEqual(['a']);
    expect(add('b', 24)).toBe('expired');
    expect(m.interaction({ userId: 'u', itemId: 'a', action: 'REMOVE', occurredAt: 1 })).toBe('applied');
    expect(m.expireBefore(20)).toBe(0);
    m.flush();
    expect(m.hasUser('u')).toBe(false);
  });

  it('the times and the cutoff survive export and restore; a timed model refuses a state without times', () => {
    const m = timed();
    m.interaction({ userId: 'u', itemId: 'a', action: 'ADD', occurredAt: 40 });
    m.interaction({ userId: 'u', itemId: 'b', action: 'ADD', occurredAt: 50 });
    m.expireBefore(30);
    m.flush();
    const state = m.exportState();
    expect(state.settings.interactionTtlMs).toBe(1);
    const back = Model.fromState(state, m.options);
    expect(back.interaction({ userId: 'v', itemId: 'a', action: 'ADD', occurredAt: 29 })).toBe('expired');
    expect(back.expireBefore(45)).toBe(1);
    expect(back.items('u')).toEqual(['b']);
    const plain = new Model({ topK: 2 });
    plain.interaction({ userId: 'u', itemId: 'a', action: 'ADD', occurredAt: 40 });
    plain.flush();
    expect(() => Model.fromState(plain.exportState(), m.options)).toThrow(/without INTERACTION_TTL_MS/);
    // The other way round the times are simply not kept.
    expect(Model.fromState(state, { topK: 2 }).items('u')).toEqual(['a', 'b']);
  });

  it('counts 8 bytes more per interaction', () => {
    const on = timed();
    const off = new Model({ topK: 2, tombstoneRetentionMs: 1e12 });
    for (const m of [on, off])
      for (let k = 0; k < 100; k++)
        m.interaction({ userId: `u${k % 10}`, itemId: `i${k}`, action: 'ADD', occurredAt: k });
    expect(on.stats().bytes - off.stats().bytes).toBe(100 * 8);
  });
});
