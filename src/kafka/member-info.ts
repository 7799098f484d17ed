// What each group member tells the others in its subscription's userData: when it started, its
// instance id and since when it holds the active role. Read by the single mode's assigner and by
// the group-members port (kafkajs-ports.ts), which reports which instance holds what.
export interface MemberInfo {
  readonly startedAt: number;
  readonly instanceId: string;
  /** When this member was last given the active role (undefined: it does not hold it). */
  readonly activeSince?: number | undefined;
}

export function encodeMemberInfo(info: MemberInfo): Buffer {
  return Buffer.from(JSON.stringify(info));
}

export function decodeMemberInfo(userData: Buffer | undefined): MemberInfo | undefined {
  if (!userData || userData.length === 0) return undefined;
  try {
    const o = JSON.parse(userData.toString('utf8')) as Partial<MemberInfo>;
    if (typeof o.startedAt === 'number' && typeof o.instanceId === 'string') {
      const activeSince = typeof o.activeSince === 'number' ? o.activeSince : undefined;
      return {
        startedAt: o.startedAt,
        instanceId: o.instanceId,
        ...(activeSince !== undefined ? { activeSince } : {}),
      };
    }
  } catch {
    // another version of the protocol: treated as youngest
  }
  return undefined;
}
