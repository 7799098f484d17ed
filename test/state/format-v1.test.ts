// Snapshots written by version 1 of the format (before the model-state encoding was made explicit)
// keep restoring: the same lists, n, histories, query answers and later change reports.
//
// test/fixtures/snapshot-v1.bin was written once by the code at commit 62b8df0 (format version 1)
// and is never regenerated; snapshot-v1.expected.json holds what that code answered. The generator
// (not kept runnable): a Model({ topK: 2, tombstoneRetentionMs: 1e12 }); 90 ADDs of mulberry32(11)
// users `user-0..7` × items `item-0..15` (`item-3` spelt `é-3`); `ghost` adds `only-ghost`, `item-1`,
// `item-2`; `lonely` adds `gone-item`; flush(1000); forget ghost at 500 (its only item's slot is
// freed); `lonely` removes `gone-item` (freed slot) and adds `item-5`; `user-1` removes `item-4`;
// flush(2000); forget `user-2` at 700, who then comes back (late bound kept) with `item-9`,
// `item-10`; `newbie` adds `item-12`, `item-0`; flush(3000); encodeSnapshotToBuffer of exportState()
// with the offsets and purges below. The expected answers are the model's `neighbors`,
// `interactions`, `similarity`, `recommend`, `itemsOf` per id, then the outcomes of `later` applied to
// the same model and the report of flush(4000). The lists are checked here against the brute-force
// oracle as well, so the fixture cannot carry a wrong answer.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Model, type ChangeReport, type NeighborList } from '../../src/model/index.js';
import { decodeSnapshot, encodeSnapshotToBuffer, verifySnapshot } from '../../src/state/format.js';
import { bruteForceLists } from '../helpers/oracle.js';

interface Expected {
  settings: { topK: number; minCooccurrences: number };
  createdAt: number;
  offsets: unknown;
  purges: unknown;
  userIds: string[];
  histories: Record<string, string[]>;
  n: Record<string, number>;
  lists: Record<string, NeighborList | null>;
  similarities: Record<string, unknown>;
  recommendations: Record<string, unknown>;
  tombstones: number;
  later: {
    action: 'ADD' | 'REMOVE' | 'FORGET';
    userId: string;
    itemId: string;
    at: number;
    outcome: unknown;
  }[];
  laterReport: ChangeReport;
}

const fixture = (name: string) => new URL(`../fixtures/${name}`, import.meta.url);
const file = readFileSync(fixture('snapshot-v1.bin'));
const expected = JSON.parse(readFileSync(fixture('snapshot-v1.expected.json'), 'utf8')) as Expected;
const options = { ...expected.settings, tombstoneRetentionMs: 1e12 };

function restore(): Model {
  return Model.fromState(decodeSnapshot(file).state, options);
}

const byItem = (r: ChangeReport) => [...r.changed].sort((a, b) => (a.itemId < b.itemId ? -1 : 1));

describe('a version-1 snapshot', () => {
  it('is read with its header, offsets and pending purges', () => {
    expect(file.readUInt32LE(8)).toBe(1);
    const header = verifySnapshot(file);
    expect(header.counts.tombstones).toBe(expected.tombstones);
    const s = decodeSnapshot(file);
    expect(s.createdAt).toBe(expected.createdAt);
    expect(s.offsets).toEqual(expected.offsets);
    expect(s.purges).toEqual(expected.purges);
  });

  it('holds the brute-force lists of its histories (the fixture is right)', () => {
    const h = new Map(Object.entries(expected.histories).map(([u, items]) => [u, new Set(items)]));
    const want = bruteForceLists(h, expected.settings.topK, expected.settings.minCooccurrences);
    for (const [item, list] of Object.entries(expected.lists)) {
      const plain = list && {
        itemId: list.itemId,
        interactions: list.interactions,
        neighbors: list.neighbors,
      };
      expect(plain ?? undefined, item).toEqual(want.get(item));
    }
  });

  it('restores the same lists, n, histories and query answers', () => {
    const m = restore();
    expect(m.userIds()).toEqual(expected.userIds);
    for (const [user, items] of Object.entries(expected.histories))
      expect(m.itemsOf(user), user).toEqual([...items].sort());
    for (const [item, n] of Object.entries(expected.n)) expect(m.interactions(item), item).toBe(n);
    for (const [item, list] of Object.entries(expected.lists))
      expect(m.neighbors(item) ?? null, item).toEqual(list);
    for (const [pair, s] of Object.entries(expected.similarities)) {
      const [a, b] = pair.split('|') as [string, string];
      expect(m.similarity(a, b) ?? null, pair).toEqual(s);
    }
    for (const [user, recs] of Object.entries(expected.recommendations))
      expect(m.recommend(user, 5), user).toEqual(recs);
    expect(m.stats().tombstones).toBe(expected.tombstones);
  });

  it('gives the same outcomes and change report afterwards (late events of forgotten users dropped)', () => {
    const m = restore();
    for (const op of expected.later) {
      const got =
        op.action === 'FORGET'
          ? m.forget({ userId: op.userId, requestedAt: op.at })
          : m.interaction({ userId: op.userId, itemId: op.itemId, action: op.action, occurredAt: op.at });
      expect(got, `${op.action} ${op.userId} ${op.itemId}`).toEqual(op.outcome);
    }
    const report = m.flush(4000);
    expect(byItem(report)).toEqual(byItem(expected.laterReport));
    expect([...report.removed].sort()).toEqual([...expected.laterReport.removed].sort());
  });
});

describe('a version-1 snapshot read by this build', () => {
  it('takes slot order as arrival order and writes it back as version 2 unchanged', () => {
    const s = decodeSnapshot(file);
    for (const h of s.state.histories) expect([...h]).toEqual([...h].sort((a, b) => a - b));
    const again = decodeSnapshot(encodeSnapshotToBuffer({ ...s, state: restore().exportState() }));
    expect(again.state.userIds.map((u, k) => [u, [...again.state.histories[k]!]]).sort()).toEqual(
      s.state.userIds.map((u, k) => [u, [...s.state.histories[k]!]]).sort(),
    );
    const m = Model.fromState(again.state, options);
    for (const [item, list] of Object.entries(expected.lists))
      expect(m.neighbors(item) ?? null, item).toEqual(list);
  });
});
