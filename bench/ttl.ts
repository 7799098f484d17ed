// Issue 23's cost of INTERACTION_TTL_MS beside plain Jaccard, on one dataset, in one process:
//   - ingest per 10k events (exact top-K every 10k), the TTL off and on (each interaction's time
//     kept and checked on arrival; nothing expires here);
//   - expiry per 10k events: the whole stream held under the TTL, the cutoff moved forward in steps
//     that each expire the next 10k events in event-time order, each step timed as expireBefore plus
//     the flush that brings C and every affected list up to date;
//   - the model's bytes with the times and without.
// One JSON row per figure on stdout: {row: 'issue-23-ttl', figure, unit, jaccard, jaccardTtl,
// ttlOverJaccard, min, max, runs} (medians over --reps runs, the ratio the median of the runs' own
// ratios; expiry over every step of them).
//
//   npm run bench:ttl -- [--dataset bench/data/ml-latest-small/ratings.csv] [--reps 3]

import { parseArgs } from 'node:util';
import { Model } from '../src/model/index.js';
import { addOf, readCsv, type EventStream } from './datasets.js';
import { row } from './targets.js';

const { values: args } = parseArgs({
  options: {
    dataset: { type: 'string', default: 'bench/data/ml-latest-small/ratings.csv' },
    reps: { type: 'string', default: '3' },
    'top-k': { type: 'string', default: '20' },
  },
});
const stream: EventStream = readCsv(args.dataset);
const reps = Number(args.reps);
const topK = Number(args['top-k']);
const STEP = 10_000;
const options = (ttl: boolean) => ({ topK, maxItemsPerUser: 1_000_000, interactionTtlMs: ttl ? 1 : 0 });

function ingest(model: Model): number {
  const t0 = performance.now();
  for (let e = 0; e < stream.users.length; e++) {
    model.interaction(addOf(stream, e));
    if ((e + 1) % STEP === 0) model.flush();
  }
  model.flush();
  return ((performance.now() - t0) / 1000 / stream.users.length) * STEP;
}

/** Seconds per step of expiring the next STEP events (event-time order) and flushing. */
function expirySteps(model: Model): number[] {
  const times = Float64Array.from(stream.times).sort();
  const out: number[] = [];
  for (let k = STEP; k <= times.length; k += STEP) {
    // Everything before the k-th time: about STEP more each step (ties at the cutoff stay).
    const cutoff = times[k - 1] as number;
    const t0 = performance.now();
    model.expireBefore(cutoff);
    model.flush();
    out.push((performance.now() - t0) / 1000);
  }
  return out;
}

const plain: number[] = [];
const timed: number[] = [];
const expiry: number[] = [];
let bytes = { plain: 0, timed: 0 };
for (let r = 0; r < reps; r++) {
  const p = new Model(options(false));
  plain.push(ingest(p));
  const t = new Model(options(true));
  timed.push(ingest(t));
  bytes = { plain: p.stats().bytes, timed: t.stats().bytes };
  expiry.push(...expirySteps(t));
  process.stderr.write(
    `rep ${r + 1}/${reps}: ingest ${plain.at(-1)?.toFixed(4)} s vs ${timed.at(-1)?.toFixed(4)} s per 10k\n`,
  );
}

const figures: [figure: string, unit: string, jaccard: number[], jaccardTtl: number[]][] = [
  ['ingest per 10k events (exact top-K every 10k)', 's', plain, timed],
  ['expiry per 10k events (expireBefore + flush)', 's', [], expiry],
  ['model bytes after ingest', 'bytes', [bytes.plain], [bytes.timed]],
];
for (const [figure, unit, j, t] of figures) {
  const a = row(figure, unit, '', undefined, j);
  const b = row(figure, unit, '', undefined, t);
  // Paired by run where both sides ran (the runs share the machine's load): the median ratio.
  const paired = j.length === t.length ? t.map((x, k) => x / (j[k] as number)) : [];
  const ratio = row(figure, '', '', undefined, paired).median;
  process.stdout.write(
    `${JSON.stringify({ row: 'issue-23-ttl', dataset: stream.name, events: stream.users.length, figure, unit, jaccard: a.median, jaccardTtl: b.median, ttlOverJaccard: ratio, min: b.min, max: b.max, runs: b.runs })}\n`,
  );
}
