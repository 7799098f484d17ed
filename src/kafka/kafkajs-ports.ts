// kafkajs behind the engine's ports (ports.ts): the consumer's seek/pause/resume, the admin's offset
// queries, and a kafkajs eachBatch payload as an InputBatch plus its BatchControl.
import { AssignerProtocol, type Admin, type Consumer, type EachBatchPayload } from 'kafkajs';
import { decodeMemberInfo } from './member-info.js';
import type {
  BatchControl,
  ConsumerPort,
  GroupMember,
  InputBatch,
  OffsetsPort,
  Watermarks,
} from './ports.js';
import type { PartitionOffset } from './partitions.js';

export function consumerPort(consumer: Pick<Consumer, 'seek' | 'pause' | 'resume'>): ConsumerPort {
  return {
    seek: (at) => consumer.seek({ topic: at.topic, partition: at.partition, offset: String(at.offset) }),
    pause: (topics) => consumer.pause(topics.map((topic) => ({ topic }))),
    resume: (topics) => consumer.resume(topics.map((topic) => ({ topic }))),
  };
}

export function offsetsPort(
  admin: Pick<Admin, 'fetchTopicOffsets' | 'fetchOffsets' | 'describeGroups'>,
): OffsetsPort {
  return {
    async watermarks(topic): Promise<Watermarks[]> {
      const offsets = await admin.fetchTopicOffsets(topic);
      return offsets.map((o) => ({
        topic,
        partition: o.partition,
        low: Number(o.low),
        high: Number(o.high),
      }));
    },
    async committed(groupId, topics): Promise<PartitionOffset[]> {
      if (topics.length === 0) return [];
      const out: PartitionOffset[] = [];
      for (const t of await admin.fetchOffsets({ groupId, topics: [...topics] }))
        for (const p of t.partitions) {
          const offset = Number(p.offset);
          if (offset >= 0) out.push({ topic: t.topic, partition: p.partition, offset });
        }
      return out;
    },
    async members(groupId): Promise<GroupMember[]> {
      const { groups } = await admin.describeGroups([groupId]);
      return (groups[0]?.members ?? []).map((m) => {
        const a = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
        const meta =
          m.memberMetadata.length > 0 ? AssignerProtocol.MemberMetadata.decode(m.memberMetadata) : null;
        return {
          memberId: m.memberId,
          instanceId: decodeMemberInfo(meta?.userData)?.instanceId,
          assigned: a !== null && Object.values(a.assignment).some((parts) => parts.length > 0),
        };
      });
    },
  };
}

/** The batch of a kafkajs eachBatch payload. */
export function inputBatch(payload: EachBatchPayload): InputBatch {
  const { batch } = payload;
  // kafkajs keeps the offset it asked for on the batch (not in its typings).
  const fetched = (batch as { fetchedOffset?: string }).fetchedOffset ?? batch.firstOffset();
  return {
    topic: batch.topic,
    partition: batch.partition,
    highWatermark: Number(batch.highWatermark),
    fetchedOffset: fetched === null ? undefined : Number(fetched),
    messages: batch.messages,
    lastOffset: Number(batch.lastOffset()),
  };
}

/** What a handler may do with a kafkajs eachBatch payload. */
export function batchControl(payload: EachBatchPayload): BatchControl {
  return {
    resolveOffset: (offset) => payload.resolveOffset(String(offset)),
    heartbeat: () => payload.heartbeat(),
    isRunning: () => payload.isRunning(),
    isStale: () => payload.isStale(),
  };
}
