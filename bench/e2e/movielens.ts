// The MovieLens end-to-end benchmark: a real data set through the real broker, the service in a
// child process, in JSON and in Avro, with exactly_once and at_least_once side by side, next to the
// model alone on the same events in the same run. Phases per format:
//   catchup  — backlog first, cold start, time to lag 0 with every list published (catchup.ts);
//   receipts — deletion → receipt latency, without and with background load, on a caught-up service;
//   live     — fixed produce rates into a live service, list latency (live.ts);
// and once: delivery — one transaction vs one acks=all send, the floor under each delivery.
// The machine is shared: the variants being compared run interleaved (repetition r of every
// guarantee, each rate for every guarantee), and each catch-up repetition is preceded by a run of the
// model alone, so that drifting load hits both sides of every ratio alike. Figures and ratios are
// assembled by summary.ts.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import type { Model } from '../../src/model/index.js';
import { createKafka } from '../../src/kafka/client.js';
import { modelOptionsOf } from '../../src/single/model-factory.js';
import { SchemaRegistryClient } from '../../src/kafka/registry.js';
import { byTime, itemsByUser, mulberry32, readCsv } from '../datasets.js';
import { catchUp, fillInputs, type FilledInputs } from './catchup.js';
import { passThroughEnv, type BenchContext, type Format, type Guarantee, type Variant } from './context.js';
import { deliveryRun, type DeliveryResult } from './delivery.js';
import { liveRun } from './live.js';
import { forgetTimes, modelIngest, receiptsReference, type IngestTiming } from './model-baseline.js';
import { startCpuProfile, summarizeProfile, type ProfileSummary } from './profile.js';
import { receiptRun } from './receipts.js';
import { benchStack } from './stack.js';
import { latencySummary, load1, machine } from './stats.js';
import { summarize, type ModelFigures, type VariantFigures } from './summary.js';
import { checkPublishedLists } from './verify.js';

export type Phase = 'catchup' | 'live' | 'receipts' | 'delivery';

export interface MovieLensOptions {
  readonly dataset: string;
  readonly formats: readonly Format[];
  readonly guarantees: readonly Guarantee[];
  /** Catch-up repetitions per format × guarantee (medians reported). */
  readonly reps: number;
  /** Runs of the model alone before anything else (the first builds the reference lists). */
  readonly modelReps: number;
  /** Live produce rates, events/s; 0 = as fast as possible. */
  readonly rates: readonly number[];
  readonly phases: ReadonlySet<Phase>;
  /** Background interaction rates of the receipts runs (0 = none), one run each. */
  readonly backgroundRates: readonly number[];
  /** Deletion requests per receipts run. */
  readonly deletions: number;
  readonly deletionIntervalMs: number;
  readonly partitions: number;
  /** Extra profiled runs (catch-up, and live at the fastest rate): where the CPU time goes. */
  readonly profile: boolean;
}

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

/** A chunk size rounded to 2 significant digits, so that close sizes share one model run. */
const chunkKey = (events: number): number => Number(events.toPrecision(2));

export async function runMovieLens(
  o: MovieLensOptions,
  log: (msg: string) => void,
): Promise<{ result: Record<string, unknown>; summary: string }> {
  const events = byTime(readCsv(o.dataset));
  const n = events.users.length;
  log(`${o.dataset}: ${n} events, ${events.userNames.length} users, ${events.itemNames.length} items`);

  // ------------------------------------------------------------------ the model alone
  // One tombstone key for the services and the model alone (the services would warn without one).
  const tombstoneKey = process.env.TOMBSTONE_KEY ?? randomBytes(32).toString('hex');
  const settings = loadConfig({ ...passThroughEnv(), TOMBSTONE_KEY: tombstoneKey });
  const modelOptions = modelOptionsOf(settings, tombstoneKey);
  const modelRuns: IngestTiming[] = [];
  const timeModel = (what: string): { model: Model; timing: IngestTiming } => {
    const r = modelIngest(modelOptions, events);
    modelRuns.push(r.timing);
    gc();
    log(
      `model alone (${what}): ${r.timing.seconds.toFixed(2)} s, cpu ${r.timing.cpuSeconds.toFixed(2)} s, load ${load1()}`,
    );
    return r;
  };
  const reference = timeModel('reference').model;
  for (let r = 1; r < o.modelReps; r++) timeModel(`${r + 1}/${o.modelReps}`);
  let modelProfile: ProfileSummary | undefined;
  if (o.profile) {
    // The model alone's own share of garbage collection, to apportion the service's.
    const stop = await startCpuProfile();
    modelIngest(modelOptions, events);
    modelProfile = summarizeProfile(await stop());
    gc();
  }
  const chunked = new Map<number, IngestTiming>();
  const chunkedTiming = (meanChunk: number): IngestTiming => {
    const k = Math.max(1, chunkKey(meanChunk));
    let t = chunked.get(k);
    if (!t) {
      t = modelIngest(modelOptions, events, k).timing;
      gc();
      chunked.set(k, t);
      log(`model alone, a flush every ${k} events: ${t.seconds.toFixed(2)} s`);
    }
    return t;
  };

  // ------------------------------------------------------------------ broker, clients
  const stack = await benchStack(log);
  const baseEnv: Record<string, string> = {
    ...passThroughEnv(),
    TOMBSTONE_KEY: tombstoneKey,
    KAFKA_BROKERS: stack.brokers,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  };
  if (stack.registryUrl) baseEnv.SCHEMA_REGISTRY_URL = stack.registryUrl;
  else delete baseEnv.SCHEMA_REGISTRY_URL;
  if (o.formats.includes('avro') && !stack.registryUrl)
    throw new Error('--formats avro needs SCHEMA_REGISTRY_URL with KAFKA_BROKERS');
  const config = loadConfig(baseEnv);
  // The bench's own clients: failures surface as exceptions (kafkajs logs expected ones as errors).
  const logger = createLogger('fatal', process.stderr);
  const kafka = createKafka(config.kafka, logger, '-bench');
  const admin = kafka.admin();
  await admin.connect();
  const ctx: BenchContext = {
    kafka,
    admin,
    registry: config.registry ? new SchemaRegistryClient(config.registry) : undefined,
    logger,
    events,
    reference,
    partitions: o.partitions,
    baseEnv,
    prefix: `bench-ml-${randomUUID().slice(0, 8)}`,
    profileDir: o.profile ? mkdtempSync(path.join(tmpdir(), 'amnesia-bench-profile-')) : undefined,
    log,
  };
  // Distinct users for each receipts run (a forgotten user is gone), in a seeded random order.
  const rand = mulberry32(7);
  const shuffled = [...events.userNames]
    .map((u) => [rand(), u] as const)
    .sort((a, b) => a[0] - b[0])
    .map(([, u]) => u);
  const perRun = Math.min(o.deletions, Math.floor(shuffled.length / o.backgroundRates.length));
  const itemsOf = new Map<string, number>();
  for (const [u, items] of itemsByUser(events)) itemsOf.set(events.userNames[u]!, new Set(items).size);
  const deletionSets = o.backgroundRates.map((_, k) => shuffled.slice(k * perRun, (k + 1) * perRun));

  const variants: Record<string, VariantFigures> = {};
  const fills: Record<string, FilledInputs> = {};
  let delivery: DeliveryResult | undefined;
  try {
    if (o.phases.has('delivery')) {
      delivery = await deliveryRun(ctx);
      log(
        `delivery: transaction p50 ${delivery.transactionSpaced.p50Ms} ms spaced, ${delivery.transactionBackToBack.p50Ms} / ` +
          `p90 ${delivery.transactionBackToBack.p90Ms} ms back to back; acks=all send p50 ${delivery.ackedSend.p50Ms} ms`,
      );
    }
    for (const format of o.formats) {
      const vs = o.guarantees.map((guarantee): [string, Variant, VariantFigures] => {
        const tag = `${format}-${guarantee === 'exactly_once' ? 'eos' : 'alo'}`;
        const figures: VariantFigures = { format, guarantee };
        variants[tag] = figures;
        return [tag, { format, guarantee }, figures];
      });
      if (o.phases.has('catchup')) {
        const filled = await fillInputs(ctx, vs[0]![1], `${format}-in`);
        fills[format] = filled;
        log(`${format}: backlog of ${n} events produced in ${filled.seconds} s`);
        for (let rep = 0; rep < o.reps; rep++) {
          const { timing } = timeModel(`before catch-up ${rep + 1}/${o.reps}`);
          for (const [tag, v, figures] of vs) {
            const c = await catchUp(ctx, v, filled, `${tag}-c${rep}`, { profile: false, keep: false });
            (figures.catchUp ??= []).push({ ...c.result, model: timing });
            log(
              `${tag} catch-up ${rep + 1}/${o.reps}: ${c.result.seconds} s (ready ${c.result.readySeconds} s, ` +
                `cpu ${c.result.cpuSeconds} s), lists ${c.result.lists.ok ? 'equal to the model' : `WRONG: ${c.result.lists.example}`}, load ${c.result.load1}`,
            );
          }
        }
        if (o.profile)
          for (const [tag, v, figures] of vs)
            figures.catchUpProfile = (
              await catchUp(ctx, v, filled, `${tag}-cprof`, { profile: true, keep: false })
            ).result.profile;
      }
      if (o.phases.has('receipts'))
        for (const [tag, v, figures] of vs) {
          // Inputs of its own: the background load must not reach the catch-up's backlog.
          const own = await fillInputs(ctx, v, `${tag}-rin`);
          const c = await catchUp(ctx, v, own, `${tag}-r`, { profile: false, keep: true });
          try {
            for (const [k, backgroundRate] of o.backgroundRates.entries()) {
              const r = await receiptRun(ctx, v, c.service!, c.names, {
                users: deletionSets[k]!,
                intervalMs: o.deletionIntervalMs,
                backgroundRate,
                schemaIds: own.schemaIds,
                itemsOf,
                profileFile:
                  o.profile && ctx.profileDir
                    ? path.join(ctx.profileDir, `${tag}-r${backgroundRate}.cpuprofile`)
                    : undefined,
              });
              (figures.receipts ??= []).push(r);
              log(
                `${tag} receipts under ${backgroundRate} ev/s: p50 ${r.latency.p50Ms} ms, p99 ${r.latency.p99Ms} ms, ` +
                  `lag max ${r.lag.maxEvents}, load ${r.load1}`,
              );
            }
            // Every list against the model alone: the data set, the deleted users, the background.
            const expected = receiptsReference(
              modelOptions,
              events,
              deletionSets.flat(),
              (figures.receipts ?? []).map((r) => r.background),
            );
            figures.receiptLists = await checkPublishedLists(
              ctx.kafka,
              c.names.similarities,
              ctx.registry,
              expected,
            );
            gc();
            log(
              `${tag} after the receipts runs: lists ${figures.receiptLists.ok ? 'equal to the model' : `WRONG: ${figures.receiptLists.example}`}`,
            );
          } finally {
            await c.service!.stop();
          }
        }
      if (o.phases.has('live')) {
        for (const rate of o.rates)
          for (const [tag, v, figures] of vs) {
            const l = await liveRun(ctx, v, `${tag}-l${rate || 'max'}`, rate, { profile: false });
            (figures.live ??= []).push({ ...l, model: chunkedTiming(l.meanChunkEvents || n) });
            log(
              `${tag} live ${rate || 'max'} ev/s: ${l.serviceEventsPerSecond} ev/s through, list latency ` +
                `p50 ${l.listLatency.p50Ms} / p99 ${l.listLatency.p99Ms} ms, lag max ${l.lag.maxEvents}, load ${l.load1}`,
            );
          }
        if (o.profile) {
          const fastest = o.rates.includes(0) ? 0 : Math.max(...o.rates);
          for (const [tag, v, figures] of vs)
            figures.liveProfile = (await liveRun(ctx, v, `${tag}-lprof`, fastest, { profile: true })).profile;
        }
      }
    }
  } finally {
    await cleanup(ctx).catch((e: unknown) => log(`cleanup failed: ${String(e)}`));
    await admin.disconnect();
    await stack.stop();
  }

  const model: ModelFigures = {
    runs: modelRuns,
    representation: reference.representation,
    ...(modelProfile ? { profile: modelProfile } : {}),
    ...(o.phases.has('receipts')
      ? { forget: latencySummary(forgetTimes(reference, deletionSets.flat())) }
      : {}),
  };
  return summarize({
    dataset: o.dataset,
    events: n,
    users: events.userNames.length,
    items: events.itemNames.length,
    partitions: o.partitions,
    settings: {
      topK: settings.model.topK,
      batchMaxEvents: settings.batch.maxEvents,
      batchMaxMs: settings.batch.maxMs,
      catchUpFlushMs: settings.batch.catchUpFlushMs,
      outputCompression: settings.outputCompression,
    },
    stack: stack.kind,
    machine: machine(),
    options: { ...o, phases: [...o.phases] },
    model,
    delivery,
    fills,
    variants,
    profileDir: ctx.profileDir,
  });
}

/** Deletes this run's topics and groups (they would otherwise stay on a shared broker). */
async function cleanup(ctx: BenchContext): Promise<void> {
  const topics = (await ctx.admin.listTopics()).filter((t) => t.startsWith(ctx.prefix));
  if (topics.length > 0) await ctx.admin.deleteTopics({ topics });
  const { groups } = await ctx.admin.listGroups();
  const ours = groups.map((g) => g.groupId).filter((g) => g.startsWith(ctx.prefix));
  if (ours.length > 0) await ctx.admin.deleteGroups(ours).catch(() => undefined);
}
