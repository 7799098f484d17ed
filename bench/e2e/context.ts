// What the phases of the MovieLens end-to-end benchmark share: the broker clients, the events, the
// reference model, the service's environment for a variant (format × guarantee) and topic names, and
// the replay worker that produces the events.
import { Worker } from 'node:worker_threads';
import type { Admin, Kafka } from 'kafkajs';
import { CONFIG_VARIABLES, loadConfig, type Config } from '../../src/config.js';
import type { Logger } from '../../src/log.js';
import type { Model } from '../../src/model/index.js';
import type { SchemaRegistryClient } from '../../src/kafka/registry.js';
import { localSchema } from '../../src/kafka/schemas.js';
import { registerSchemas, topicSpecs, type SchemaIds } from '../../src/kafka/topics.js';
import type { EventStream } from '../datasets.js';

export type Format = 'json' | 'avro';
export type Guarantee = 'exactly_once' | 'at_least_once';

export interface Variant {
  readonly format: Format;
  readonly guarantee: Guarantee;
}

export interface BenchContext {
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly registry: SchemaRegistryClient | undefined;
  readonly logger: Logger;
  /** The data set, in event-time order (the order it is produced in). */
  readonly events: EventStream;
  readonly reference: Model;
  readonly partitions: number;
  /** Environment every service child gets (brokers, registry, settings passed through). */
  readonly baseEnv: Readonly<Record<string, string>>;
  /** Prefix of every topic and group of this run. */
  readonly prefix: string;
  readonly profileDir: string | undefined;
  readonly log: (msg: string) => void;
}

export interface TopicNames {
  readonly group: string;
  readonly interactions: string;
  readonly deletions: string;
  readonly similarities: string;
  readonly receipts: string;
  readonly progress: string;
}

/** Topic and group names: `inputs` shares the input topics between runs (catch-up repetitions). */
export function topicNames(ctx: BenchContext, run: string, inputs = run): TopicNames {
  return {
    group: `${ctx.prefix}-${run}`,
    interactions: `${ctx.prefix}-${inputs}-interactions`,
    deletions: `${ctx.prefix}-${inputs}-deletions`,
    similarities: `${ctx.prefix}-${run}-similarities`,
    receipts: `${ctx.prefix}-${run}-receipts`,
    progress: `${ctx.prefix}-${run}-progress`,
  };
}

/** The settings a benchmark run may tune through the bench's own environment (BATCH_MAX_MS, …). */
export function passThroughEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of CONFIG_VARIABLES) {
    const v = process.env[k];
    if (v !== undefined && v !== '') out[k] = v;
  }
  return out;
}

/** The service child's environment for a variant and its topics. */
export function serviceEnv(ctx: BenchContext, v: Variant, names: TopicNames): Record<string, string> {
  const env: Record<string, string> = {
    ...ctx.baseEnv,
    KAFKA_GROUP_ID: names.group,
    INTERACTIONS_TOPIC: names.interactions,
    DELETIONS_TOPIC: names.deletions,
    SIMILARITIES_TOPIC: names.similarities,
    RECEIPTS_TOPIC: names.receipts,
    PROGRESS_TOPIC: names.progress,
    PROCESSING_GUARANTEE: v.guarantee,
    OUTPUT_FORMAT: v.format,
    TOPIC_PARTITIONS: String(ctx.partitions),
  };
  // A JSON deployment has no registry at all.
  if (v.format === 'json') delete env.SCHEMA_REGISTRY_URL;
  return env;
}

export function configOf(env: Readonly<Record<string, string>>): Config {
  return loadConfig(env);
}

/** Creates the input topics as the service would, and registers the schemas (Avro). */
export async function prepareInputs(
  ctx: BenchContext,
  config: Config,
): Promise<{ schemaIds: SchemaIds | undefined }> {
  const t = config.topics;
  const existing = new Set(await ctx.admin.listTopics());
  const specs = topicSpecs(config).filter(
    (s) => (s.topic === t.interactions || s.topic === t.deletions) && !existing.has(s.topic),
  );
  if (specs.length > 0) await ctx.admin.createTopics({ topics: specs, waitForLeaders: true });
  const schemaIds =
    config.registry && ctx.registry ? await registerSchemas(ctx.registry, config, ctx.logger) : undefined;
  return { schemaIds };
}

export interface ReplayOptions {
  readonly topic: string;
  /** Events per second; 0 = as fast as the producer goes. */
  readonly rate: number;
  /** Report every event's partition, offset and send time. */
  readonly track: boolean;
  /** Repeat the data set (a new user prefix per pass) until stopped. */
  readonly loop?: boolean;
  readonly userPrefix?: string;
  readonly acks?: -1 | 1;
  readonly schemaId?: number | undefined;
}

export interface ReplayResult {
  readonly sent: number;
  readonly start: number;
  readonly end: number;
  readonly sentAt?: Float64Array;
  readonly partitionOf?: Int32Array;
  readonly offsetOf?: Float64Array;
}

export interface Replay {
  readonly connected: Promise<void>;
  readonly done: Promise<ReplayResult>;
  /** Ends a looping replay (or an ongoing one) after its current send. */
  stop(): void;
}

/** Replays the context's events (replay-worker.mjs, in a thread of its own). */
export function replay(ctx: BenchContext, o: ReplayOptions): Replay {
  return replayEvents(ctx.baseEnv.KAFKA_BROKERS!.split(','), ctx.partitions, ctx.events, o);
}

export function replayEvents(
  brokers: readonly string[],
  partitions: number,
  e: EventStream,
  o: ReplayOptions,
): Replay {
  const worker = new Worker(new URL('./replay-worker.mjs', import.meta.url), {
    workerData: {
      brokers,
      topic: o.topic,
      partitions,
      rate: o.rate,
      events: {
        users: e.users,
        items: e.items,
        times: e.times,
        userNames: e.userNames,
        itemNames: e.itemNames,
      },
      schemaId: o.schemaId,
      schemaText: o.schemaId !== undefined ? localSchema('interaction').text : undefined,
      userPrefix: o.userPrefix ?? '',
      loop: o.loop ?? false,
      track: o.track,
      acks: o.acks ?? -1,
    },
  });
  let connected!: () => void;
  const connectedP = new Promise<void>((res) => (connected = res));
  const done = new Promise<ReplayResult>((resolve, reject) => {
    worker.on('message', (m: { type: string } & ReplayResult) => {
      if (m.type === 'connected') connected();
      if (m.type === 'done') resolve(m);
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`replay worker exited (${code})`)));
  });
  return {
    connected: Promise.race([connectedP, done.then(() => undefined)]),
    done: done.finally(() => void worker.terminate()),
    stop: () => worker.postMessage('stop'),
  };
}
