// Records a task has committed past are made unreadable (DeleteRecords), as Kafka Streams purges
// its repartition topics: the deltas (item tasks) and the routed input records (user tasks), so
// that a forgotten user's records do not stay in Kafka until retention. Only what a transaction of
// ours committed past: the position may be ahead (records applied and not yet delivered, or a
// delivery that failed) and the next owner starts from the commit.
import type { Admin } from 'kafkajs';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';

/** How often committed records are made unreadable. */
export const PURGE_EVERY_MS = 5_000;

export class CommittedPurge {
  private purgedUpTo = 0;
  private last = 0;

  constructor(
    private readonly admin: Pick<Admin, 'deleteTopicRecords'>,
    private readonly topic: string,
    private readonly partition: number,
    private readonly log: Logger,
    private readonly onPurged: (records: number) => void,
  ) {}

  /** Every record below this offset is unreadable (confirmed by the broker). */
  get upTo(): number {
    return this.purgedUpTo;
  }

  /** Purges up to `committed` when PURGE_EVERY_MS has passed (or `force`); a failure is retried later. */
  async run(committed: number | undefined, now: number, force = false): Promise<void> {
    if (committed === undefined || committed <= this.purgedUpTo) return;
    if (!force && now - this.last < PURGE_EVERY_MS) return;
    this.last = now;
    try {
      await this.admin.deleteTopicRecords({
        topic: this.topic,
        partitions: [{ partition: this.partition, offset: String(committed) }],
      });
      this.onPurged(committed - this.purgedUpTo);
      this.purgedUpTo = committed;
    } catch (e) {
      this.log.warn(
        { err: describeError(e), topic: this.topic },
        'could not purge committed records; retrying later',
      );
    }
  }
}
