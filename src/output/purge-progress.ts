// What every member of the group holds on disk, so that PURGED can mean "no snapshot of ANY running
// replica holds the user". Each instance announces on a small compacted topic (PROGRESS_TOPIC, key =
// its instance id, never a user id) whether it may hold snapshots: an active instance announces
// `holdsSnapshots: true` before it restores or writes any; a standby deletes all of its snapshots
// and then announces `false`. The active instance publishes PURGED receipts only once every other
// current member of the group (their instance ids travel in the group's member metadata) has
// announced `false`, and until no other replica of the group — a member or not: a paused or fenced
// ex-active is out of the group but its disk still holds snapshots — has a live `true` announcement.
// An instance that may hold snapshots renews its announcement every lease/3; one not renewed for
// SNAPSHOT_HOLDER_LEASE_MS is presumed gone, and an instance that finds it could not renew for a
// lease (paused, cut off) deletes its snapshots before it announces again (onLeaseLost). Every
// instance follows the topic (read_committed) into an in-memory board.
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
  /** Other replicas of the group whose announcement that they may hold snapshots is within its lease. */
  holdersBesides(instanceId: string): readonly string[];
}

/**
 * True while our own `true` announcement is within its lease, as the other replicas judge it (from
 * the time it was made, before it was sent): outside it a snapshot must not be written — PURGED may
 * have gone out elsewhere meanwhile.
 */
export function leaseHeld(holds: boolean, renewedAt: number, now: number, leaseMs: number): boolean {
  return holds && now - renewedAt < leaseMs;
}

/** The replicas other than `self` whose `true` announcement is younger than `leaseMs`. */
export function liveHolders(
  board: Iterable<Announcement>,
  self: string,
  now: number,
  leaseMs: number,
): string[] {
  const out: string[] = [];
  for (const a of board)
    if (a.instanceId !== self && a.holdsSnapshots && now - a.at < leaseMs) out.push(a.instanceId);
  return out;
}

export interface PurgeProgressOptions {
  readonly kafka: Kafka;
  readonly topic: string;
  readonly groupId: string;
  readonly instanceId: string;
  readonly log: Logger;
  /** SNAPSHOT_HOLDER_LEASE_MS. */
  readonly leaseMs: number;
  /** Called before renewing when the last renewal is older than a lease: drop the snapshots. */
  readonly onLeaseLost?: () => Promise<void>;
  readonly now?: () => number;
}

export class PurgeProgress implements ProgressBoard {
  private readonly latest = new Map<string, Announcement>();
  private readonly producer: Producer;
  private readonly abort = new AbortController();
  private following: Promise<void> | undefined;
  private readonly log: Logger;
  private renewTimer: ReturnType<typeof setInterval> | undefined;
  /** When our last `true` announcement was acknowledged. */
  private renewedAt = 0;
  private holding = false;

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

  holdersBesides(instanceId: string): readonly string[] {
    return liveHolders(this.latest.values(), instanceId, this.now(), this.options.leaseMs);
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** Keeps a `true` announcement within its lease; past one unrenewed, the snapshots go first. */
  async renew(): Promise<void> {
    if (this.now() - this.renewedAt >= this.options.leaseMs) {
      this.log.warn({}, 'the snapshot-holder lease lapsed (paused or cut off): deleting the snapshots first');
      await this.options.onLeaseLost?.();
    }
    await this.announce(true);
  }

  /** Our announcement that we may hold snapshots is within its lease (see leaseHeld). */
  holdsLease(): boolean {
    return leaseHeld(this.holding, this.renewedAt, this.now(), this.options.leaseMs);
  }

  isClean(instanceId: string): boolean {
    return this.latest.get(instanceId)?.holdsSnapshots === false;
  }

  async announce(holdsSnapshots: boolean): Promise<void> {
    const a: Announcement = {
      instanceId: this.options.instanceId,
      groupId: this.options.groupId,
      holdsSnapshots,
      at: this.now(),
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
    this.holding = holdsSnapshots;
    if (holdsSnapshots) {
      this.renewedAt = a.at;
      if (!this.renewTimer) {
        this.renewTimer = setInterval(
          () => {
            this.renew().catch((e: unknown) =>
              this.log.error({ err: describeError(e) }, 'renewing the snapshot-holder announcement failed'),
            );
          },
          Math.max(1_000, Math.floor(this.options.leaseMs / 3)),
        );
        this.renewTimer.unref?.();
      }
    } else if (this.renewTimer) {
      clearInterval(this.renewTimer);
      this.renewTimer = undefined;
    }
    this.log.debug({ holdsSnapshots }, 'snapshot holdings announced');
  }

  /** Leaves the board (a tombstone for our key: we are no member any more) and disconnects. */
  async stop(): Promise<void> {
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = undefined;
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
