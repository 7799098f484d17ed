// Delivering outputs and the input offsets that produced them. Records go out in produce requests
// of bounded size (well under the broker's default 1 MB message.max.bytes per partition request),
// acknowledged by all in-sync replicas, before the offsets are committed.
import type { CompressionTypes, Producer, TopicMessages } from 'kafkajs';
import { AmnesiaError } from '../errors.js';
import type { PartitionOffset } from './partitions.js';
import type { Outgoing, OutputSink } from './ports.js';

const MAX_REQUEST_BYTES = 512 * 1024;

/** Groups records into requests of at most MAX_REQUEST_BYTES (a bigger record goes alone). */
export function requests(records: readonly Outgoing[]): TopicMessages[][] {
  const out: TopicMessages[][] = [];
  let i = 0;
  while (i < records.length) {
    const byTopic = new Map<string, Outgoing['message'][]>();
    let bytes = 0;
    while (i < records.length && (bytes === 0 || bytes + records[i]!.bytes <= MAX_REQUEST_BYTES)) {
      const r = records[i++]!;
      bytes += r.bytes;
      let arr = byTopic.get(r.topic);
      if (!arr) byTopic.set(r.topic, (arr = []));
      arr.push(r.message);
    }
    out.push([...byTopic].map(([topic, messages]) => ({ topic, messages })));
  }
  return out;
}

export interface OffsetCommitter {
  commitOffsets(offsets: { topic: string; partition: number; offset: string }[]): Promise<void>;
}

/**
 * At-least-once: records acknowledged (idempotent producer, acks=all), then the group's offsets
 * committed by the consumer. A crash in between re-publishes the same keyed values (harmless on
 * compacted topics; a receipt may appear twice). A failed commit only leaves the group's offsets
 * behind (a restart re-reads a little more): it is reported, not retried with the records.
 */
export class AckedSink implements OutputSink {
  constructor(
    private readonly producer: Pick<Producer, 'sendBatch'>,
    private readonly committer: OffsetCommitter,
    private readonly onCommitFailure: (cause: unknown) => void,
    private readonly compression?: CompressionTypes,
  ) {}

  async deliver(records: readonly Outgoing[], offsets: readonly PartitionOffset[]): Promise<void> {
    try {
      for (const topicMessages of requests(records))
        await this.producer.sendBatch({
          topicMessages,
          acks: -1,
          ...(this.compression !== undefined ? { compression: this.compression } : {}),
        });
    } catch (cause) {
      throw new AmnesiaError('PUBLISH_FAILED', 'publishing outputs failed', { cause, retriable: true });
    }
    if (offsets.length === 0) return;
    try {
      await this.committer.commitOffsets(
        offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: String(o.offset) })),
      );
    } catch (cause) {
      this.onCommitFailure(cause);
    }
  }
}
