// This instance among the group's replicas: whether another member went ahead of our state
// (committed offsets past our positions), whether we still hold the partitions (after our producer
// was fenced), and what we hold on disk — a standby holds no snapshot and says so on the progress
// board; an instance becoming active says it may hold some before it restores or writes any; PURGED
// waits until every other member has said it holds none (see purge-progress.ts).
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Snapshotter } from '../state/snapshotter.js';
import { othersWentAhead } from './membership.js';
import type { PartitionOffset } from '../kafka/partitions.js';
import type { OffsetsPort } from '../kafka/ports.js';
import type { ProgressBoard } from '../output/purge-progress.js';
import { retry } from '../kafka/retry.js';

export interface ReplicasDeps {
  readonly offsets: OffsetsPort;
  readonly groupId: string;
  readonly inputTopics: readonly string[];
  readonly snapshots?: Snapshotter | undefined;
  readonly progress?: ProgressBoard | undefined;
  /** This instance's id (in the group's member metadata and on the progress board). */
  readonly instanceId?: string | undefined;
  readonly log: Logger;
  readonly stopping: () => boolean;
}

export class Replicas {
  /** Our member id in the group (from the last join). */
  memberId: string | undefined;

  constructor(private readonly deps: ReplicasDeps) {}

  /** True when another member committed offsets ahead of our positions (it was active meanwhile). */
  async othersWentAhead(ours: readonly PartitionOffset[]): Promise<boolean> {
    const { offsets, groupId, inputTopics } = this.deps;
    const committed = await retry(() => offsets.committed(groupId, inputTopics), {
      attempts: 5,
      stopping: this.deps.stopping,
    });
    return othersWentAhead(committed, ours);
  }

  /** True when the group still gives us partitions (asked of the coordinator, retried while it is away). */
  async stillAssigned(): Promise<boolean> {
    const members = await retry(() => this.deps.offsets.members(this.deps.groupId), {
      stopping: this.deps.stopping,
      onRetry: (e) =>
        this.deps.log.warn({ err: describeError(e) }, 'group membership check failed, retrying'),
    });
    return members.some((m) => m.assigned && m.memberId === this.memberId);
  }

  /** Before restoring or writing any snapshot: PURGED elsewhere waits for us from now on. */
  async announceActive(): Promise<void> {
    await this.deps.progress?.announce(true);
  }

  /** A standby holds no snapshot: delete ours, then say so on the progress board. */
  async holdNoSnapshots(): Promise<void> {
    const { snapshots, progress } = this.deps;
    await retry(
      async () => {
        await snapshots?.dropAll();
        await progress?.announce(false);
      },
      {
        stopping: this.deps.stopping,
        onRetry: (e) =>
          this.deps.log.error({ err: describeError(e) }, 'standby: could not clear its snapshots, retrying'),
      },
    );
  }

  /**
   * True when every other current member of the group has announced that it holds no snapshot, and
   * no other replica — in the group or not (a paused or fenced ex-active) — holds a live lease.
   */
  async othersHoldNoSnapshots(): Promise<boolean> {
    const { progress, offsets, groupId, instanceId } = this.deps;
    if (!progress) return true;
    if (progress.holdersBesides(instanceId ?? '').length > 0) return false;
    const members = await offsets.members(groupId);
    return members.every(
      (m) => m.instanceId === undefined || m.instanceId === instanceId || progress.isClean(m.instanceId),
    );
  }
}
