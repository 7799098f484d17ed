// Property: duplicates of an event (same eventId) within the user's window never change the state.
// Any sequence of adds, removes and forgets, with copies of earlier events re-inserted while their
// eventId is among the user's last EVENT_DEDUP_WINDOW ones, gives the lists that the brute-force
// oracle computes from the sequence without the copies.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Model } from '../../src/model/index.js';
import { EventDedup, hash53 } from '../../src/input/dedup.js';
import { Intake, OutcomeCounts } from '../../src/input/intake.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { Outbox, OutputEncoder } from '../../src/output/outbox.js';
import { itemId } from '../helpers/model-ops.js';
import { Reference, type RefList } from '../helpers/oracle.js';

const WINDOW = 3;

type Ev =
  | { kind: 'add' | 'remove'; user: string; item: string; at: number; eventId: string }
  | { kind: 'forget'; user: string; at: number };

/** Events with unique eventIds, and the stream with duplicates of recent events of the same user. */
const streams = fc
  .tuple(
    fc.array(
      fc.oneof(
        {
          weight: 8,
          arbitrary: fc.record({
            kind: fc.constantFrom('add' as const, 'add' as const, 'remove' as const),
            u: fc.integer({ min: 0, max: 3 }),
            i: fc.integer({ min: 0, max: 6 }),
          }),
        },
        {
          weight: 1,
          arbitrary: fc.record({
            kind: fc.constant('forget' as const),
            u: fc.integer({ min: 0, max: 3 }),
            i: fc.constant(0),
          }),
        },
      ),
      { maxLength: 60 },
    ),
    fc.array(fc.tuple(fc.nat(), fc.nat({ max: WINDOW - 1 })), { maxLength: 30 }),
  )
  .map(([raw, dupSpecs]) => {
    const events: Ev[] = raw.map((r, k) =>
      r.kind === 'forget'
        ? { kind: 'forget', user: `u${r.u}`, at: 1_000 + k }
        : { kind: r.kind, user: `u${r.u}`, item: itemId(r.i), at: 1_000 + k, eventId: `e-${k}` },
    );
    // Insert each duplicate right after a later event of the same user, while fewer than WINDOW
    // other events of that user came after the original (and no forget of the user in between).
    const withDups: Ev[] = [];
    const recent = new Map<string, Ev[]>();
    const pending = [...dupSpecs];
    for (const e of events) {
      withDups.push(e);
      if (e.kind === 'forget') {
        recent.delete(e.user);
        continue;
      }
      const r = [...(recent.get(e.user) ?? []), e].slice(-WINDOW);
      recent.set(e.user, r);
      const spec = pending.shift();
      if (spec) {
        const original = r[r.length - 1 - (spec[1] % r.length)]!;
        withDups.push({ ...original });
      }
    }
    return { events, withDups };
  });

function intakeOver(model: Model): Intake {
  const metrics = createMetrics();
  return new Intake({
    model: () => model,
    registry: undefined,
    outbox: new Outbox({ similarities: 's', receipts: 'r' }, new OutputEncoder(undefined), metrics),
    metrics,
    dedupWindow: WINDOW,
    tombstoneKey: 'a-test-key-of-sixteen-chars-or-more',
  });
}

function run(evs: readonly Ev[]): Model {
  const model = new Model({ topK: 3 });
  const intake = intakeOver(model);
  const counts = new OutcomeCounts();
  for (const e of evs) {
    if (e.kind === 'forget')
      intake.forget({ requestId: `r-${e.at}`, userId: e.user, requestedAt: e.at }, e.at);
    else
      intake.interaction(
        {
          userId: e.user,
          itemId: e.item,
          action: e.kind === 'add' ? 'ADD' : 'REMOVE',
          occurredAt: e.at,
          eventId: e.eventId,
        },
        counts,
      );
  }
  model.flush();
  return model;
}

function lists(model: Model): Map<string, RefList> {
  const out = new Map<string, RefList>();
  for (const id of model.itemIds()) {
    const l = model.neighbors(id)!;
    out.set(id, {
      itemId: l.itemId,
      interactions: l.interactions,
      neighbors: l.neighbors.map((n) => ({ ...n })),
    });
  }
  return out;
}

describe('duplicate events by eventId', () => {
  it("never change the state: with copies inside the window, the lists are the oracle's without them", () => {
    fc.assert(
      fc.property(streams, ({ events, withDups }) => {
        const ref = new Reference();
        for (const e of events)
          ref.apply(e.kind === 'forget' ? e : { kind: e.kind, user: e.user, item: e.item, at: e.at });
        expect(lists(run(withDups))).toEqual(ref.lists(3, 1));
      }),
      { numRuns: 150 },
    );
  });

  it('are forgotten with the user, and survive a snapshot section', () => {
    const d = new EventDedup({ window: 2, maxUsers: 10, key: 'k' });
    d.note('u', 'a');
    d.note('u', 'b');
    d.note('u', 'c'); // a leaves the window
    expect([d.seen('u', 'a'), d.seen('u', 'b'), d.seen('u', 'c'), d.seen('v', 'c')]).toEqual([
      false,
      true,
      true,
      false,
    ]);
    const copy = new EventDedup({ window: 2, maxUsers: 10, key: 'k' });
    copy.import(d.export());
    expect([copy.seen('u', 'b'), copy.seen('u', 'c'), copy.seen('u', 'a')]).toEqual([true, true, false]);
    const smaller = new EventDedup({ window: 1, maxUsers: 10, key: 'k' });
    smaller.import(d.export());
    expect([smaller.seen('u', 'b'), smaller.seen('u', 'c')]).toEqual([false, true]);
    d.forget('u');
    expect(d.seen('u', 'c')).toBe(false);
    expect(hash53('abc')).toBe(hash53('abc'));
    expect(hash53('abc')).not.toBe(hash53('abd'));
  });
});
