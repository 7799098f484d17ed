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

/** A batch the lane read, waiting for its turn in the engine's serial queue. */
export interface LaneBatch {
  readonly batch: InputBatch;
  readonly ctl: BatchControl;
}

/** What the lane needs of the engine. */
export interface LaneHost {
  attachLane(lane: ConsumerPort): void;
  /** Queues one urgent task that applies the batches `take()` returns when it starts. */
  laneBatchesOf(take: () => readonly LaneBatch[]): Promise<void>;
  deletionPositions(): PartitionOffset[];
}

/** Whether `next` continues `prev` (same partition, no gap): they can be applied as one batch. */
const continues = (prev: InputBatch, next: InputBatch): boolean =>
  prev.topic === next.topic &&
  prev.partition === next.partition &&
  next.fetchedOffset === prev.lastOffset + 1;

/**
 * How the lane hands its batches to the engine. It moves on at once: the lane's position is its own
 * (never committed), so its next fetch does not wait for a batch's turn in the serial queue — else
 * each request would be read only once the one before it had been delivered. Batches read while
 * their task waits join it (one partition's run of batches as one): requests that queued up behind
 * a long task are then answered by one forget, one flush and one transaction, not one each. The
 * engine applies, in queue order, what it has not applied yet (a batch past its position seeks the
 * lane back).
 */
export class LaneHandOver {
  private waiting: LaneBatch[] = [];
  /** The task queued for `waiting`, until it takes them. */
  private queued: object | undefined;

  constructor(
    private readonly host: Pick<LaneHost, 'laneBatchesOf'>,
    private readonly log: Logger,
  ) {}

  /** The lane consumer's eachBatch. */
  handOver(batch: InputBatch, ctl: BatchControl): Promise<void> {
    ctl.resolveOffset(batch.lastOffset);
    const quiet: BatchControl = { ...ctl, resolveOffset: () => undefined };
    const at = this.waiting.findLastIndex(
      (w) => w.batch.topic === batch.topic && w.batch.partition === batch.partition,
    );
    const prev = this.waiting[at]?.batch;
    if (prev && continues(prev, batch)) {
      const messages = [...prev.messages, ...batch.messages];
      this.waiting[at] = { batch: { ...batch, fetchedOffset: prev.fetchedOffset, messages }, ctl: quiet };
    } else this.waiting.push({ batch, ctl: quiet });
    if (this.queued === undefined) {
      const task = (this.queued = {});
      this.host
        .laneBatchesOf(() => this.take())
        .catch((e: unknown) => {
          // Not taken (the task did not run): the group consumer reads them; the lane goes on.
          if (this.queued === task) [this.queued, this.waiting] = [undefined, []];
          this.log.warn(
            { err: describeError(e) },
            'deletion lane batch failed (the group consumer reads it)',
          );
        });
    }
    return Promise.resolve();
  }

  private take(): LaneBatch[] {
    const w = this.waiting;
    [this.queued, this.waiting] = [undefined, []];
    return w;
  }
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
    const lane = new LaneHandOver(host, log);
    host.attachLane(consumerPort(c));
    await c.connect();
    await c.subscribe({ topics: [topic], fromBeginning: false });
    await c.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload: EachBatchPayload) => lane.handOver(inputBatch(payload), batchControl(payload)),
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
