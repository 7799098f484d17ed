// The deletion lane: a second consumer that reads only the deletion-request topic, so that a
// request is applied as soon as it is written — not after the interaction batches the group
// consumer fetched before it, nor after the next fetch of a busy consumer (kafkajs fetches again only
// once every batch of the previous fetch has been handled). Its batches enter the engine's serial
// queue as `urgent` (kafka/serial-queue.ts): they run right after the task running now, ahead of
// the interaction batches and timed flushes waiting.
//
// The lane is an accelerator, never the only way in: the group consumer reads the same records,
// commits their offsets with the outputs, and whichever of the two comes first applies a record (the
// other finds it below the position). The lane applies nothing unless the engine is live and holds
// the partition; it starts at the engine's positions (at its group's join, and sought back there
// whenever it fetched past them), joins a throwaway group of its own (never committed, deleted at
// stop) and, if it fails, logs it and leaves the deletions to the group consumer.
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Config } from '../config.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { consumerSettings } from '../kafka/client.js';
import { batchControl, consumerPort, inputBatch } from '../kafka/kafkajs-ports.js';
import type { BatchControl, ConsumerPort, InputBatch } from '../kafka/ports.js';
import type { PartitionOffset } from '../kafka/partitions.js';
import { deleteGroup } from '../kafka/reader.js';

/** What the lane needs of the engine. */
export interface LaneHost {
  attachLane(lane: ConsumerPort): void;
  laneBatchOf(batch: InputBatch, ctl: BatchControl): Promise<void>;
  deletionPositions(): PartitionOffset[];
}

/** The lane's fetch wait: short, so that a request waits little for its fetch. */
const LANE_FETCH_WAIT_MS = 20;

export class DeletionLane {
  private consumer: Consumer | undefined;
  readonly groupId: string;

  constructor(
    private readonly o: {
      readonly kafka: Kafka;
      readonly config: Config;
      readonly instanceId: string;
      readonly host: LaneHost;
      readonly log: Logger;
    },
  ) {
    this.groupId = `${o.config.kafka.groupId}-deletion-lane-${o.instanceId}`;
  }

  async start(): Promise<void> {
    const { kafka, config, host, log } = this.o;
    const topic = config.topics.deletions;
    const c = kafka.consumer({
      ...consumerSettings(config),
      groupId: this.groupId,
      maxWaitTimeInMs: LANE_FETCH_WAIT_MS,
    });
    this.consumer = c;
    c.on(c.events.GROUP_JOIN, () => {
      // Before the generation's first fetch: start where the engine is.
      for (const at of host.deletionPositions())
        if (at.topic === topic) c.seek({ ...at, offset: String(at.offset) });
    });
    c.on(c.events.CRASH, (e) => {
      const { error, restart } = e.payload as { error: unknown; restart: boolean };
      log.warn(
        { err: describeError(error), restart },
        restart
          ? 'deletion lane consumer restarting'
          : 'deletion lane stopped: deletion requests are read by the group consumer only',
      );
    });
    host.attachLane(consumerPort(c));
    await c.connect();
    await c.subscribe({ topics: [topic], fromBeginning: false });
    await c.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload: EachBatchPayload) => host.laneBatchOf(inputBatch(payload), batchControl(payload)),
    });
    log.info({ groupId: this.groupId }, 'deletion lane started');
  }

  async stop(): Promise<void> {
    const c = this.consumer;
    if (!c) return;
    this.consumer = undefined;
    await c.disconnect().catch(() => undefined);
    await deleteGroup(this.o.kafka, this.groupId);
  }
}
