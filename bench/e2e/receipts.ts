// Receipt latency under load: on a live service holding the whole data set, a background replay
// of the data set (new user ids each pass) at a fixed rate, and meanwhile deletion requests of
// existing users, one every interval. Latency = request sent → its receipt read by a
// read_committed consumer (kafkajs's default isolation) that follows the receipts topic.
import type { Message } from 'kafkajs';
import { encodeValue } from '../../src/output/encode.js';
import { endOffsets, follow } from '../../src/kafka/reader.js';
import type { SchemaIds } from '../../src/kafka/topics.js';
import { replay, type BenchContext, type TopicNames, type Variant } from './context.js';
import { CommitPoller } from './commits.js';
import type { ServiceProcess } from './service-process.js';
import { summarizeProfileFile, type ProfileSummary } from './profile.js';
import { countsSince, latencySummary, load1, now, round, sleep } from './stats.js';

export interface ReceiptOptions {
  readonly users: readonly string[];
  readonly intervalMs: number;
  readonly backgroundRate: number;
  readonly schemaIds: SchemaIds | undefined;
  /** Items each user holds (the data set's), for the fit of latency against a user's size. */
  readonly itemsOf?: ReadonlyMap<string, number>;
  /** Where to write a CPU profile of the service while the deletions go out (none: no profile). */
  readonly profileFile?: string | undefined;
}

export interface ReceiptResult {
  /** Background interactions asked for, events/s (0 = none). */
  readonly backgroundRate: number;
  readonly deletions: number;
  readonly latency: ReturnType<typeof latencySummary>;
  /**
   * Robust (Theil–Sen) fit of each receipt's latency to its user's item count (with itemsOf): what a
   * deletion costs whatever its size (the intercept: round trips, queueing) and per 100 items.
   */
  readonly bySize?: { readonly fixedMs: number; readonly msPer100Items: number; readonly users: number };
  readonly backgroundEventsPerSecond: number;
  /**
   * Background events sent, and their users' prefix: event k of the data set's pass p went out under
   * user `${prefix}${p}-${user}` (replay-worker.mjs), for the lists check at the end.
   */
  readonly background: { readonly sent: number; readonly userPrefix: string };
  /** Mean of the service's own histogram (record timestamp → receipt delivered). */
  readonly serviceMeanMs: number;
  readonly cpuSeconds: number;
  /** Interaction records not yet covered by the service's commits, sampled: did it keep up? */
  readonly lag: { readonly p50Events: number; readonly maxEvents: number };
  /** kafkajs errors the service logged meanwhile (retried ones: e.g. concurrent transactions). */
  readonly kafkaErrors: Readonly<Record<string, number>>;
  /** Background stopped → every background record covered. */
  readonly drainSeconds: number;
  readonly load1: number;
  /** The service's CPU while the deletions went out, by category (with profileFile). */
  readonly profile?: ProfileSummary;
}

export async function receiptRun(
  ctx: BenchContext,
  v: Variant,
  svc: ServiceProcess,
  names: TopicNames,
  o: ReceiptOptions,
): Promise<ReceiptResult> {
  const sentAt = new Map<string, number>();
  const sizeOf = new Map<string, number>();
  const latencies: number[] = [];
  const sized: [items: number, ms: number][] = [];
  let joined!: () => void;
  const joinedP = new Promise<void>((res) => (joined = res));
  const receipts = follow(
    ctx.kafka,
    names.receipts,
    (m) => {
      const id = m.key?.toString('utf8');
      const s = id === undefined ? undefined : sentAt.get(id);
      if (s !== undefined) {
        const ms = now() - s;
        latencies.push(ms);
        const items = sizeOf.get(id!);
        if (items !== undefined) sized.push([items, ms]);
        sentAt.delete(id!);
      }
      return latencies.length >= o.users.length;
    },
    {
      fromBeginning: true,
      startAt: await endOffsets(ctx.kafka, names.receipts),
      onJoined: () => joined(),
      timeoutMs: 60_000 + o.users.length * (o.intervalMs + 1_000),
      groupPrefix: `${names.group}-receipts`,
    },
  );
  receipts.catch(() => undefined); // awaited below
  await joinedP;
  // Each run's background users are new ones (a pass over the data set per prefix).
  const tag = `${o.backgroundRate}-${Date.now().toString(36)}`;
  const bg =
    o.backgroundRate > 0
      ? replay(ctx, {
          topic: names.interactions,
          rate: o.backgroundRate,
          track: false,
          loop: true,
          userPrefix: `bg${tag}-`,
          acks: 1,
          schemaId: v.format === 'avro' ? o.schemaIds?.interaction : undefined,
        })
      : undefined;
  const poller = new CommitPoller(ctx.admin, names.group, names.interactions, ctx.partitions, 50);
  poller.start();
  const producer = ctx.kafka.producer({ allowAutoTopicCreation: false });
  try {
    await bg?.connected;
    await sleep(1_000);
    const s0 = await svc.stats();
    const errors0 = svc.kafkaErrors();
    await producer.connect();
    if (o.profileFile !== undefined) await svc.profileStart();
    for (let k = 0; k < o.users.length; k++) {
      const userId = o.users[k]!;
      const requestId = `${names.group}-dsr-${tag}-${k}`;
      const value = encodeValue(
        'deletion',
        { requestId, userId },
        v.format === 'avro' ? o.schemaIds?.deletion : undefined,
      );
      const message: Message = { key: userId, value };
      const items = o.itemsOf?.get(userId);
      if (items !== undefined) sizeOf.set(requestId, items);
      sentAt.set(requestId, now());
      await producer.send({ topic: names.deletions, messages: [message], acks: -1 });
      await sleep(o.intervalMs);
    }
    await receipts;
    const bgEnd = now();
    let profile: ProfileSummary | undefined;
    if (o.profileFile !== undefined) {
      await svc.profileStop(o.profileFile);
      profile = summarizeProfileFile(o.profileFile);
    }
    bg?.stop();
    const r = await bg?.done;
    const s1 = await svc.stats();
    const ends = new Array<number>(ctx.partitions).fill(0);
    for (const m of await ctx.admin.fetchTopicOffsets(names.interactions)) ends[m.partition] = Number(m.high);
    const drained = await poller.covered(ends);
    const delta = (name: string) => (s1.metrics[name] ?? 0) - (s0.metrics[name] ?? 0);
    const count = delta('amnesia_deletion_receipt_latency_seconds_count');
    return {
      backgroundRate: o.backgroundRate,
      deletions: latencies.length,
      latency: latencySummary(latencies),
      ...(sized.length >= 2 ? { bySize: fitBySize(sized) } : {}),
      backgroundEventsPerSecond: r ? Math.round(r.sent / ((r.end - r.start) / 1000)) : 0,
      background: { sent: r?.sent ?? 0, userPrefix: `bg${tag}-` },
      serviceMeanMs:
        count > 0 ? round((1000 * delta('amnesia_deletion_receipt_latency_seconds_sum')) / count, 1) : NaN,
      cpuSeconds: round(s1.cpuSeconds - s0.cpuSeconds),
      lag: poller.lagSummary(),
      kafkaErrors: countsSince(errors0, svc.kafkaErrors()),
      drainSeconds: round(Math.max(0, drained - (r?.end ?? bgEnd)) / 1000),
      load1: load1(),
      ...(profile ? { profile } : {}),
    };
  } finally {
    bg?.stop();
    await bg?.done.catch(() => undefined);
    await poller.stop();
    await producer.disconnect();
  }
}

/**
 * Theil–Sen fit of ms = fixed + slope · items: the median of the pairwise slopes, then the median
 * intercept; robust to the few receipts a scheduling hiccup or a heavy user's neighbours delayed.
 */
function fitBySize(points: readonly (readonly [number, number])[]): NonNullable<ReceiptResult['bySize']> {
  const median = (v: number[]) => {
    const s = v.sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
  };
  const slopes: number[] = [];
  for (let i = 0; i < points.length; i++)
    for (let j = i + 1; j < points.length; j++) {
      const [xi, yi] = points[i]!;
      const [xj, yj] = points[j]!;
      if (xi !== xj) slopes.push((yj - yi) / (xj - xi));
    }
  const slope = slopes.length > 0 ? median(slopes) : 0;
  const fixed = median(points.map(([x, y]) => y - slope * x));
  return { fixedMs: round(fixed, 1), msPer100Items: round(100 * slope, 2), users: points.length };
}
