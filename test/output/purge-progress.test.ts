// PURGED and the replicas out of the group (issue 21 item 5). A paused or fenced ex-active is no
// member any more, but its disk still holds snapshots: PURGED waits while its announcement that it
// may hold them is within SNAPSHOT_HOLDER_LEASE_MS, and an instance that could not renew for a
// lease deletes its snapshots before it announces again.
import { describe, expect, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import { createLogger } from '../../src/log.js';
import { liveHolders, PurgeProgress, type Announcement } from '../../src/output/purge-progress.js';
import { Replicas } from '../../src/single/replicas.js';
import type { OffsetsPort } from '../../src/kafka/ports.js';

const LEASE = 60_000;
const log = createLogger('silent');
const said = (instanceId: string, holdsSnapshots: boolean, at: number): Announcement => ({
  instanceId,
  groupId: 'g',
  holdsSnapshots,
  at,
});

describe('the snapshot holders PURGED waits for', () => {
  it('counts every other replica with a live lease, in the group or not', () => {
    const board = [said('me', true, 0), said('paused-ex-active', true, 1_000), said('standby', false, 1_000)];
    expect(liveHolders(board, 'me', 1_000 + LEASE - 1, LEASE)).toEqual(['paused-ex-active']);
    expect(liveHolders(board, 'me', 1_000 + LEASE, LEASE)).toEqual([]);
  });

  it('the active instance does not confirm PURGED while an ex-active outside the group holds a lease', async () => {
    // The group: only the active instance. The board: the ex-active (paused past its session) still
    // announces it may hold snapshots. Before, only members were asked, and PURGED went out.
    let holders: string[] = ['paused-ex-active'];
    const offsets: OffsetsPort = {
      watermarks: () => Promise.resolve([]),
      committed: () => Promise.resolve([]),
      members: () => Promise.resolve([{ memberId: 'm1', instanceId: 'me', assigned: true }]),
    };
    const replicas = new Replicas({
      offsets,
      groupId: 'g',
      inputTopics: [],
      progress: {
        announce: () => Promise.resolve(),
        isClean: () => true,
        holdersBesides: () => holders,
      },
      instanceId: 'me',
      log,
      stopping: () => false,
    });
    expect(await replicas.othersHoldNoSnapshots()).toBe(false);
    holders = [];
    expect(await replicas.othersHoldNoSnapshots()).toBe(true);
  });

  it('an instance that could not renew for a lease deletes its snapshots before it announces again', async () => {
    let now = 1_000_000;
    const events: string[] = [];
    const kafka = {
      producer: () => ({
        connect: () => Promise.resolve(),
        disconnect: () => Promise.resolve(),
        send: (r: { messages: { value: string | null }[] }) => {
          const v = r.messages[0]!.value;
          events.push(
            v === null ? 'leave' : `announce ${String((JSON.parse(v) as Announcement).holdsSnapshots)}`,
          );
          return Promise.resolve([]);
        },
      }),
    } as unknown as Kafka;
    const board = new PurgeProgress({
      kafka,
      topic: 'progress',
      groupId: 'g',
      instanceId: 'me',
      log,
      leaseMs: LEASE,
      now: () => now,
      onLeaseLost: () => {
        events.push('snapshots deleted');
        return Promise.resolve();
      },
    });
    expect(board.holdsLease()).toBe(false); // nothing announced yet
    await board.announce(true);
    now += LEASE / 3;
    await board.renew(); // in time: nothing deleted
    expect(board.holdsLease()).toBe(true);
    now += LEASE + 1; // paused past its lease
    // As the other replicas see it: lapsed, so no snapshot may be written until renewed.
    expect(board.holdsLease()).toBe(false);
    await board.renew();
    expect(board.holdsLease()).toBe(true);
    expect(events).toEqual(['announce true', 'announce true', 'snapshots deleted', 'announce true']);
    await board.stop();
  });
});
