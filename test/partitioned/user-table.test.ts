// The user stage's table follows the single mode's rules (checked against the oracle's Reference,
// with the per-user cap), and a table restored from its changelog — whole or compacted — holds the
// same users, arrival order, tombstones and eventId windows as the one that wrote it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { userToken } from '../../src/partitioned/ids.js';
import { UserTable, type ChangelogRecord } from '../../src/partitioned/user-table.js';
import { opArb, timedOpArb } from '../helpers/model-ops.js';
import { Reference } from '../helpers/oracle.js';

const KEY = 'a-test-key-of-sixteen-chars-or-more';
const tok = (u: string) => userToken(KEY, u);

function compact(log: readonly ChangelogRecord[]): ChangelogRecord[] {
  const last = new Map<string, string | null>();
  for (const r of log) {
    last.delete(r.key);
    last.set(r.key, r.value);
  }
  return [...last].filter(([, v]) => v !== null).map(([key, value]) => ({ key, value }));
}

const options = (cap: number, window = 0, ttl = 0) => ({
  maxItemsPerUser: cap,
  dedupWindow: window,
  tombstoneRetentionMs: 1e15,
  interactionTtlMs: ttl,
});

/** A table restored from `log`; with the TTL on, expired at `cutoff` (as UserTask.endRestore does). */
function restored(log: readonly ChangelogRecord[], cap: number, window = 0, ttl = 0, cutoff = -Infinity) {
  const t = new UserTable(options(cap, window, ttl));
  for (const r of log) t.restore(r.key, r.value);
  t.endRestore();
  expect(t.restoreRefusal()).toBeUndefined();
  expect(t.expireBefore(cutoff)).toBe(0);
  return t;
}

describe('the user table', () => {
  for (const timed of [false, true])
    it(`holds what the oracle holds, with the cap, across restores from its changelog${timed ? ' (INTERACTION_TTL_MS)' : ''}`, () => {
      fc.assert(
        fc.property(
          timed ? timedOpArb(5, 8) : fc.array(opArb(5, 8), { maxLength: 150 }),
          fc.integer({ min: 1, max: 4 }),
          fc.boolean(),
          fc.infiniteStream(fc.nat()),
          (ops, cap, compacted, stream) => {
            const it = stream[Symbol.iterator]();
            const ref = new Reference(cap, timed);
            const ttl = timed ? 1 : 0;
            let cutoff = -Infinity;
            let table = new UserTable(options(cap, 0, ttl));
            const log: ChangelogRecord[] = [];
            let marker = 0;
            for (const op of ops) {
              const expected = ref.apply(op);
              if (op.kind === 'flush') {
                log.push(...table.takeChunk().changelog);
                if ((it.next().value as number) % 3 === 0)
                  table = restored(compacted ? compact(log) : log, cap, 0, ttl, cutoff);
                continue;
              }
              if (op.kind === 'expire') {
                cutoff = op.at;
                expect(String(table.expireBefore(op.at))).toBe(expected);
              } else if (op.kind === 'forget')
                expect(String(table.forget(tok(op.user), op.at, marker++))).toBe(expected);
              else {
                const outcome = table.interaction(tok(op.user), {
                  itemId: op.item,
                  action: op.kind === 'add' ? 'ADD' : 'REMOVE',
                  occurredAt: op.at,
                });
                expect(outcome).toBe(expected === 'suppressed-late' ? 'suppressed_late' : expected);
              }
            }
            log.push(...table.takeChunk().changelog);
            const again = restored(compacted ? compact(log) : log, cap, 0, ttl, cutoff);
            for (const u of ['user-0', 'user-1', 'user-2', 'user-3', 'user-4']) {
              const want = [...(ref.H.get(u) ?? [])];
              // Arrival order survives (the cap evicts the oldest).
              expect(table.itemsOf(tok(u)).sort(), u).toEqual([...want].sort());
              expect(again.itemsOf(tok(u)).sort(), `${u} restored`).toEqual([...want].sort());
            }
          },
        ),
        { numRuns: 300 },
      );
    });

  it('INTERACTION_TTL_MS: a changelog written with the TTL off is refused by a table with it on, naming it', () => {
    const off = new UserTable(options(100));
    off.interaction(tok('u'), { itemId: 'a', action: 'ADD', occurredAt: 5 });
    const log = off.takeChunk().changelog;
    const on = new UserTable(options(100, 0, 1_000));
    for (const r of log) on.restore(r.key, r.value);
    on.endRestore(10);
    expect(on.restoreRefusal()).toMatch(/^INTERACTION_TTL_MS is on but the users changelog/);
    // The other way round the times are simply not kept.
    const timed = new UserTable(options(100, 0, 1_000));
    timed.interaction(tok('u'), { itemId: 'a', action: 'ADD', occurredAt: 5 });
    const back = restored(timed.takeChunk().changelog, 100);
    expect(back.itemsOf(tok('u'))).toEqual(['a']);
  });

  it('INTERACTION_TTL_MS: an ADD past the cutoff leaves nothing behind, not even its eventId', () => {
    const table = new UserTable(options(100, 2, 1_000), 10_000);
    const e = { itemId: 'a', action: 'ADD' as const, occurredAt: 8_999, eventId: 'e1' };
    expect(table.interaction(tok('u'), e)).toBe('expired');
    expect(table.size.users).toBe(0);
    expect(table.takeChunk().changelog).toEqual([]);
  });

  it('drops a repeated eventId of the same user, also after a restore; forgetting drops the window', () => {
    const table = new UserTable({ maxItemsPerUser: 100, dedupWindow: 2, tombstoneRetentionMs: 1e15 });
    const e = (itemId: string, action: 'ADD' | 'REMOVE', eventId: string) => ({
      itemId,
      action,
      occurredAt: 10,
      eventId,
    });
    expect(table.interaction(tok('u'), e('a', 'ADD', 'e1'))).toBe('applied');
    expect(table.interaction(tok('u'), e('a', 'REMOVE', 'e2'))).toBe('applied');
    expect(table.interaction(tok('u'), e('a', 'ADD', 'e1'))).toBe('duplicate_event');
    expect(table.interaction(tok('v'), e('a', 'ADD', 'e1'))).toBe('applied');
    const log = table.takeChunk().changelog;
    const again = restored(log, 100, 2);
    expect(again.interaction(tok('u'), e('b', 'ADD', 'e2'))).toBe('duplicate_event');
    expect(again.interaction(tok('u'), e('b', 'ADD', 'e3'))).toBe('applied');
    // The window holds the last two: e1 fell out.
    expect(again.interaction(tok('u'), e('c', 'ADD', 'e1'))).toBe('applied');
    again.forget(tok('u'), 5, 0);
    expect(again.interaction(tok('u'), e('d', 'ADD', 'e3'))).toBe('applied');
  });

  it('expires tombstones after the retention; the changelog forgets them too', () => {
    const table = new UserTable({ maxItemsPerUser: 100, dedupWindow: 0, tombstoneRetentionMs: 1_000 });
    table.forget(tok('u'), 5_000, 0);
    const log = table.takeChunk().changelog;
    expect(log.some((r) => r.key === `t${tok('u')}` && r.value === '5000')).toBe(true);
    expect(table.interaction(tok('u'), { itemId: 'a', action: 'ADD', occurredAt: 4_000 })).toBe(
      'suppressed_late',
    );
    expect(table.expireTombstones(6_000)).toBe(1);
    log.push(...table.takeChunk().changelog);
    expect(log.at(-1)).toEqual({ key: `t${tok('u')}`, value: null });
    expect(restored(log, 100).size.tombstones).toBe(0);
    expect(table.interaction(tok('u'), { itemId: 'a', action: 'ADD', occurredAt: 4_000 })).toBe('applied');
  });

  it("a forgotten user's late event with an eventId re-creates no record, in the table or its changelog", () => {
    const table = new UserTable({ maxItemsPerUser: 100, dedupWindow: 2, tombstoneRetentionMs: 1e15 });
    const u = tok('gone');
    table.interaction(u, { itemId: 'a', action: 'ADD', occurredAt: 1, eventId: 'e1' });
    table.forget(u, 10, 0);
    const log = table.takeChunk().changelog;
    expect(table.interaction(u, { itemId: 'b', action: 'ADD', occurredAt: 5, eventId: 'e2' })).toBe(
      'suppressed_late',
    );
    expect(table.size.users).toBe(0);
    const late = table.takeChunk().changelog;
    expect(late).toEqual([]);
    // Compacted, only the tombstone names the token.
    const live = new Map<string, string | null>();
    for (const r of [...log, ...late]) live.set(r.key, r.value);
    const named = [...live].filter(([k, v]) => v !== null && (k + v).includes(u)).map(([k]) => k);
    expect(named).toEqual([`t${u}`]);
  });

  it('never writes a user id into its changelog', () => {
    const table = new UserTable({ maxItemsPerUser: 100, dedupWindow: 2, tombstoneRetentionMs: 1e15 });
    table.interaction(tok('alice@example.org'), { itemId: 'i1', action: 'ADD', occurredAt: 1, eventId: 'x' });
    table.forget(tok('bob@example.org'), 1, 0);
    for (const r of table.takeChunk().changelog) {
      expect(r.key + (r.value ?? '')).not.toContain('alice');
      expect(r.key + (r.value ?? '')).not.toContain('bob');
    }
  });
});
