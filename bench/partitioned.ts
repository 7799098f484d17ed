// The partitioned mode on a real broker: a MovieLens CSV (default ml-latest-small) through N
// instances (in this process, each with its own metrics) for each N of --instances; per run the
// published lists are compared with the brute force (test/helpers/oracle.ts), and per instance we
// report the C cells it holds, its item-stage work (cells updated and scanned), its state, and the
// records and bytes produced per input event by kind. Then the restore of moved partitions: a
// second instance joins the N=1 run (half the partitions move to it), then the first leaves (the
// rest move): time, records and bytes read from the changelogs per partition.
//   npm run bench:partitioned -- [--json] [--dataset path] [--instances 1,2,4] [--partitions 4]
//     [--compare-single] [--no-restore]
// --compare-single: the same events through MODE=single in the same harness (one instance in this
// process, the backlog produced once it is ready, until its commits cover the input), and the CPU
// time per event of both modes side by side: `cpuPerEvent` (issue 22: partitioned / single, the N=1
// run against the single one). The CPU is this process's (user + system, all its threads: GC, libuv)
// from the first record sent until the commits cover the input; the producer and the offset polling
// run in a child process (bench/partitioned-feed.ts), so this process holds the service alone and
// both modes are measured alike (the feeder's CPU is reported beside, `feederCpuSeconds`).
// --no-restore skips the restore figures.
// Uses KAFKA_BROKERS/SCHEMA_REGISTRY_URL when set, otherwise starts the local stack. The machine
// has few cores: the figures are work and volume, not wall-clock speed-up.
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Kafka } from 'kafkajs';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import type { PartitionedService } from '../src/partitioned/service.js';
import { startService } from '../src/app.js';
import { createKafka } from '../src/kafka/client.js';
import { createMetrics, type Metrics } from '../src/telemetry/metrics.js';
import { readToEnd } from '../src/kafka/reader.js';
import { bruteForceLists, foldListRecord, survivingHistory, type RefList } from '../test/helpers/oracle.js';
import { csvEvents, type FeedReply, type FeedRequest } from './partitioned-feed.js';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    dataset: { type: 'string', default: 'bench/data/ml-latest-small/ratings.csv' },
    instances: { type: 'string', default: '1,2,4' },
    partitions: { type: 'string', default: '4' },
    'top-k': { type: 'string', default: '20' },
    'compare-single': { type: 'boolean', default: false },
    'no-restore': { type: 'boolean', default: false },
  },
});
const log = (msg: string) => process.stderr.write(`[bench:partitioned] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TOP_K = Number(values['top-k']);

interface Run {
  readonly env: Record<string, string>;
  readonly groupId: string;
  readonly topics: { interactions: string; deletions: string; similarities: string };
}

function run(prefix: string): Run {
  const topics = {
    interactions: `${prefix}-interactions`,
    deletions: `${prefix}-deletions`,
    similarities: `${prefix}-similarities`,
  };
  return {
    groupId: `${prefix}-g`,
    topics,
    env: {
      ...(process.env as Record<string, string>),
      MODE: 'partitioned',
      TOMBSTONE_KEY: 'bench-partitioned-key-0123456789',
      KAFKA_GROUP_ID: `${prefix}-g`,
      INTERACTIONS_TOPIC: topics.interactions,
      DELETIONS_TOPIC: topics.deletions,
      SIMILARITIES_TOPIC: topics.similarities,
      RECEIPTS_TOPIC: `${prefix}-receipts`,
      TOPIC_PARTITIONS: values.partitions,
      OUTPUT_FORMAT: 'json',
      TOP_K: String(TOP_K),
      HTTP_PORT: '0',
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'silent',
      KAFKA_SESSION_TIMEOUT_MS: '10000',
      KAFKA_HEARTBEAT_INTERVAL_MS: '1000',
      KAFKA_TRANSACTION_TIMEOUT_MS: '120000',
    },
  };
}

async function start(r: Run, mode = 'partitioned'): Promise<{ svc: PartitionedService; metrics: Metrics }> {
  const config = loadConfig({ ...r.env, MODE: mode });
  const metrics = createMetrics();
  const svc = (await startService(config, {
    log: createLogger(config.logLevel),
    metrics,
  })) as PartitionedService;
  return { svc, metrics };
}

/** The feeder (bench/partitioned-feed.ts) in a child process: its replies in order, `ready` first. */
function startFeeder(dataset: string) {
  const child: ChildProcess = fork(new URL('./partitioned-feed.ts', import.meta.url), {
    env: { ...process.env, AMNESIA_BENCH_FEED: dataset },
  });
  const replies: FeedReply[] = [];
  let waiting: { ok: (m: FeedReply) => void; fail: (e: Error) => void } | undefined;
  let exited: Error | undefined;
  const reply = () =>
    new Promise<FeedReply>((ok, fail) => {
      const m = replies.shift();
      if (m) ok(m);
      else if (exited) fail(exited);
      else waiting = { ok, fail };
    });
  child.on('message', (m: FeedReply) => {
    const w = waiting;
    waiting = undefined;
    if (w) w.ok(m);
    else replies.push(m);
  });
  const exit = new Promise<void>((done) =>
    child.on('exit', (code) => {
      exited = new Error(`the feeder exited (${code})`);
      waiting?.fail(exited);
      waiting = undefined;
      done();
    }),
  );
  const ready = reply();
  const ask = (m: FeedRequest) => {
    child.send(m);
    return reply();
  };
  /** Asks it to disconnect and exit; ends it after 10 s. */
  const stop = async () => {
    if (exited) return;
    child.send({ stop: true } satisfies FeedRequest);
    await Promise.race([exit, sleep(10_000)]);
    if (!exited) child.kill();
  };
  return { ready, ask, stop };
}

async function value(metrics: Metrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = metrics.registry.getSingleMetric(name);
  if (!m) return 0;
  const got = await m.get();
  let sum = 0;
  for (const v of got.values)
    if (Object.entries(labels).every(([k, x]) => String((v.labels as Record<string, unknown>)[k]) === x))
      sum += v.value;
  return sum;
}

async function figures(metrics: Metrics) {
  const stage = (s: string) => ({ stage: s });
  const produced: Record<string, { records: number; bytes: number }> = {};
  // Every kind the stages produced (the routed repartition records among them), and the usual ones
  // even when zero.
  const kinds = new Set(['routed', 'deltas', 'changelog', 'acks', 'lists', 'receipts', 'ticks']);
  const seen = await metrics.registry.getSingleMetric('amnesia_partition_records_produced_total')?.get();
  for (const v of seen?.values ?? []) kinds.add(String((v.labels as Record<string, unknown>).kind));
  for (const kind of kinds)
    produced[kind] = {
      records: await value(metrics, 'amnesia_partition_records_produced_total', { kind }),
      bytes: await value(metrics, 'amnesia_partition_bytes_produced_total', { kind }),
    };
  return {
    cells: await value(metrics, 'amnesia_partition_cooccurrences'),
    users: await value(metrics, 'amnesia_partition_users'),
    stateBytes: {
      users: await value(metrics, 'amnesia_partition_state_bytes', stage('users')),
      items: await value(metrics, 'amnesia_partition_state_bytes', stage('items')),
    },
    events: await value(metrics, 'amnesia_partition_work_total', { kind: 'events' }),
    ops: await value(metrics, 'amnesia_partition_work_total', { kind: 'ops' }),
    cellUpdates: await value(metrics, 'amnesia_partition_work_total', { kind: 'cell_updates' }),
    cellsScanned: await value(metrics, 'amnesia_partition_work_total', { kind: 'cells_scanned' }),
    produced,
  };
}

async function published(kafka: Kafka, topic: string): Promise<Map<string, RefList>> {
  const out = new Map<string, RefList>();
  await readToEnd(kafka, topic, (m) => foldListRecord(out, m));
  return out;
}

function differences(got: Map<string, RefList>, expected: Map<string, RefList>): number {
  let bad = 0;
  for (const [item, list] of expected) if (JSON.stringify(got.get(item)) !== JSON.stringify(list)) bad++;
  for (const item of got.keys()) if (!expected.has(item)) bad++;
  return bad;
}

/** CPU µs per event of each mode and their ratio (the N=1 partitioned run against the single one). */
function cpuPerEvent(
  runs: readonly Record<string, unknown>[],
  single: { cpuSeconds: number },
  events: number,
) {
  const one = runs.find((x) => x.instances === 1);
  const us = (cpu: number) => Math.round((cpu / events) * 1e7) / 10;
  if (!one) return { singleMicros: us(single.cpuSeconds) };
  const p = one.cpuSeconds as number;
  return {
    singleMicros: us(single.cpuSeconds),
    partitionedMicros: us(p),
    partitionedOverSingle: Math.round((p / single.cpuSeconds) * 1000) / 1000,
  };
}

async function main(): Promise<void> {
  let stopStack: (() => Promise<void>) | undefined;
  if (!process.env.KAFKA_BROKERS) {
    const { startStack } = await import('../scripts/stack.mjs');
    log('no KAFKA_BROKERS: starting the local stack');
    const stack = await startStack({
      stackDir: mkdtempSync(path.join(tmpdir(), 'amnesia-bench-stack-')),
      quiet: true,
    });
    process.env.KAFKA_BROKERS = stack.kafkaBrokers;
    process.env.SCHEMA_REGISTRY_URL = stack.schemaRegistryUrl;
    stopStack = () => stack.stop();
  }
  const feeder = startFeeder(values.dataset);
  const events = csvEvents(values.dataset);
  log(`${events.length} events; computing the brute force`);
  const expected = bruteForceLists(survivingHistory(events, []), TOP_K, 1);
  const kafka = createKafka(loadConfig(process.env).kafka, createLogger('silent'));
  const results: Record<string, unknown>[] = [];
  let restore: Record<string, unknown> | undefined;
  let single:
    { seconds: number; cpuSeconds: number; feederCpuSeconds: number; listsDiffering: number } | undefined;
  /**
   * The feeder produces the events once the instances are ready and waits until they are processed:
   * seconds, this process's CPU seconds (the service's alone), the feeder's.
   */
  const through = async (r: Run, isSingle = false) => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const done = await feeder.ask({
      run: { groupId: r.groupId, interactions: r.topics.interactions, single: isSingle },
    });
    const cpu = process.cpuUsage(cpu0);
    if (!('done' in done)) throw new Error('the feeder: an unexpected reply');
    return {
      seconds: (performance.now() - t0) / 1000,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      feederCpuSeconds: done.cpuSeconds,
    };
  };
  try {
    await feeder.ready;
    if (values['compare-single']) {
      const r = run(`bench-s-${randomUUID().slice(0, 8)}`);
      log('single mode: starting');
      const i = await start(r, 'single');
      await i.svc.waitUntilReady(120_000);
      const t = await through(r, true);
      single = { ...t, listsDiffering: differences(await published(kafka, r.topics.similarities), expected) };
      log(
        `single: ${t.seconds.toFixed(1)} s, cpu ${t.cpuSeconds.toFixed(1)} s, ${single.listsDiffering} lists differ`,
      );
      await i.svc.stop();
    }
    for (const n of values.instances.split(',').map(Number)) {
      const r = run(`bench-p-${randomUUID().slice(0, 8)}`);
      log(`N=${n}: starting`);
      const instances = [];
      for (let k = 0; k < n; k++) instances.push(await start(r));
      for (const i of instances) await i.svc.waitUntilReady(120_000);
      const { seconds, cpuSeconds, feederCpuSeconds } = await through(r);
      const bad = differences(await published(kafka, r.topics.similarities), expected);
      const per: Awaited<ReturnType<typeof figures>>[] = [];
      for (const i of instances) per.push(await figures(i.metrics));
      const volume: Record<string, { recordsPerEvent: number; bytesPerEvent: number }> = {};
      const total = { recordsPerEvent: 0, bytesPerEvent: 0 };
      for (const kind of new Set(per.flatMap((f) => Object.keys(f.produced)))) {
        const sum = (x: 'records' | 'bytes') => per.reduce((a, f) => a + (f.produced[kind]?.[x] ?? 0), 0);
        volume[kind] = {
          recordsPerEvent: sum('records') / events.length,
          bytesPerEvent: sum('bytes') / events.length,
        };
        total.recordsPerEvent += volume[kind].recordsPerEvent;
        total.bytesPerEvent += volume[kind].bytesPerEvent;
      }
      const result = {
        instances: n,
        events: events.length,
        seconds,
        cpuSeconds,
        feederCpuSeconds,
        listsDiffering: bad,
        perInstance: per,
        volume,
        volumeTotal: total,
      };
      log(`N=${n}: ${seconds.toFixed(1)} s, ${bad} lists differ from the brute force`);
      results.push(result);
      if (n === 1 && !values['no-restore']) {
        // Restore: a second instance joins (half the partitions move), then the first leaves.
        const b = await start(r);
        await b.svc.waitUntilReady(300_000);
        await instances[0]!.svc.stop();
        await sleep(1_000);
        await b.svc.waitUntilReady(300_000);
        const moved = (['users', 'items'] as const).map((stage) => ({
          stage,
          partitions: b.svc.stages[stage].restores,
        }));
        restore = { dataset: values.dataset, partitions: Number(values.partitions), moved };
        await b.svc.stop();
      } else for (const i of instances) await i.svc.stop();
    }
  } finally {
    await feeder.stop();
    await stopStack?.();
  }
  const out = {
    bench: 'partitioned',
    dataset: values.dataset,
    partitions: Number(values.partitions),
    runs: results,
    restore,
    ...(single ? { single, cpuPerEvent: cpuPerEvent(results, single, events.length) } : {}),
  };
  process.stdout.write(values.json ? `${JSON.stringify(out)}\n` : `${JSON.stringify(out, null, 2)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`[bench:partitioned] failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
