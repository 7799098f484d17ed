// Single active instance: with two instances in one group, one holds every partition and the
// other stands by; when the active one leaves, the standby rebuilds and takes over, outputs exact.
import { modelOf } from '../../src/service.js';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/kafka.js';
import { bruteForceLists, survivingHistory } from '../helpers/oracle.js';
import { scenario } from '../helpers/generator.js';
import { expectListsEventually, harness, waitForReceipts } from '../helpers/service.js';

describe('two instances in one group', () => {
  it('one is active, the other stands by and takes over when it stops', async () => {
    const h = await harness(3);
    const s = scenario({ seed: 33, users: 50, items: 30, events: 1_000, forget: 5 });
    const a = await h.start();
    await a.waitUntilReady(30_000);
    const stateOfA = modelOf(a);
    const b = await h.start();
    await waitFor(() => b.phase === 'standby', 30_000);
    expect(a.phase).toBe('live');
    expect(modelOf(a)).toBe(stateOfA); // kept its state through the rebalance
    expect(b.isReady()).toBe(false);

    await h.produceEvents(s.before, 'mixed', a.schemaIds);
    await h.produceDeletions(s.deletions, 'mixed', a.schemaIds);
    await waitForReceipts(
      h,
      s.deletions.map((d) => d.requestId),
    );
    await h.waitProcessed();
    expect(b.phase).toBe('standby');
    await expectListsEventually(h, bruteForceLists(survivingHistory(s.before, s.deletions), 20, 1));

    const ends = await h.endOffsets(h.topics.similarities);
    await a.stop();
    await b.waitUntilReady(30_000);
    // the takeover re-derived the same lists: nothing re-published
    expect(await h.endOffsets(h.topics.similarities)).toEqual(ends);

    await h.produceEvents(s.after, 'mixed', a.schemaIds);
    await h.waitProcessed();
    await expectListsEventually(
      h,
      bruteForceLists(survivingHistory([...s.before, ...s.after], s.deletions), 20, 1),
    );
    for (const d of s.deletions) {
      expect(
        modelOf(b)
          .items(d.userId)
          .every((i) => s.after.some((e) => e.userId === d.userId && e.itemId === i)),
      ).toBe(true);
    }
    await b.stop();
  });
});
