// PURGED means every running replica: with two instances on separate snapshot directories (as with a
// StatefulSet's per-pod volumes), a PURGED receipt is published only once neither directory holds a
// snapshot with the forgotten user — including a standby whose volume still carries snapshots from
// when it was active. Request → PURGED is bounded by one snapshot interval plus the confirmation.
import { randomUUID } from 'node:crypto';
import { copyFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { filesContaining, tempDirs } from '../helpers/files.js';
import { waitFor } from '../helpers/kafka.js';
import type { RefEvent } from '../helpers/oracle.js';
import { harness } from '../helpers/service.js';

const tempDir = tempDirs('amnesia-replica');

describe('PURGED with two replicas', () => {
  it('is published only after both snapshot directories are clean of the user', async () => {
    const h = await harness(2);
    const [dirA, dirB] = [await tempDir(), await tempDir()];
    const interval = 3_000;
    const victim = `victim-${randomUUID()}`;
    const t0 = Date.now() - 60_000;
    const events: RefEvent[] = [
      ...['i-a', 'i-b', 'i-c'].map((itemId, k) => ({
        userId: victim,
        itemId,
        action: 'ADD' as const,
        occurredAt: t0 + k,
      })),
      ...['i-a', 'i-b', 'i-d'].map((itemId, k) => ({
        userId: 'other',
        itemId,
        action: 'ADD' as const,
        occurredAt: t0 + 10 + k,
      })),
    ];
    const a = await h.start({ SNAPSHOT_DIR: dirA, SNAPSHOT_INTERVAL_MS: String(interval) });
    await a.waitUntilReady(30_000);
    await h.produceEvents(events, 'json');
    await h.waitProcessed();
    const held = await waitFor(async () => {
      // A finished snapshot, not one being written (its temporary file is renamed any moment).
      const files = (await filesContaining(dirA, victim)).filter((n) => !n.endsWith('.tmp'));
      return files.length > 0 ? files : undefined;
    }, 15_000);
    // B's volume still carries a snapshot with the victim (from when it was active, say).
    await copyFile(path.join(dirA, held![0]!), path.join(dirB, held![0]!));
    const b = await h.start({ SNAPSHOT_DIR: dirB, SNAPSHOT_INTERVAL_MS: String(interval) });
    await waitFor(() => b.phase === 'standby', 30_000);

    const requestId = `dsr-${randomUUID()}`;
    const requested = Date.now();
    await h.produceDeletions([{ requestId, userId: victim, requestedAt: requested }], 'json');
    const purged = await waitFor(async () => {
      const r = (await h.receipts()).get(requestId);
      if (r?.status !== 'PURGED') return undefined;
      // The moment PURGED is visible: neither directory holds the victim.
      return {
        r,
        inA: await filesContaining(dirA, victim),
        inB: await filesContaining(dirB, victim),
        at: Date.now(),
      };
    }, 60_000);
    if (!purged) throw new Error('no PURGED receipt');
    expect(purged.inA).toEqual([]);
    expect(purged.inB).toEqual([]);
    expect(b.phase).toBe('standby');
    // A standby holds no snapshot (only its tombstone key).
    expect((await readdir(dirB)).filter((n) => n.includes('snapshot'))).toEqual([]);
    expect(a.phase).toBe('live');
    // Bounded: one snapshot interval, B's start-up and confirmation, and the receipts read.
    expect(purged.at - requested).toBeLessThan(interval + 20_000);
    console.info(`request → PURGED with two replicas: ${purged.at - requested} ms (interval ${interval} ms)`);
    await b.stop();
    await a.stop();
  });
});
