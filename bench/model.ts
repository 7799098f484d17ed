// Model benchmark: ingest with exact top-K every 10,000 events, forgetting every user (or a sample)
// one at a time on the full state, and a retrain-without-one-user baseline, all in one process.
//
//   npm run bench:model -- --dataset bench/data/ml-latest-small/ratings.csv [--json]
//   npm run bench:model -- --synthetic --events 2000000 --users 20000 --items 10000 [--forget-sample 200] [--json]

import { parseArgs } from 'node:util';
import { Model } from '../src/model/index.js';
import { mulberry32, readCsv, synthetic, type EventStream } from './datasets.js';

const { values: args } = parseArgs({
  options: {
    dataset: { type: 'string' },
    synthetic: { type: 'boolean', default: false },
    events: { type: 'string', default: '1000000' },
    users: { type: 'string', default: '10000' },
    items: { type: 'string', default: '5000' },
    seed: { type: 'string', default: '42' },
    'top-k': { type: 'string', default: '20' },
    'flush-every': { type: 'string', default: '10000' },
    'forget-sample': { type: 'string' },
    representation: { type: 'string', default: 'auto' },
    json: { type: 'boolean', default: false },
  },
});

const log = (msg: string): void => {
  if (!args.json) process.stderr.write(`${msg}\n`);
};

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

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

const stream: EventStream = args.dataset
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

log(`dataset ${stream.name}: ${stream.users.length} events`);
const model = new Model({ topK }, repr);
const ingestSeconds = ingest(model, stream, flushEvery);
const stats = model.stats();
// RSS after a full collection when the runtime allows it (npm scripts pass --expose-gc): garbage of
// the ingest (flushed lists, the old squares of earlier growth) is not state.
// Freed ArrayBuffers (the smaller squares C grew out of) are released after the collection, off
// the main thread: collect twice with a pause before reading RSS.
for (let k = 0; k < 2; k++) {
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((r) => setTimeout(r, 200));
}
const { rss: rssBytes, heapUsed: heapUsedBytes, arrayBuffers: arrayBufferBytes } = process.memoryUsage();
log(
  `ingest ${ingestSeconds.toFixed(3)} s, ${stats.users} users, ${stats.items} items, ${stats.pairs} pairs, rss ${(rssBytes / 2 ** 20).toFixed(0)} MiB`,
);

// Forget users one at a time on the full state, then put them back (with later event times).
const userItems = new Map<number, string[]>();
for (let e = 0; e < stream.users.length; e++) {
  const u = stream.users[e] as number;
  let list = userItems.get(u);
  if (list === undefined) userItems.set(u, (list = []));
  list.push(stream.itemNames[stream.items[e] as number] as string);
}
let candidates = [...userItems.keys()];
if (args['forget-sample'] !== undefined) {
  const rand = mulberry32(7);
  const k = Number(args['forget-sample']);
  for (let i = candidates.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [candidates[i], candidates[j]] = [candidates[j] as number, candidates[i] as number];
  }
  // Always include the most active user: the worst case.
  const heaviest = [...userItems].sort((a, b) => b[1].length - a[1].length)[0]?.[0] as number;
  candidates = [heaviest, ...candidates.slice(0, k).filter((u) => u !== heaviest)];
}
const forgetMs: number[] = [];
let clock = 4_000_000_000_000;
let worstUser = -1;
let worstMs = -1;
for (const u of candidates) {
  const userId = stream.userNames[u] as string;
  const t0 = performance.now();
  model.forget({ userId, requestedAt: clock++ });
  model.flush();
  const ms = performance.now() - t0;
  forgetMs.push(ms);
  if (ms > worstMs) [worstMs, worstUser] = [ms, u];
  for (const item of userItems.get(u) as string[])
    model.interaction({ userId, itemId: item, action: 'ADD', occurredAt: clock });
  clock++;
  model.flush();
}
forgetMs.sort((a, b) => a - b);
log(
  `forget p50 ${percentile(forgetMs, 50).toFixed(3)} ms, p99 ${percentile(forgetMs, 99).toFixed(3)} ms, max ${worstMs.toFixed(1)} ms (user with ${userItems.get(worstUser)?.length} items)`,
);

// Retraining baseline: everything from scratch without the median user, same process, one flush.
const median = candidates
  .map((u) => [u, (userItems.get(u) as string[]).length] as const)
  .sort((a, b) => a[1] - b[1])[Math.floor(candidates.length / 2)]?.[0] as number;
const retrainModel = new Model({ topK }, repr);
const retrainSeconds = ingest(retrainModel, stream, Number.MAX_SAFE_INTEGER, median);
log(`retrain without one user ${retrainSeconds.toFixed(3)} s`);

const result = {
  dataset: stream.name,
  events: stream.users.length,
  users: stats.users,
  items: stats.items,
  pairs: stats.pairs,
  representation: model.representation,
  topK,
  flushEvery,
  ingestSeconds: round(ingestSeconds, 3),
  eventsPerSecond: Math.round(stream.users.length / ingestSeconds),
  forgotten: forgetMs.length,
  forgetMs: {
    p50: round(percentile(forgetMs, 50), 3),
    p99: round(percentile(forgetMs, 99), 3),
    max: round(worstMs, 3),
  },
  retrainSeconds: round(retrainSeconds, 3),
  speedupP50: Math.round(retrainSeconds / (percentile(forgetMs, 50) / 1000)),
  rssBytes,
  heapUsedBytes,
  arrayBufferBytes,
  modelBytes: stats.bytes,
  bytesPerPair: round(stats.bytes / Math.max(1, stats.pairs), 2),
  forcedRescans: model.forcedRescans,
};
if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`);
else console.table(result);

function round(x: number, d: number): number {
  return Math.round(x * 10 ** d) / 10 ** d;
}
