// The partitioned mode's partition assigner: a task is one partition number, and partition t of
// every topic the stage subscribes to (its inputs, its acks, its changelog) goes to the member that
// holds task t — co-partitioned topics stay together. Balanced (every member gets ⌊T/N⌋ or ⌈T/N⌉
// tasks) and sticky: each member announces the tasks it holds (member userData) and keeps them up
// to its share, so an instance joining takes tasks from the others and one leaving hands its tasks
// out, while every other task stays where its state is.
import { AssignerProtocol, type Admin, type PartitionAssigner } from 'kafkajs';
import { customAssigner } from '../kafka/assigner-kit.js';

export const TASK_ASSIGNER = 'AmnesiaTasks';

export interface TaskMemberInfo {
  readonly instanceId: string;
  /** Tasks held when joining. */
  readonly owned: readonly number[];
}

export function decodeTaskMember(userData: Buffer | undefined): TaskMemberInfo | undefined {
  if (!userData || userData.length === 0) return undefined;
  try {
    const o = JSON.parse(userData.toString('utf8')) as Partial<TaskMemberInfo>;
    if (typeof o.instanceId === 'string' && Array.isArray(o.owned))
      return { instanceId: o.instanceId, owned: o.owned.filter((t) => Number.isInteger(t)) };
  } catch {
    // another protocol version: owns nothing
  }
  return undefined;
}

/** Tasks 0..tasks-1 over the members: balanced, keeping owned tasks where the shares allow. Pure. */
export function assignTasks(
  tasks: number,
  members: readonly { memberId: string; owned: readonly number[] }[],
): Map<string, number[]> {
  const out = new Map<string, number[]>();
  if (members.length === 0) return out;
  const order = [...members].sort(
    (a, b) => b.owned.length - a.owned.length || (a.memberId < b.memberId ? -1 : 1),
  );
  const base = Math.floor(tasks / order.length);
  const extra = tasks % order.length;
  const share = new Map(order.map((m, k) => [m.memberId, base + (k < extra ? 1 : 0)]));
  const taken = new Set<number>();
  for (const m of order) {
    const mine: number[] = [];
    for (const t of [...m.owned].sort((a, b) => a - b)) {
      if (mine.length >= share.get(m.memberId)! || t < 0 || t >= tasks || taken.has(t)) continue;
      mine.push(t);
      taken.add(t);
    }
    out.set(m.memberId, mine);
  }
  let k = 0;
  for (let t = 0; t < tasks; t++) {
    if (taken.has(t)) continue;
    while (
      out.get(order[k % order.length]!.memberId)!.length >= share.get(order[k % order.length]!.memberId)!
    )
      k++;
    out.get(order[k % order.length]!.memberId)!.push(t);
    k++;
  }
  for (const list of out.values()) list.sort((a, b) => a - b);
  return out;
}

/** The assigner for one stage; `info()` is read at every join (the tasks held change). */
export function taskAssigner(info: () => TaskMemberInfo): PartitionAssigner {
  return customAssigner({
    name: TASK_ASSIGNER,
    userData: () => Buffer.from(JSON.stringify(info())),
    plan(members, topics, partitions) {
      const counts = topics.map((t) => partitions(t).length);
      const tasks = counts.length === 0 ? 0 : Math.min(...counts);
      const owned = members.map((m) => ({
        memberId: m.memberId,
        owned: decodeTaskMember(m.userData)?.owned ?? [],
      }));
      const plan = new Map<string, Record<string, number[]>>();
      for (const [memberId, mine] of assignTasks(tasks, owned)) {
        if (mine.length === 0) continue;
        const assignment: Record<string, number[]> = {};
        for (const topic of topics) assignment[topic] = [...mine];
        plan.set(memberId, assignment);
      }
      return plan;
    },
  });
}

/**
 * Asks the group coordinator whether member `memberId` of `groupId` still holds `partition` of
 * `topic` (false when it cannot tell).
 */
export async function holdsPartition(
  admin: Admin,
  groupId: string,
  memberId: string | undefined,
  topic: string,
  partition: number,
): Promise<boolean> {
  try {
    const { groups } = await admin.describeGroups([groupId]);
    const me = groups[0]?.members.find((m) => m.memberId === memberId);
    if (!me) return false;
    const a = AssignerProtocol.MemberAssignment.decode(me.memberAssignment);
    return (a?.assignment[topic] ?? []).includes(partition);
  } catch {
    return false;
  }
}
