// Live steady rate: a service child is live on empty topics; the data set is produced at a fixed rate
// (or as fast as the producer goes). List latency of an event = from its send to the first moment
// the group's committed offsets pass it (commits.ts: the lists reflecting it are published by then).
// Throughput = events / (first send → all covered). The service's CPU time over the run is compared
// with the model alone flushing as often as the service does.
import path from 'node:path';
import { CommitPoller, coverLatencies, endsOf } from './commits.js';
import {
  configOf,
  prepareInputs,
  replay,
  serviceEnv,
  topicNames,
  type BenchContext,
  type Variant,
} from './context.js';
import { summarizeProfileFile, type ProfileSummary } from './profile.js';
import { spawnService } from './service-process.js';
import { countsSince, latencySummary, load1, round } from './stats.js';
import { checkPublishedLists, type ListCheck } from './verify.js';

export interface LiveResult {
  /** Asked rate (0 = as fast as possible). */
  readonly rate: number;
  readonly events: number;
  readonly produceEventsPerSecond: number;
  /** Events / (first send → every event covered by the commits). */
  readonly serviceEventsPerSecond: number;
  readonly seconds: number;
  /** Send → covered by the group's commits (lists published), per event. */
  readonly listLatency: ReturnType<typeof latencySummary>;
  /** Resolution of the latencies: median time between two samples of the commits. */
  readonly sampleIntervalMs: number;
  /** Records produced but not yet covered by the commits, sampled every 100 ms. */
  readonly lag: { readonly p50Events: number; readonly maxEvents: number };
  /** kafkajs errors the service logged during the run (retried ones: e.g. concurrent transactions). */
  readonly kafkaErrors: Readonly<Record<string, number>>;
  readonly cpuSeconds: number;
  /** Deliveries (model flush + publish + commit) of chunks during the run, and their mean size. */
  readonly chunks: number;
  readonly meanChunkEvents: number;
  readonly listsPublished: number;
  readonly lists: ListCheck;
  readonly load1: number;
  readonly profile?: ProfileSummary;
}

export async function liveRun(
  ctx: BenchContext,
  v: Variant,
  run: string,
  rate: number,
  options: { readonly profile: boolean },
): Promise<LiveResult> {
  const names = topicNames(ctx, run);
  const env = serviceEnv(ctx, v, names);
  const { schemaIds } = await prepareInputs(ctx, configOf(env));
  const svc = spawnService(env);
  const poller = new CommitPoller(ctx.admin, names.group, names.interactions, ctx.partitions);
  try {
    await svc.ready;
    poller.start();
    const s0 = await svc.stats();
    const errors0 = svc.kafkaErrors();
    if (options.profile) await svc.profileStart();
    const r = await replay(ctx, {
      topic: names.interactions,
      rate,
      track: true,
      schemaId: v.format === 'avro' ? schemaIds?.interaction : undefined,
    }).done;
    const ends = endsOf(r.partitionOf!, r.offsetOf!, ctx.partitions);
    const coveredAt = await poller.covered(ends);
    let profile: ProfileSummary | undefined;
    if (options.profile && ctx.profileDir) {
      const file = path.join(ctx.profileDir, `${run}.cpuprofile`);
      await svc.profileStop(file);
      profile = summarizeProfileFile(file);
    }
    const s1 = await svc.stats();
    await poller.stop();
    const latencies = coverLatencies(poller.samples, r.sentAt!, r.partitionOf!, r.offsetOf!);
    const delta = (name: string) => (s1.metrics[name] ?? 0) - (s0.metrics[name] ?? 0);
    const chunks = delta('amnesia_batch_size_count');
    const seconds = (coveredAt - r.start) / 1000;
    const lists = await checkPublishedLists(ctx.kafka, names.similarities, ctx.registry, ctx.reference);
    return {
      rate,
      events: r.sent,
      produceEventsPerSecond: Math.round(r.sent / ((r.end - r.start) / 1000)),
      serviceEventsPerSecond: Math.round(r.sent / seconds),
      seconds: round(seconds),
      listLatency: latencySummary(latencies),
      sampleIntervalMs: round(poller.medianIntervalMs(), 1),
      lag: poller.lagSummary(),
      kafkaErrors: countsSince(errors0, svc.kafkaErrors()),
      cpuSeconds: round(s1.cpuSeconds - s0.cpuSeconds),
      chunks,
      meanChunkEvents: chunks > 0 ? Math.round(delta('amnesia_batch_size_sum') / chunks) : 0,
      listsPublished: delta('amnesia_lists_published_total'),
      lists,
      load1: load1(),
      ...(profile ? { profile } : {}),
    };
  } finally {
    await poller.stop();
    await svc.stop();
  }
}
