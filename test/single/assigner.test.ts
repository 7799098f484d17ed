import { describe, expect, it } from 'vitest';
import { AssignerProtocol } from 'kafkajs';
import type { Cluster, Logger } from 'kafkajs';
import { decodeMemberInfo, encodeMemberInfo } from '../../src/kafka/member-info.js';
import { chooseActive, singleActiveAssigner } from '../../src/single/assigner.js';

describe('the single-active assigner', () => {
  it('picks the member that started first, then the lowest member id', () => {
    expect(
      chooseActive([
        { memberId: 'b', info: { startedAt: 5, instanceId: 'x' } },
        { memberId: 'a', info: { startedAt: 9, instanceId: 'y' } },
      ]),
    ).toBe('b');
    expect(
      chooseActive([
        { memberId: 'b', info: { startedAt: 5, instanceId: 'x' } },
        { memberId: 'a', info: { startedAt: 5, instanceId: 'y' } },
      ]),
    ).toBe('a');
    expect(
      chooseActive([
        { memberId: 'a', info: undefined },
        { memberId: 'z', info: { startedAt: 5, instanceId: 'y' } },
      ]),
    ).toBe('z');
    expect(chooseActive([])).toBeUndefined();
  });

  it('keeps the role with the member that took it last: a paused former active one does not take it back', () => {
    expect(
      chooseActive([
        { memberId: 'zombie', info: { startedAt: 1, instanceId: 'z', activeSince: 10 } },
        { memberId: 'taker', info: { startedAt: 5, instanceId: 't', activeSince: 50 } },
        { memberId: 'spare', info: { startedAt: 0, instanceId: 's' } },
      ]),
    ).toBe('taker');
    expect(
      chooseActive([
        { memberId: 'spare', info: { startedAt: 0, instanceId: 's' } },
        { memberId: 'active', info: { startedAt: 9, instanceId: 'a', activeSince: 20 } },
      ]),
    ).toBe('active');
  });

  it('round-trips its user data and tolerates foreign data', () => {
    expect(decodeMemberInfo(encodeMemberInfo({ startedAt: 1, instanceId: 'i' }))).toEqual({
      startedAt: 1,
      instanceId: 'i',
    });
    expect(decodeMemberInfo(Buffer.from('garbage'))).toBeUndefined();
    expect(decodeMemberInfo(Buffer.alloc(0))).toBeUndefined();
  });

  it('gives every partition of every topic to one member and nothing to the others', async () => {
    const cluster = {
      findTopicPartitionMetadata: (topic: string) =>
        topic === 'a' ? [{ partitionId: 1 }, { partitionId: 0 }, { partitionId: 2 }] : [{ partitionId: 0 }],
    } as unknown as Cluster;
    const mk = (startedAt: number) =>
      singleActiveAssigner(() => ({ startedAt, instanceId: String(startedAt) }))({
        cluster,
        groupId: 'g',
        logger: {} as Logger,
      });
    const old = mk(100);
    const young = mk(200);
    const members = [
      { memberId: 'm-young', memberMetadata: young.protocol({ topics: ['a', 'b'] }).metadata },
      { memberId: 'm-old', memberMetadata: old.protocol({ topics: ['a', 'b'] }).metadata },
    ];
    const result = await young.assign({ members, topics: ['a', 'b'] });
    const decoded = Object.fromEntries(
      result.map((r) => [
        r.memberId,
        AssignerProtocol.MemberAssignment.decode(r.memberAssignment)?.assignment,
      ]),
    );
    expect(decoded['m-old']).toEqual({ a: [0, 1, 2], b: [0] });
    expect(decoded['m-young']).toEqual({});
  });
});
