// Backlog catch-up: the input topics hold the whole data set before the service starts; a service
// child starts cold (no snapshot, a new group, empty output topics) and rebuilds from the topics.
// Measured from its startService call: until the group's commits cover every input record (all
// lists published with them) and until it is ready (live); then the similarities topic is checked
// against the model alone.
import path from 'node:path';
import type { SchemaIds } from '../../src/kafka/topics.js';
import { CommitPoller } from './commits.js';
import {
  configOf,
  prepareInputs,
  replay,
  serviceEnv,
  topicNames,
  type BenchContext,
  type TopicNames,
  type Variant,
} from './context.js';
import { summarizeProfileFile, type ProfileSummary } from './profile.js';
import { spawnService, type ServiceProcess } from './service-process.js';
import { load1, round } from './stats.js';
import { checkPublishedLists, type ListCheck } from './verify.js';

export interface FilledInputs {
  readonly inputs: string;
  readonly ends: readonly number[];
  readonly seconds: number;
  readonly eventsPerSecond: number;
  readonly load1: number;
  readonly schemaIds: SchemaIds | undefined;
}

/** Produces every event of the data set into the input topics of `inputs` (as fast as it goes). */
export async function fillInputs(ctx: BenchContext, v: Variant, inputs: string): Promise<FilledInputs> {
  const names = topicNames(ctx, inputs);
  const { schemaIds } = await prepareInputs(ctx, configOf(serviceEnv(ctx, v, names)));
  const r = await replay(ctx, {
    topic: names.interactions,
    rate: 0,
    track: false,
    schemaId: v.format === 'avro' ? schemaIds?.interaction : undefined,
  }).done;
  const ends = new Array<number>(ctx.partitions).fill(0);
  for (const o of await ctx.admin.fetchTopicOffsets(names.interactions)) ends[o.partition] = Number(o.high);
  const seconds = (r.end - r.start) / 1000;
  return {
    inputs,
    ends,
    seconds: round(seconds),
    eventsPerSecond: Math.round(r.sent / seconds),
    load1: load1(),
    schemaIds,
  };
}

export interface CatchUpResult {
  /** startService called → the group's commits cover every input record. */
  readonly seconds: number;
  readonly eventsPerSecond: number;
  /** startService called → live (ready). */
  readonly readySeconds: number;
  /** Process spawned → startService called (Node start, modules loaded through tsx). */
  readonly loadSeconds: number;
  /** Service CPU (user + system) from startService until caught up. */
  readonly cpuSeconds: number;
  /** From the service's log, seconds after startService: replay begins, state rebuilt. */
  readonly replayStartsAt?: number;
  readonly rebuiltAt?: number;
  readonly listsPublished: number;
  readonly rssBytes: number;
  /** How the service's model holds C after the catch-up. */
  readonly representation: string;
  readonly lists: ListCheck;
  readonly load1: number;
  readonly profile?: ProfileSummary;
}

export interface CatchUpRun {
  readonly result: CatchUpResult;
  /** The service, still running (live on the whole data set) when asked to keep it. */
  readonly service?: ServiceProcess;
  readonly names: TopicNames;
}

export async function catchUp(
  ctx: BenchContext,
  v: Variant,
  filled: FilledInputs,
  run: string,
  options: { readonly profile: boolean; readonly keep: boolean },
): Promise<CatchUpRun> {
  const names = topicNames(ctx, run, filled.inputs);
  const poller = new CommitPoller(ctx.admin, names.group, names.interactions, ctx.partitions);
  poller.start();
  const svc = spawnService({
    ...serviceEnv(ctx, v, names),
    ...(options.profile ? { BENCH_PROFILE_FROM_START: '1' } : {}),
  });
  try {
    const covered = poller.covered(filled.ends);
    const [starting, ready, coveredAt] = await Promise.all([svc.starting, svc.ready, covered]);
    const stats = await svc.stats();
    await poller.stop();
    let profile: ProfileSummary | undefined;
    if (options.profile && ctx.profileDir) {
      const file = path.join(ctx.profileDir, `${run}.cpuprofile`);
      await svc.profileStop(file);
      profile = summarizeProfileFile(file);
    }
    const seconds = (coveredAt - starting) / 1000;
    const at = (msg: string) => {
      const m = svc.milestones.find((x) => x.msg === msg);
      return m === undefined ? undefined : round((m.at - starting) / 1000);
    };
    const replayStartsAt = at('rebuilding state from the input topics');
    const rebuiltAt = at('state rebuilt');
    const lists = await checkPublishedLists(ctx.kafka, names.similarities, ctx.registry, ctx.reference);
    const result: CatchUpResult = {
      seconds: round(seconds),
      eventsPerSecond: Math.round(ctx.events.users.length / seconds),
      readySeconds: round((ready.at - starting) / 1000),
      loadSeconds: round((starting - svc.spawnedAt) / 1000),
      cpuSeconds: round(stats.cpuSeconds),
      ...(replayStartsAt !== undefined ? { replayStartsAt } : {}),
      ...(rebuiltAt !== undefined ? { rebuiltAt } : {}),
      listsPublished: stats.metrics.amnesia_lists_published_total ?? 0,
      rssBytes: stats.rssBytes,
      representation: stats.representation,
      lists,
      load1: load1(),
      ...(profile ? { profile } : {}),
    };
    if (!options.keep) await svc.stop();
    return { result, names, ...(options.keep ? { service: svc } : {}) };
  } catch (e) {
    await poller.stop();
    await svc.stop(5_000);
    throw e;
  }
}
