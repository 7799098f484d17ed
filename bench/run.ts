// `npm run bench`: every benchmark in one go, one JSON object per line on stdout.
// The model benchmark runs on the committed MovieLens ml-latest-small (bench/data/) and on two
// synthetic shapes; the end-to-end benchmarks (synthetic, and MovieLens in JSON and Avro with both
// processing guarantees: several minutes) and the partitioned mode (N = 1, 2, 4 instances) run against
// KAFKA_BROKERS or a private stack they start.
// `--quick` skips the larger synthetic shape and the end-to-end runs; `--full` runs the ML-20M shape
// at its full 20 M events (≈ 45 min here) instead of its first 4 M.
// `--targets` runs only what issue 22's table needs (the model on ml-latest-small and the ML-20M
// shape — its first 4 M events unless `--full` —, the MovieLens end to end: receipts at 0 and 10k
// ev/s then every list checked against the model alone, live at max rate, the catch-up profile; the
// partitioned mode beside the single one on the same events), each `--reps` times (default 3), and
// prints, after the benchmarks' own lines, a context line {row: 'issue-22-context', machine, load,
// reps, note} and one JSON line per table row: {figure, unit, today, target, median, min, max, runs,
// met} (bench/targets.ts). `--targets --quick` (the CI smoke test, ≈ 15 s, no broker): the model
// on ml-latest-small only, once. `--out FILE` also writes {context, rows} there as one document;
// `--note TEXT` goes into the context (e.g. what else the machine ran).
// Without `--targets`, ml-latest-small runs under SIMILARITY=jaccard and cosine, and one line per
// figure compares them: {row: 'issue-23', figure, unit, jaccard, cosine, cosineOverJaccard}
// (bench/similarity-rows.ts: ingest and catch-up per 10k events, forgets, forced rescans), and
// INTERACTION_TTL_MS beside it: {row: 'issue-23-ttl', figure, jaccard, jaccardTtl, ttlOverJaccard}
// (bench/ttl.ts: ingest and expiry per 10k events, model bytes).

import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { similarityRows } from './similarity-rows.js';
import { targetRows } from './targets.js';

const quick = process.argv.includes('--quick');
const full = process.argv.includes('--full');
const targets = process.argv.includes('--targets');
const option = (name: string): string | undefined => {
  const k = process.argv.indexOf(name);
  return k > 0 ? process.argv[k + 1] : undefined;
};
const reps = Number(option('--reps') ?? (targets && !quick ? 3 : 1));
const startedAt = new Date().toISOString();
const loadAtStart = os.loadavg()[0]!;
const ml = 'bench/data/ml-latest-small/ratings.csv';
const runs: { name: string; args: string[]; reps?: number }[] = [];
const e2eTargets = [
  'bench/e2e.ts',
  '--dataset',
  ml,
  '--formats',
  'avro',
  '--guarantees',
  'exactly_once',
  '--phases',
  'catchup,receipts,live',
  '--reps',
  '1',
  '--rates',
  'max',
  '--background-rates',
  '0,10000',
  '--deletions',
  '50',
  '--json',
];
const ml20m = [
  'bench/model.ts',
  '--synthetic-ml20m',
  ...(full ? ['--full'] : []),
  '--forget-sample',
  '30',
  '--json',
];
if (targets) {
  runs.push({ name: 'model/ml-latest-small', args: ['bench/model.ts', '--dataset', ml, '--json'] });
  if (!quick) {
    runs.push({ name: 'model/synthetic-ml20m-shape', args: ml20m });
    runs.push({ name: 'e2e/movielens-targets', args: e2eTargets });
    runs.push({
      name: 'partitioned/compare-single',
      args: [
        'bench/partitioned.ts',
        '--dataset',
        ml,
        '--instances',
        '1',
        '--compare-single',
        '--no-restore',
        '--json',
      ],
    });
  }
} else if (existsSync(ml)) {
  runs.push({ name: 'model/ml-latest-small', args: ['bench/model.ts', '--dataset', ml, '--json'] });
  // Issue 23: the same run under cosine, for the comparison rows printed at the end.
  runs.push({
    name: 'model/ml-latest-small-cosine',
    args: ['bench/model.ts', '--dataset', ml, '--similarity', 'cosine', '--json'],
  });
}
if (!targets)
  runs.push({
    name: 'model/synthetic-1M',
    args: [
      'bench/model.ts',
      '--synthetic',
      '--events',
      '1000000',
      '--users',
      '20000',
      '--items',
      '10000',
      '--forget-sample',
      '200',
      '--json',
    ],
  });
if (!quick && !targets) {
  runs.push({ name: 'model/synthetic-ml20m-shape', args: ml20m });
  runs.push({ name: 'snapshot', args: ['bench/snapshot.ts', '--json'] });
  runs.push({ name: 'inspector', args: ['bench/inspector.ts', '--json'] });
  runs.push({ name: 'e2e', args: ['bench/e2e.ts', '--json'] });
  if (existsSync(ml)) runs.push({ name: 'e2e/movielens', args: ['bench/e2e.ts', '--dataset', ml, '--json'] });
  if (existsSync(ml))
    runs.push({ name: 'partitioned', args: ['bench/partitioned.ts', '--dataset', ml, '--json'] });
}
let failed = 0;
const outputs = new Map<string, Record<string, unknown>[]>();
for (const run of runs)
  for (let rep = 0; rep < (run.reps ?? reps); rep++) {
    const r = spawnSync(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', '--max-old-space-size=16000', ...run.args],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const parsed = parseOutput(r.stdout);
    if (r.status !== 0 || parsed === undefined) {
      failed++;
      process.stdout.write(`${JSON.stringify({ bench: run.name, error: `exit ${r.status}` })}\n`);
    } else {
      process.stdout.write(`${JSON.stringify({ bench: run.name, rep, ...parsed })}\n`);
      outputs.set(run.name, [...(outputs.get(run.name) ?? []), parsed]);
    }
  }
const rows = targetRows({
  model: outputs.get('model/ml-latest-small') ?? [],
  ml20m: outputs.get('model/synthetic-ml20m-shape') ?? [],
  e2e: outputs.get(targets ? 'e2e/movielens-targets' : 'e2e/movielens') ?? [],
  partitioned: outputs.get('partitioned/compare-single') ?? [],
});
const context = {
  row: 'issue-22-context',
  startedAt,
  endedAt: new Date().toISOString(),
  reps,
  quick,
  machine: {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
  },
  load1: { atStart: loadAtStart, atEnd: os.loadavg()[0]! },
  failedRuns: failed,
  ...(option('--note') !== undefined ? { note: option('--note') } : {}),
};
process.stdout.write(`${JSON.stringify(context)}\n`);
for (const r of rows) process.stdout.write(`${JSON.stringify({ row: 'issue-22', ...r })}\n`);
const out = option('--out');
if (out !== undefined) writeFileSync(out, `${JSON.stringify({ context, rows }, null, 2)}\n`);
for (const r of similarityRows(
  outputs.get('model/ml-latest-small') ?? [],
  outputs.get('model/ml-latest-small-cosine') ?? [],
))
  process.stdout.write(`${JSON.stringify({ row: 'issue-23', ...r })}\n`);
// Issue 23: INTERACTION_TTL_MS beside plain Jaccard (bench/ttl.ts prints one row per figure).
if (!targets && existsSync(ml)) {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'bench/ttl.ts', '--dataset', ml, '--reps', String(reps)],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  if (r.status === 0) process.stdout.write(r.stdout);
  else process.stdout.write(`${JSON.stringify({ bench: 'ttl', error: `exit ${r.status}` })}\n`);
}

/** A benchmark prints one JSON object: on its last line, or (pretty-printed) as its whole output. */
function parseOutput(stdout: string): Record<string, unknown> | undefined {
  for (const text of [stdout.trim(), stdout.trim().split('\n').pop() ?? '']) {
    try {
      const v: unknown = JSON.parse(text);
      if (v !== null && typeof v === 'object') return v as Record<string, unknown>;
    } catch {
      // try the next form
    }
  }
  return undefined;
}
process.exit(failed > 0 ? 1 : 0);
