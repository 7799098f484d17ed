// An in-memory stand-in for the engine's Kafka edges (src/kafka/ports.ts), for unit tests only:
// topics as arrays of records per partition, a consumer that fetches from its positions the way
// kafkajs does (seek, pause, resolveOffset, committed offsets), and an output sink that appends to
// the log (so a later rebuild reads what an earlier run published). Integration tests use the real broker.
import type { KafkaMessage } from 'kafkajs';
import { AmnesiaError } from '../../src/errors.js';
import type { Engine } from '../../src/single/engine.js';
import { LaneHandOver } from '../../src/single/deletion-lane.js';
import { createLogger } from '../../src/log.js';
import type { PartitionOffset, TopicPartition } from '../../src/kafka/partitions.js';
import type {
  BatchControl,
  ConsumerPort,
  OffsetsPort,
  Outgoing,
  OutputSink,
  Watermarks,
} from '../../src/kafka/ports.js';

export class FakeLog {
  private readonly topics = new Map<string, KafkaMessage[][]>();
  /** Log start offsets (records before it deleted by "retention"). */
  private readonly starts = new Map<string, number[]>();
  readonly commits = new Map<string, number>();
  /** Group members holding partitions (the fencing check reads it). */
  readonly members = new Set<string>(['member-1']);

  constructor(topics: Record<string, number>) {
    for (const [t, n] of Object.entries(topics)) {
      this.topics.set(
        t,
        Array.from({ length: n }, () => []),
      );
      this.starts.set(t, new Array<number>(n).fill(0));
    }
  }

  partitions(topic: string): number {
    return this.topics.get(topic)?.length ?? 0;
  }

  append(
    topic: string,
    partition: number,
    key: string | null,
    value: Buffer | null,
    timestamp = Date.now(),
  ): number {
    const log = this.topics.get(topic)?.[partition];
    if (!log) throw new Error(`no partition ${topic}:${partition}`);
    const offset = log.length;
    log.push({
      offset: String(offset),
      key: key === null ? null : Buffer.from(key),
      value,
      timestamp: String(timestamp),
      attributes: 0,
      headers: {},
    });
    return offset;
  }

  appendJson(topic: string, partition: number, key: string, value: object, timestamp?: number): number {
    return this.append(topic, partition, key, Buffer.from(JSON.stringify(value)), timestamp);
  }

  records(topic: string, partition: number): readonly KafkaMessage[] {
    const start = this.starts.get(topic)?.[partition] ?? 0;
    return (this.topics.get(topic)?.[partition] ?? []).filter((m) => Number(m.offset) >= start);
  }

  /** Deletes records before `offset` (as retention or deleteRecords would). */
  truncate(topic: string, partition: number, offset: number): void {
    this.starts.get(topic)![partition] = offset;
  }

  watermarks(topic: string): Watermarks[] {
    return (this.topics.get(topic) ?? []).map((log, partition) => ({
      topic,
      partition,
      low: this.starts.get(topic)![partition]!,
      high: log.length,
    }));
  }

  /** A compacted view: the last value per key (null values remove the key). */
  compacted(topic: string): Map<string, Buffer> {
    const out = new Map<string, Buffer>();
    for (let p = 0; p < this.partitions(topic); p++)
      for (const m of this.records(topic, p)) {
        const k = m.key!.toString('utf8');
        if (m.value === null) out.delete(k);
        else out.set(k, m.value);
      }
    return out;
  }

  offsetsPort(): OffsetsPort {
    return {
      watermarks: (topic) => Promise.resolve(this.watermarks(topic)),
      committed: (_group, topics) => {
        const out: PartitionOffset[] = [];
        for (const topic of topics)
          for (let partition = 0; partition < this.partitions(topic); partition++) {
            const offset = this.commits.get(`${topic}/${partition}`);
            if (offset !== undefined) out.push({ topic, partition, offset });
          }
        return Promise.resolve(out);
      },
      members: () =>
        Promise.resolve(
          [...this.members].map((memberId) => ({ memberId, instanceId: memberId, assigned: true })),
        ),
    };
  }

  /** The lists published on a compacted topic, as the oracle writes them (item id, n, neighbours). */
  publishedLists(topic: string): Map<string, unknown> {
    const out = new Map<string, unknown>();
    for (const [k, v] of this.compacted(topic)) {
      const { itemId, interactions, neighbors } = JSON.parse(v.toString()) as Record<string, unknown>;
      out.set(k, { itemId, interactions, neighbors });
    }
    return out;
  }

  /** Delivers by appending to the log (partition: a stable hash of the key), then commits offsets. */
  sink(options: { failures?: number } = {}): OutputSink & {
    deliveries: number;
    failures: number;
    activations: number;
    active: boolean;
  } {
    const append = (topic: string, key: string | null, value: Buffer | null) => {
      const n = this.partitions(topic);
      const p = key === null ? 0 : [...key].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % n;
      this.append(topic, p, key, value);
    };
    const commit = (o: PartitionOffset) => this.commits.set(`${o.topic}/${o.partition}`, o.offset);
    return {
      deliveries: 0,
      failures: options.failures ?? 0,
      activations: 0,
      active: false,
      activate() {
        this.activations++;
        this.active = true;
        return Promise.resolve();
      },
      deactivate() {
        this.active = false;
        return Promise.resolve();
      },
      deliver(records: readonly Outgoing[], offsets: readonly PartitionOffset[]): Promise<void> {
        if (!this.active)
          return Promise.reject(new AmnesiaError('PRODUCER_FENCED', 'not the active writer of the outputs'));
        if (this.failures > 0) {
          this.failures--;
          return Promise.reject(new Error('broker away'));
        }
        this.deliveries++;
        for (const r of records) {
          const key = r.message.key === null || r.message.key === undefined ? null : String(r.message.key);
          append(r.topic, key, (r.message.value as Buffer | null) ?? null);
        }
        for (const o of offsets) commit(o);
        return Promise.resolve();
      },
    };
  }
}

/**
 * A consumer of one group member: fetch positions per partition, paused topics, seeks. As `lane`,
 * the single mode's deletion lane (src/single/deletion-lane.ts): its batches are handed over as the
 * lane does (handOver: queued, the lane moves on at once).
 */
export class FakeConsumer implements ConsumerPort {
  readonly paused = new Set<string>();
  readonly seeks: PartitionOffset[] = [];
  private readonly fetchAt = new Map<string, number>();
  assigned: TopicPartition[] = [];

  constructor(
    private readonly log: FakeLog,
    private readonly role: 'group' | 'lane' = 'group',
  ) {}

  /** As `lane`: how its batches reach the engine (deletion-lane.ts), from joinLane on. */
  private handOver: LaneHandOver | undefined;

  /** The lane's start (deletion-lane.ts): attached, then at the engine's positions, else the end. */
  joinLane(engine: Engine, topic: string): void {
    engine.attachLane(this);
    this.handOver = new LaneHandOver(engine, createLogger('silent'));
    this.assigned = this.log.watermarks(topic).map((w) => ({ topic, partition: w.partition }));
    this.fetchAt.clear();
    for (const w of this.log.watermarks(topic)) this.fetchAt.set(`${topic}/${w.partition}`, w.high);
    for (const at of engine.deletionPositions()) this.fetchAt.set(`${at.topic}/${at.partition}`, at.offset);
  }

  seek(at: PartitionOffset): void {
    this.seeks.push(at);
    this.fetchAt.set(`${at.topic}/${at.partition}`, at.offset);
  }
  pause(topics: readonly string[]): void {
    for (const t of topics) this.paused.add(t);
  }
  resume(topics: readonly string[]): void {
    for (const t of topics) this.paused.delete(t);
  }

  /** What kafkajs does on a join: positions start at the group's commits (or 0), then the handler may seek. */
  join(engine: Engine, assignment: Record<string, number[]>): void {
    this.assigned = Object.entries(assignment).flatMap(([topic, ps]) =>
      ps.map((partition) => ({ topic, partition })),
    );
    this.fetchAt.clear();
    for (const tp of this.assigned)
      this.fetchAt.set(
        `${tp.topic}/${tp.partition}`,
        this.log.commits.get(`${tp.topic}/${tp.partition}`) ?? 0,
      );
    engine.onAssignment(assignment, 'member-1');
  }

  /**
   * One fetch round: for every assigned, unpaused partition with records at its fetch position, one
   * batch of up to `max` records goes to the engine (in subscription order: `order`). Returns the
   * number of records handed over.
   */
  async poll(engine: Engine, order: readonly string[], max = 50): Promise<number> {
    let handed = 0;
    const assigned = [...this.assigned].sort((a, b) => order.indexOf(a.topic) - order.indexOf(b.topic));
    for (const tp of assigned) {
      if (this.paused.has(tp.topic)) continue;
      const key = `${tp.topic}/${tp.partition}`;
      const wm = this.log.watermarks(tp.topic)[tp.partition]!;
      const from = Math.max(this.fetchAt.get(key) ?? 0, wm.low);
      const messages = this.log
        .records(tp.topic, tp.partition)
        .filter((m) => Number(m.offset) >= from)
        .slice(0, max);
      if (messages.length === 0) continue;
      handed += messages.length;
      const ctl: BatchControl = {
        resolveOffset: (o) => this.fetchAt.set(key, o + 1),
        heartbeat: () => Promise.resolve(),
        isRunning: () => true,
        isStale: () => false,
      };
      const lastOffset = Number(messages[messages.length - 1]!.offset);
      const batch = { ...tp, highWatermark: wm.high, fetchedOffset: from, messages, lastOffset };
      if (this.role === 'group') await engine.eachBatchOf(batch, ctl);
      else if (this.handOver) await this.handOver.handOver(batch, ctl);
      else throw new Error('a lane polls after joinLane');
    }
    return handed;
  }

  /** Polls until a round hands nothing over (or `rounds` rounds), letting queued work run in between. */
  async drain(engine: Engine, order: readonly string[], rounds = 10_000): Promise<void> {
    for (let r = 0; r < rounds; r++) {
      await engine.idle();
      if ((await this.poll(engine, order)) === 0) {
        await engine.idle();
        if ((await this.poll(engine, order)) === 0) return;
      }
    }
    throw new Error('the consumer did not come to rest');
  }
}
