// Single active instance: a partition assigner that gives every partition of every subscribed
// topic to ONE member of the group and nothing to the others, which stand by. The model is one
// global state (C couples all users), so it cannot be split across instances; a standby takes
// over (rebuilding state) when the active member leaves or its session times out.
//
// The active member is the one that took the role most recently (userData carries when it was last
// given it): after a takeover, a paused or cut-off former active member that rejoins does not take
// the role back (which would cost two full rebuilds and fence the member that is working). Without
// any such member (a fresh start), the one that started first wins, so that a restarted consumer
// inside a running process (kafkajs restarts after a crash) wins back its role instead of handing
// the state over; ties break on the lowest memberId. Times are wall clocks of different hosts: a
// skew larger than a takeover (seconds) would be needed to pick the wrong one.
import type { PartitionAssigner } from 'kafkajs';
import { customAssigner } from '../kafka/assigner-kit.js';
import { decodeMemberInfo, encodeMemberInfo, type MemberInfo } from '../kafka/member-info.js';

export const SINGLE_ACTIVE_ASSIGNER = 'AmnesiaSingleActive';

/** Picks the active member: oldest start, then lowest memberId. Pure, for tests. */
/** Picks the active member: the latest given the role, else the oldest start, then the lowest memberId. Pure, for tests. */
export function chooseActive(
  members: readonly { memberId: string; info: MemberInfo | undefined }[],
): string | undefined {
  // Ranked by: holds the role (most recently given first), then started first, then memberId.
  const rank = (m: (typeof members)[number]): [number, number] => [
    -(m.info?.activeSince ?? -Infinity),
    m.info?.startedAt ?? Number.MAX_SAFE_INTEGER,
  ];
  let best: { memberId: string; rank: [number, number] } | undefined;
  for (const m of members) {
    const r = rank(m);
    const better =
      !best ||
      r[0] < best.rank[0] ||
      (r[0] === best.rank[0] &&
        (r[1] < best.rank[1] || (r[1] === best.rank[1] && m.memberId < best.memberId)));
    if (better) best = { memberId: m.memberId, rank: r };
  }
  return best?.memberId;
}

/** `info` is read at every join: it says whether (and since when) this member holds the role. */
export function singleActiveAssigner(info: () => MemberInfo): PartitionAssigner {
  return customAssigner({
    name: SINGLE_ACTIVE_ASSIGNER,
    userData: () => encodeMemberInfo(info()),
    plan(members, topics, partitions) {
      const active = chooseActive(
        members.map((m) => ({ memberId: m.memberId, info: decodeMemberInfo(m.userData) })),
      );
      const plan = new Map<string, Record<string, number[]>>();
      if (active === undefined) return plan;
      const assignment: Record<string, number[]> = {};
      for (const topic of topics) assignment[topic] = partitions(topic);
      return plan.set(active, assignment);
    },
  });
}
