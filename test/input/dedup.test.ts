// The eventId window (src/input/dedup.ts): bounded to the most recently noted users, keyed by user
// token, its snapshot section versioned, and an earlier build's section (keyed by raw user id)
// converted without carrying over users the snapshot no longer holds.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DEDUP_SECTION,
  EventDedup,
  hash53,
  LEGACY_DEDUP_SECTION,
  notesEventId,
} from '../../src/input/dedup.js';
import { Intake } from '../../src/input/intake.js';
import { Model } from '../../src/model/index.js';
import { Outbox, OutputEncoder } from '../../src/output/outbox.js';
import { SnapshotError } from '../../src/state/format.js';
import { createMetrics } from '../../src/telemetry/metrics.js';

const KEY = 'a-test-key-of-sixteen-chars-or-more';
const token = (userId: string) =>
  createHmac('sha256', KEY).update('amnesia-user\0').update(userId).digest('base64url').slice(0, 22);

/** A section as builds before issue 21 wrote it: u32 window, u32 users, per user id, next, ring. */
function legacySection(window: number, users: Record<string, string[]>): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(8);
  head.writeUInt32LE(window, 0);
  head.writeUInt32LE(Object.keys(users).length, 4);
  parts.push(head);
  for (const [id, events] of Object.entries(users)) {
    const name = Buffer.from(id, 'utf8');
    const body = Buffer.alloc(8 + name.length + window * 8);
    body.writeUInt32LE(name.length, 0);
    name.copy(body, 4);
    body.writeUInt32LE(events.length % window, 4 + name.length);
    for (let i = 0; i < window; i++)
      body.writeDoubleLE(i < events.length ? hash53(events[i]!) : -1, 8 + name.length + i * 8);
    parts.push(body);
  }
  return Buffer.concat(parts);
}

describe('the eventId window', () => {
  it('keeps the most recently noted EVENT_DEDUP_MAX_USERS users, dropping the least recent', () => {
    const d = new EventDedup({ window: 2, maxUsers: 2, key: KEY });
    d.note(token('a'), 'a1');
    d.note(token('b'), 'b1');
    d.note(token('a'), 'a2'); // a is now the most recent
    d.note(token('c'), 'c1'); // b goes
    expect([d.holds(token('a')), d.holds(token('b')), d.holds(token('c'))]).toEqual([true, false, true]);
    expect([d.seen(token('a'), 'a1'), d.seen(token('b'), 'b1')]).toEqual([true, false]);
    expect([d.users, d.evicted]).toEqual([2, 1]);
    // The order survives a snapshot: after a restore the next user drops a, the least recent.
    const copy = new EventDedup({ window: 2, maxUsers: 2, key: KEY });
    copy.import(d.export());
    copy.note(token('e'), 'e1');
    expect([copy.holds(token('a')), copy.holds(token('c')), copy.holds(token('e'))]).toEqual([
      false,
      true,
      true,
    ]);
  });

  it('keeps user ids only in memory beside their window, and drops them with it (evicted or forgotten)', () => {
    const d = new EventDedup({ window: 2, maxUsers: 2, key: KEY });
    for (const u of ['a', 'b', 'c']) d.note(d.tokenOf(u), `${u}1`, u); // a evicted
    expect([d.users, d.idsHeld, d.tokenOf('b')]).toEqual([2, 2, token('b')]);
    d.forget(d.tokenOf('b'), 'b');
    expect([d.users, d.idsHeld, d.holds(token('b'))]).toEqual([1, 1, false]);
  });

  it('keeps users under their token: the section holds no user id', () => {
    const d = new EventDedup({ window: 4, maxUsers: 10, key: KEY });
    d.note(d.tokenOf('alice@example.org'), 'x');
    expect(d.holds(token('alice@example.org'))).toBe(true);
    const bytes = Buffer.from(d.export());
    expect(bytes.includes(Buffer.from('alice@example.org'))).toBe(false);
    expect(bytes.includes(Buffer.from(token('alice@example.org')))).toBe(true);
  });

  it('refuses a section of an unknown version, and a truncated one, as an invalid snapshot', () => {
    const d = new EventDedup({ window: 2, maxUsers: 10, key: KEY });
    d.note(token('a'), 'a1');
    const bytes = Buffer.from(d.export());
    bytes.writeUInt32LE(3, 0);
    expect(() => d.import(bytes)).toThrow(SnapshotError);
    expect(() => d.import(bytes)).toThrow(/version 3/);
    expect(() => d.import(Buffer.from(d.export()).subarray(0, 20))).toThrow(/truncated/);
  });

  it("converts an earlier build's section to tokens, dropping the users the snapshot does not hold", () => {
    const section = legacySection(3, { keeper: ['k1', 'k2'], 'forgotten@example.org': ['g1'] });
    const d = new EventDedup({ window: 3, maxUsers: 10, key: KEY });
    expect(d.importLegacy(section, (u) => u === 'keeper')).toEqual({ kept: 1, dropped: 1 });
    expect([
      d.seen(token('keeper'), 'k1'),
      d.seen(token('keeper'), 'k2'),
      d.seen(token('keeper'), 'k3'),
    ]).toEqual([true, true, false]);
    expect(d.holds(token('forgotten@example.org'))).toBe(false);
    const out = Buffer.from(d.export());
    for (const id of ['keeper', 'forgotten@example.org']) expect(out.includes(Buffer.from(id))).toBe(false);
  });

  it('the intake reads either section and writes only the new one', async () => {
    const metrics = createMetrics();
    const model = new Model({ topK: 3 });
    model.interaction({ userId: 'keeper', itemId: 'i', action: 'ADD', occurredAt: 1 });
    const intake = new Intake({
      model: () => model,
      registry: undefined,
      outbox: new Outbox({ similarities: 's', receipts: 'r' }, new OutputEncoder(undefined), metrics),
      metrics,
      dedupWindow: 3,
      tombstoneKey: KEY,
    });
    intake.resetDedup({ [LEGACY_DEDUP_SECTION]: legacySection(3, { keeper: ['k1'], gone: ['g1'] }) }, (u) =>
      model.hasUser(u),
    );
    const written = intake.exportDedup();
    expect(Object.keys(written)).toEqual([DEDUP_SECTION]);
    expect(intake.dedupFigures.users).toBe(1);
    expect((await metrics.eventDedupUsers.get()).values[0]?.value).toBe(1);
    const again = new EventDedup({ window: 3, maxUsers: 10, key: KEY });
    again.import(written[DEDUP_SECTION]!);
    expect([again.seen(token('keeper'), 'k1'), again.holds(token('gone'))]).toEqual([true, false]);
  });

  it('notes every event the state accepted, never a late event of a forgotten user', () => {
    expect(['applied', 'duplicate', 'suppressed-late', 'suppressed_late'].map(notesEventId)).toEqual([
      true,
      true,
      false,
      false,
    ]);
  });
});
