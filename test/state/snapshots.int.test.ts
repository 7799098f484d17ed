// Snapshots in the running service (real broker): a forget reaches the disk (PURGED once no file
// holds the user, and no file does), and a restart restores the newest snapshot, replays only what
// came after it, re-publishes nothing unchanged and stays exact.
import { modelOf, snapshotStatus } from '../../src/service.js';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { filesContaining, tempDirs } from '../helpers/files.js';
import { waitFor } from '../helpers/kafka.js';
import { expectListsEventually, harness, waitForReceipts } from '../helpers/service.js';
import { bruteForceLists, survivingHistory, type RefEvent } from '../helpers/oracle.js';
import { scenario } from '../helpers/generator.js';

const tempDir = tempDirs('amnesia-svc');

describe('snapshots in the service', () => {
  it('forgetting reaches the disk: PURGED once no snapshot holds the user; a restart restores exactly', async () => {
    const h = await harness(3);
    const dir = await tempDir();
    const env = { SNAPSHOT_DIR: dir, SNAPSHOT_INTERVAL_MS: '1000' };
    const s = scenario({ seed: 7, users: 40, items: 25, events: 600, forget: 3 });
    const victim = `victim-${randomUUID()}`;
    // With eventIds: the window of eventIds must not bring the victim back into a snapshot (issue 21).
    const victimEvents: RefEvent[] = ['i-a', 'i-b', 'i-c', 'i-d'].map((itemId, k) => ({
      userId: victim,
      itemId,
      action: 'ADD',
      occurredAt: 1_700_000_000_000 + k,
      eventId: `${victim}-e${k}`,
    }));
    // A late event of the victim (before the request), arriving after PURGED: dropped, noted nowhere.
    const late = {
      userId: victim,
      itemId: 'i-e',
      action: 'ADD' as const,
      occurredAt: 1_700_000_000_010,
      eventId: 'late',
    };

    const a = await h.start(env);
    await a.waitUntilReady(30_000);
    await h.produceEvents([...s.before, ...victimEvents], 'json');
    await h.waitProcessed();
    // A snapshot holding the victim exists: the byte search below can see them.
    await waitFor(async () => ((await filesContaining(dir, victim)).length > 0 ? true : undefined), 15_000);

    const requestId = `dsr-${randomUUID()}`;
    const t0 = Date.now();
    // After every event of the scenario (t0 = 2023), within MAX_FUTURE_SKEW_MS of its record time.
    const victimRequestedAt = t0;
    await h.produceDeletions([{ requestId, userId: victim, requestedAt: victimRequestedAt }], 'json');
    await h.produceDeletions(s.deletions, 'json');
    const forgotten = await waitForReceipts(h, [requestId]);
    expect(forgotten.get(requestId)).toMatchObject({ interactionsRemoved: 4 });
    const purged = await waitFor(async () => {
      const r = (await h.receipts()).get(requestId);
      return r?.status === 'PURGED' ? r : undefined;
    }, 15_000);
    const purgeMs = Date.now() - t0;
    expect(purged).toMatchObject({ requestId, status: 'PURGED', interactionsRemoved: 4, itemsAffected: 4 });
    expect(JSON.stringify(purged)).not.toContain(victim);
    expect(await filesContaining(dir, victim)).toEqual([]);
    expect(purgeMs).toBeLessThan(1_000 + 5_000);
    const latency = await a.metrics.registry.getSingleMetricAsString(
      'amnesia_deletion_receipt_latency_seconds',
    );
    expect(latency).toMatch(/status="PURGED"/);
    expect(snapshotStatus(a)?.lastBytes).toBeGreaterThan(0);

    await h.produceEvents([...s.after, late], 'json');
    await h.waitProcessed();
    await a.stop(); // writes a final snapshot
    expect(await filesContaining(dir, victim)).toEqual([]);
    const outputs = [h.topics.similarities, h.topics.receipts];
    const before = await Promise.all(outputs.map((t) => h.endOffsets(t)));

    const b = await h.start(env);
    await b.waitUntilReady(30_000);
    expect(b.snapshots?.restoredFrom).toMatch(/^snapshot-\d{12}-\d{13}\.amnesia$/);
    await h.waitProcessed();
    // Restored at the final snapshot's offsets: nothing to replay, nothing re-published.
    expect(await Promise.all(outputs.map((t) => h.endOffsets(t)))).toEqual(before);
    expect(modelOf(b).hasUser(victim)).toBe(false);
    const deletions = [...s.deletions, { userId: victim, requestedAt: victimRequestedAt }];
    const all = [...s.before, ...victimEvents, ...s.after, late];
    await expectListsEventually(h, bruteForceLists(survivingHistory(all, deletions), 20, 1));

    // Input that arrives after the snapshot is replayed on top of it.
    const more: RefEvent[] = [
      { userId: 'newcomer', itemId: 'i-a', action: 'ADD', occurredAt: Date.now() },
      { userId: 'newcomer', itemId: 'i-b', action: 'ADD', occurredAt: Date.now() + 1 },
    ];
    await h.produceEvents(more, 'json');
    await h.waitProcessed();
    await b.stop();
    const newcomerC = Date.now();
    await h.produceEvents(
      [{ userId: 'newcomer', itemId: 'i-c', action: 'ADD', occurredAt: newcomerC }],
      'json',
    );
    const c = await h.start(env);
    await c.waitUntilReady(30_000);
    await h.waitProcessed();
    expect(modelOf(c).items('newcomer')).toEqual(['i-a', 'i-b', 'i-c']);
    const final = [
      ...all,
      ...more,
      { userId: 'newcomer', itemId: 'i-c', action: 'ADD' as const, occurredAt: newcomerC },
    ];
    await expectListsEventually(h, bruteForceLists(survivingHistory(final, deletions), 20, 1));
    await c.stop();
  });
});
