// Group membership decisions: what a new assignment means for this instance. Pure functions, so the
// rules are unit-tested without a group:
// - nothing assigned: stand by (hold no state);
// - the same partitions again while live (another member joined or left): keep the state, but only
//   after checking that no other member moved the group's offsets meanwhile (then it was active
//   while we were paused or cut off, and our state is stale);
// - anything else: rebuild (restore a snapshot, replay, reconcile).
import { samePartitions, type PartitionOffset, type TopicPartition } from '../kafka/partitions.js';

export type JoinDecision = 'standby' | 'keep' | 'rebuild';

export function decideOnJoin(
  live: boolean,
  held: readonly TopicPartition[],
  assigned: readonly TopicPartition[],
): JoinDecision {
  if (assigned.length === 0) return 'standby';
  if (live && samePartitions(assigned, held)) return 'keep';
  return 'rebuild';
}

/** True when a committed offset of the group is ahead of our position: someone else went on. */
export function othersWentAhead(
  committed: readonly PartitionOffset[],
  ours: readonly PartitionOffset[],
): boolean {
  return committed.some((c) => {
    const mine = ours.find((o) => o.topic === c.topic && o.partition === c.partition);
    return mine !== undefined && c.offset > mine.offset;
  });
}
