// Restarts: the state is rebuilt by replaying the inputs, and only what differs from the output
// topics is published — nothing at all when nothing changed while the service was down.
import { modelOf } from '../../src/service.js';
import { describe, expect, it } from 'vitest';
import { bruteForceLists, survivingHistory } from '../helpers/oracle.js';
import { scenario } from '../helpers/generator.js';
import { expectListsEventually, harness, waitForReceipts } from '../helpers/service.js';

describe('restarting the service', () => {
  it('re-publishes nothing that is unchanged, and catches up on what arrived while it was down', async () => {
    const h = await harness(3);
    const s = scenario({ seed: 21, users: 50, items: 30, events: 1_000, forget: 5 });
    const a = await h.start();
    await a.waitUntilReady(30_000);
    const ids = a.schemaIds;
    await h.produceEvents(s.before, 'mixed', ids);
    await h.produce(h.topics.interactions, [{ key: 'x', value: Buffer.from('not json') }]);
    await h.produceDeletions(s.deletions, 'mixed', ids);
    await waitForReceipts(
      h,
      s.deletions.map((d) => d.requestId),
    );
    await h.produceEvents(s.after, 'mixed', ids);
    await h.waitProcessed();
    await a.stop();

    const outputs = [h.topics.similarities, h.topics.receipts, `${h.topics.interactions}.dlq`];
    const before = await Promise.all(outputs.map((t) => h.endOffsets(t)));
    const b = await h.start();
    await b.waitUntilReady(30_000);
    await h.waitProcessed();
    expect(await Promise.all(outputs.map((t) => h.endOffsets(t)))).toEqual(before);
    const all = [...s.before, ...s.after];
    await expectListsEventually(h, bruteForceLists(survivingHistory(all, s.deletions), 20, 1));
    await b.stop();

    // Input that arrives while no instance runs is picked up, with its receipt, on the next start.
    const victim = s.before.find((e) => !s.deletions.some((d) => d.userId === e.userId))!.userId;
    // Event times within MAX_FUTURE_SKEW_MS of the record timestamps they get now.
    const now = Date.now();
    const more = [
      { userId: 'newcomer', itemId: 'i1', action: 'ADD' as const, occurredAt: now },
      { userId: 'newcomer', itemId: 'i2', action: 'ADD' as const, occurredAt: now + 1 },
    ];
    await h.produceEvents(more, 'json');
    const late = { requestId: 'while-down', userId: victim, requestedAt: now + 100 };
    await h.produceDeletions([late], 'json');
    const c = await h.start();
    await c.waitUntilReady(30_000);
    const receipts = await waitForReceipts(h, ['while-down']);
    expect(receipts.get('while-down')).toMatchObject({ status: 'FORGOTTEN' });
    expect(Number(receipts.get('while-down')!.interactionsRemoved)).toBeGreaterThan(0);
    expect(modelOf(c).items(victim)).toEqual([]);
    const deletions = [...s.deletions, late];
    await expectListsEventually(h, bruteForceLists(survivingHistory([...all, ...more], deletions), 20, 1));
    await c.stop();
  });
});
