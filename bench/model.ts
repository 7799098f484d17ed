// Model benchmark, all in one process: ingest with exact top-K every 10,000 events; RSS after a
// collection; forgetting the heaviest user and a sample of random users on the full state (each
// forget + flush timed, then the user put back); the whole stream as one catch-up chunk; a
// retrain-without-one-user baseline; and, with --heavy-user, the longest slice of a sliced flush
// adding and forgetting one user with that many items.
//
//   npm run bench:model -- --dataset bench/data/ml-latest-small/ratings.csv [--json]
//   npm run bench:model -- --synthetic --events 2000000 --users 20000 --items 10000 [--json]
//   npm run bench:model -- --synthetic-ml20m [--full] [--json]      (first 4 M events, or all 20 M)
//   options: --forget-sample 50 (random users, seeded) --forget-all --heavy-user 20000 --no-catchup
//            --similarity jaccard|cosine (default jaccard)

import { parseArgs } from 'node:util';
import { Model, SIMILARITY_MEASURES, type SimilarityMeasure } from '../src/model/index.js';
import {
  forgetOrder,
  itemsByUser,
  mulberry32,
  readCsv,
  synthetic,
  syntheticMl20m,
  type EventStream,
} from './datasets.js';
import { rawProbeSeconds } from './probe.js';

const { values: args } = parseArgs({
  options: {
    dataset: { type: 'string' },
    synthetic: { type: 'boolean', default: false },
    'synthetic-ml20m': { type: 'boolean', default: false },
    full: { type: 'boolean', default: false },
    events: { type: 'string', default: '1000000' },
    users: { type: 'string', default: '10000' },
    items: { type: 'string', default: '5000' },
    seed: { type: 'string', default: '42' },
    'top-k': { type: 'string', default: '20' },
    'flush-every': { type: 'string', default: '10000' },
    'forget-sample': { type: 'string', default: '50' },
    'forget-all': { type: 'boolean', default: false },
    'heavy-user': { type: 'string' },
    'no-catchup': { type: 'boolean', default: false },
    representation: { type: 'string', default: 'auto' },
    similarity: { type: 'string', default: 'jaccard' },
    json: { type: 'boolean', default: false },
  },
});

const log = (msg: string): void => {
  if (!args.json) process.stderr.write(`${msg}\n`);
};
const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d;
const percentile = (sorted: number[], p: number): number =>
  sorted.length === 0
    ? 0
    : (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number);

function ingest(model: Model, s: EventStream, flushEvery: number, skipUser = -1): number {
  const t0 = performance.now();
  for (let e = 0; e < s.users.length; e++) {
    const u = s.users[e] as number;
    if (u === skipUser) continue;
    model.interaction({
      userId: s.userNames[u] as string,
      itemId: s.itemNames[s.items[e] as number] as string,
      action: 'ADD',
      occurredAt: s.times[e] as number,
    });
    if ((e + 1) % flushEvery === 0) model.flush();
  }
  model.flush();
  return (performance.now() - t0) / 1000;
}

/** RSS after full collections (npm scripts pass --expose-gc); freed squares are released off-thread. */
async function settledMemory(): Promise<NodeJS.MemoryUsage> {
  for (let k = 0; k < 2; k++) {
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((r) => setTimeout(r, 200));
  }
  return process.memoryUsage();
}

const stream: EventStream = args['synthetic-ml20m']
  ? syntheticMl20m(Number(args.seed), args.full ? Infinity : 4_000_000)
  : args.dataset
    ? readCsv(args.dataset)
    : synthetic({
        events: Number(args.events),
        users: Number(args.users),
        items: Number(args.items),
        seed: Number(args.seed),
      });
const topK = Number(args['top-k']);
const flushEvery = Number(args['flush-every']);
const repr = { representation: args.representation as 'dense' | 'sparse' | 'auto' };
const similarity = args.similarity as SimilarityMeasure;
if (!SIMILARITY_MEASURES.includes(similarity))
  throw new Error(`--similarity must be one of ${SIMILARITY_MEASURES.join(', ')}`);
const options = { topK, maxItemsPerUser: 1_000_000, similarity };

log(`dataset ${stream.name}: ${stream.users.length} events`);
const model = new Model(options, repr);
const ingestSeconds = ingest(model, stream, flushEvery);
const stats = model.stats();
// The raw probe on the same stream and flush interval (bench/probe.ts); undefined when C would not fit.
const probeSeconds =
  stream.itemNames.length ** 2 * 4 <= 2 ** 31 ? rawProbeSeconds(stream, flushEvery, topK) : undefined;
if (probeSeconds !== undefined)
  log(`raw probe ${probeSeconds.toFixed(3)} s: ingest ${(ingestSeconds / probeSeconds).toFixed(2)}× it`);
const memory = await settledMemory();
log(
  `ingest ${ingestSeconds.toFixed(3)} s, ${stats.users} users, ${stats.items} items, ${stats.pairs} pairs, rss ${(memory.rss / 2 ** 20).toFixed(0)} MiB`,
);

const userItems = itemsByUser(stream);
const { heaviest, others } = forgetOrder(userItems);
let clock = 4_000_000_000_000;

/** Forgets u (timed with its flush), then puts the user back (untimed). */
function forgetAndRestore(u: number): number {
  const userId = stream.userNames[u] as string;
  const t0 = performance.now();
  model.forget({ userId, requestedAt: clock++ });
  model.flush();
  const ms = performance.now() - t0;
  for (const item of userItems.get(u) as string[])
    model.interaction({ userId, itemId: item, action: 'ADD', occurredAt: clock });
  clock++;
  model.flush();
  return ms;
}

function forgetStats(users: number[]): { p50: number; p99: number; max: number; users: number } {
  const ms = users.map(forgetAndRestore).sort((a, b) => a - b);
  return {
    p50: round(percentile(ms, 50)),
    p99: round(percentile(ms, 99)),
    max: round(ms.at(-1) ?? 0),
    users: ms.length,
  };
}

const heaviestMs = forgetAndRestore(heaviest);
log(`forget heaviest user (${userItems.get(heaviest)?.length} items): ${heaviestMs.toFixed(1)} ms`);
const sample = forgetStats(others.slice(0, Number(args['forget-sample'])));
log(`forget ${sample.users} random users: p50 ${sample.p50} ms, max ${sample.max} ms`);
const all = args['forget-all'] ? forgetStats([...userItems.keys()]) : undefined;
if (all) log(`forget every user: p50 ${all.p50} ms, p99 ${all.p99} ms, max ${all.max} ms`);

// The whole stream as one chunk (a cold start on a backlog), and retraining without the median user.
const catchupSeconds = args['no-catchup'] ? undefined : ingest(new Model(options, repr), stream, Infinity);
if (catchupSeconds !== undefined) log(`catch-up (one chunk) ${catchupSeconds.toFixed(3)} s`);
const byLength = [...userItems].sort((a, b) => a[1].length - b[1].length);
const median = byLength[Math.floor(byLength.length / 2)]?.[0] as number;
const retrainSeconds = ingest(new Model(options, repr), stream, Infinity, median);
log(`retrain without one user ${retrainSeconds.toFixed(3)} s`);

/** A user with `h` items added, then forgotten, each flushed in slices of ≤ 10 ms: the longest slice. */
function heavyUser(h: number): { items: number; addMaxSliceMs: number; forgetMaxSliceMs: number } {
  const m = new Model({ topK, maxItemsPerUser: h, similarity }, repr);
  const r = mulberry32(3);
  for (let k = 0; k < 200_000; k++)
    m.interaction({
      userId: `b${Math.floor(r() * 5000)}`,
      itemId: `i${Math.floor(h * 1.25 * r() ** 2)}`,
      action: 'ADD',
      occurredAt: 1,
    });
  m.flush();
  const sliced = (): number => {
    const job = m.beginFlush();
    let longest = 0;
    for (let done = false; !done;) {
      const t0 = performance.now();
      done = job.step(() => performance.now() - t0 > 10);
      longest = Math.max(longest, performance.now() - t0);
    }
    return longest;
  };
  for (let i = 0; i < h; i++)
    m.interaction({ userId: 'heavy', itemId: `i${i}`, action: 'ADD', occurredAt: 2 });
  const addMaxSliceMs = sliced();
  m.forget({ userId: 'heavy', requestedAt: 3 });
  return { items: h, addMaxSliceMs: round(addMaxSliceMs), forgetMaxSliceMs: round(sliced()) };
}
const heavy = args['heavy-user'] !== undefined ? heavyUser(Number(args['heavy-user'])) : undefined;
if (heavy)
  log(
    `heavy user of ${heavy.items} items: longest slice adding ${heavy.addMaxSliceMs} ms, forgetting ${heavy.forgetMaxSliceMs} ms`,
  );

const result = {
  dataset: stream.name,
  events: stream.users.length,
  users: stats.users,
  items: stats.items,
  pairs: stats.pairs,
  representation: model.representation,
  topK,
  similarity,
  flushEvery,
  ingestSeconds: round(ingestSeconds),
  eventsPerSecond: Math.round(stream.users.length / ingestSeconds),
  ...(probeSeconds !== undefined
    ? { rawProbeSeconds: round(probeSeconds), ingestOverProbe: round(ingestSeconds / probeSeconds) }
    : {}),
  forgetHeaviest: { items: userItems.get(heaviest)?.length, ms: round(heaviestMs) },
  forgetSampleMs: sample,
  ...(all ? { forgetAllMs: all } : {}),
  ...(catchupSeconds !== undefined ? { catchupSeconds: round(catchupSeconds) } : {}),
  retrainSeconds: round(retrainSeconds),
  speedupP50: Math.round(retrainSeconds / (sample.p50 / 1000)),
  rssBytes: memory.rss,
  heapUsedBytes: memory.heapUsed,
  arrayBufferBytes: memory.arrayBuffers,
  modelBytes: stats.bytes,
  bytesPerPair: round(stats.bytes / Math.max(1, stats.pairs), 2),
  forcedRescans: model.forcedRescans,
  ...(heavy ? { heavyUser: heavy } : {}),
};
if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`);
else console.table(result);
