// Custom kafkajs partition assigners, the plumbing both modes share: every member announces its
// userData in the subscription; the leader decodes them, a plan (the mode's rule) says which
// partitions of which topics each member gets, and the result is encoded back. The rules live with
// their modes: single/assigner.ts (one active member), partitioned/assigner.ts (tasks).
import { AssignerProtocol, type Assigner, type PartitionAssigner } from 'kafkajs';

export interface MemberData {
  readonly memberId: string;
  /** The member's announced userData (empty when it sent none). */
  readonly userData: Buffer;
}

export interface AssignerRule {
  readonly name: string;
  /** What this member announces at every join. */
  readonly userData: () => Buffer;
  /**
   * The plan: per member, its assignment (topic → partitions; an empty object: nothing). `partitions`
   * lists each subscribed topic's partition ids in ascending order.
   */
  readonly plan: (
    members: readonly MemberData[],
    topics: readonly string[],
    partitions: (topic: string) => number[],
  ) => ReadonlyMap<string, Record<string, number[]>>;
}

export function customAssigner(rule: AssignerRule): PartitionAssigner {
  return ({ cluster }) => {
    const assigner: Assigner = {
      name: rule.name,
      version: 1,
      assign({ members, topics }) {
        const decoded = members.map((m) => ({
          memberId: m.memberId,
          userData: AssignerProtocol.MemberMetadata.decode(m.memberMetadata)?.userData ?? Buffer.alloc(0),
        }));
        const partitions = (topic: string) =>
          cluster
            .findTopicPartitionMetadata(topic)
            .map((p) => p.partitionId)
            .sort((a, b) => a - b);
        const plan = rule.plan(decoded, topics, partitions);
        return Promise.resolve(
          members.map((m) => ({
            memberId: m.memberId,
            memberAssignment: AssignerProtocol.MemberAssignment.encode({
              version: assigner.version,
              assignment: plan.get(m.memberId) ?? {},
              userData: Buffer.alloc(0),
            }),
          })),
        );
      },
      protocol({ topics }) {
        return {
          name: rule.name,
          metadata: AssignerProtocol.MemberMetadata.encode({
            version: assigner.version,
            topics,
            userData: rule.userData(),
          }),
        };
      },
    };
    return assigner;
  };
}
