// Single active instance: a partition assigner that gives every partition of every subscribed
// topic to ONE member of the group and nothing to the others, which stand by. The model is one
// global state (C couples all users), so it cannot be split across instances; a standby takes
// over (rebuilding state) when the active member leaves or its session times out.
//
// The active member is the one that started first (userData carries its start time), so a
// restarted consumer inside a running process (kafkajs restarts after a crash) wins back its
// role instead of handing the state over; ties break on the lowest memberId.
import { AssignerProtocol, type Assigner, type PartitionAssigner } from 'kafkajs';

export const SINGLE_ACTIVE_ASSIGNER = 'AmnesiaSingleActive';

export interface MemberInfo {
  readonly startedAt: number;
  readonly instanceId: string;
}

export function encodeMemberInfo(info: MemberInfo): Buffer {
  return Buffer.from(JSON.stringify(info));
}

export function decodeMemberInfo(userData: Buffer | undefined): MemberInfo | undefined {
  if (!userData || userData.length === 0) return undefined;
  try {
    const o = JSON.parse(userData.toString('utf8')) as Partial<MemberInfo>;
    if (typeof o.startedAt === 'number' && typeof o.instanceId === 'string') {
      return { startedAt: o.startedAt, instanceId: o.instanceId };
    }
  } catch {
    // another version of the protocol: treated as youngest
  }
  return undefined;
}

/** Picks the active member: oldest start, then lowest memberId. Pure, for tests. */
export function chooseActive(
  members: readonly { memberId: string; info: MemberInfo | undefined }[],
): string | undefined {
  let best: { memberId: string; startedAt: number } | undefined;
  for (const m of members) {
    const startedAt = m.info?.startedAt ?? Number.MAX_SAFE_INTEGER;
    if (!best || startedAt < best.startedAt || (startedAt === best.startedAt && m.memberId < best.memberId)) {
      best = { memberId: m.memberId, startedAt };
    }
  }
  return best?.memberId;
}

export function singleActiveAssigner(info: MemberInfo): PartitionAssigner {
  return ({ cluster }) => {
    const assigner: Assigner = {
      name: SINGLE_ACTIVE_ASSIGNER,
      version: 1,
      assign({ members, topics }) {
        const decoded = members.map((m) => ({
          memberId: m.memberId,
          info: decodeMemberInfo(AssignerProtocol.MemberMetadata.decode(m.memberMetadata)?.userData),
        }));
        const active = chooseActive(decoded);
        const assignment: Record<string, number[]> = {};
        for (const topic of topics) {
          assignment[topic] = cluster
            .findTopicPartitionMetadata(topic)
            .map((p) => p.partitionId)
            .sort((a, b) => a - b);
        }
        return Promise.resolve(
          members.map((m) => ({
            memberId: m.memberId,
            memberAssignment: AssignerProtocol.MemberAssignment.encode({
              version: assigner.version,
              assignment: m.memberId === active ? assignment : {},
              userData: Buffer.alloc(0),
            }),
          })),
        );
      },
      protocol({ topics }) {
        return {
          name: SINGLE_ACTIVE_ASSIGNER,
          metadata: AssignerProtocol.MemberMetadata.encode({
            version: assigner.version,
            topics,
            userData: encodeMemberInfo(info),
          }),
        };
      },
    };
    return assigner;
  };
}
