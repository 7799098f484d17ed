// What every member of the group holds on disk, so that PURGED can mean "no snapshot of ANY running
// replica holds the user". Each instance announces on a small compacted topic (PROGRESS_TOPIC, key =
// its instance id, never a user id) whether it may hold snapshots: an active instance announces
// `holdsSnapshots: true` before it restores or writes any; a standby deletes all of its snapshots
// and then announces `false`. The active instance publishes PURGED receipts only once every other
// current member of the group (their instance ids travel in the group's member metadata) has
// announced `false`. Every instance follows the topic (read_committed) into an in-memory board.
import type { Kafka, Producer } from 'kafkajs';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { follow } from '../kafka/reader.js';
import { retry } from '../kafka/retry.js';

export interface Announcement {
  readonly instanceId: string;
  readonly groupId: string;
  readonly holdsSnapshots: boolean;
  /** Epoch ms of the announcement. */
  readonly at: number;
}

export interface ProgressBoard {
  /** Announces (acknowledged by all replicas) whether this instance may hold snapshots. */
  announce(holdsSnapshots: boolean): Promise<void>;
  /** True when the instance's latest announcement says it holds no snapshot. */
  isClean(instanceId: string): boolean;
}

export interface PurgeProgressOptions {
  readonly kafka: Kafka;
  readonly topic: string;
  readonly groupId: string;
  readonly instanceId: string;
  readonly log: Logger;
}

export class PurgeProgress implements ProgressBoard {
  private readonly latest = new Map<string, Announcement>();
  private readonly producer: Producer;
  private readonly abort = new AbortController();
  private following: Promise<void> | undefined;
  private readonly log: Logger;

  constructor(private readonly options: PurgeProgressOptions) {
    this.producer = options.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    this.log = options.log.child({ module: 'purge-progress' });
  }

  /** Connects and starts following the topic from its beginning. */
  async start(): Promise<void> {
    await this.producer.connect();
    this.following = follow(
      this.options.kafka,
      this.options.topic,
      (m) => {
        const key = m.key?.toString('utf8');
        if (key === undefined) return false;
        if (m.value === null) this.latest.delete(key);
        else {
          try {
            const a = JSON.parse(m.value.toString('utf8')) as Announcement;
            if (a.groupId === this.options.groupId) this.latest.set(key, a);
          } catch {
            // not ours: ignore
          }
        }
        return false;
      },
      { fromBeginning: true, groupPrefix: 'amnesia-progress', signal: this.abort.signal },
    ).catch((e: unknown) => this.log.error({ err: describeError(e) }, 'following the progress topic failed'));
  }

  isClean(instanceId: string): boolean {
    return this.latest.get(instanceId)?.holdsSnapshots === false;
  }

  async announce(holdsSnapshots: boolean): Promise<void> {
    const a: Announcement = {
      instanceId: this.options.instanceId,
      groupId: this.options.groupId,
      holdsSnapshots,
      at: Date.now(),
    };
    await retry(
      () =>
        this.producer.send({
          topic: this.options.topic,
          acks: -1,
          messages: [{ key: a.instanceId, value: JSON.stringify(a) }],
        }),
      {
        attempts: 20,
        onRetry: (e) => this.log.warn({ err: describeError(e) }, 'announcement failed, retrying'),
      },
    );
    this.latest.set(a.instanceId, a);
    this.log.info({ holdsSnapshots }, 'snapshot holdings announced');
  }

  /** Leaves the board (a tombstone for our key: we are no member any more) and disconnects. */
  async stop(): Promise<void> {
    await this.producer
      .send({
        topic: this.options.topic,
        acks: -1,
        messages: [{ key: this.options.instanceId, value: null }],
      })
      .catch(() => undefined);
    this.abort.abort();
    await this.following;
    await this.producer.disconnect().catch(() => undefined);
  }
}
