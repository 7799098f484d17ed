// `npm run bench`: every benchmark in one go, one JSON object per line on stdout.
// The model benchmark runs on the committed MovieLens ml-latest-small (bench/data/) and on two
// synthetic shapes; the end-to-end benchmarks (synthetic, and MovieLens in JSON and Avro with both
// processing guarantees: several minutes) and the partitioned mode (N = 1, 2, 4 instances) run against
// KAFKA_BROKERS or a private stack they start.
// `--quick` skips the larger synthetic shape and the end-to-end runs; `--full` runs the ML-20M shape
// at its full 20 M events (≈ 45 min here) instead of its first 4 M.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const quick = process.argv.includes('--quick');
const full = process.argv.includes('--full');
const ml = 'bench/data/ml-latest-small/ratings.csv';
const runs: { name: string; args: string[] }[] = [];
if (existsSync(ml))
  runs.push({ name: 'model/ml-latest-small', args: ['bench/model.ts', '--dataset', ml, '--json'] });
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
if (!quick) {
  runs.push({
    name: 'model/synthetic-ml20m-shape',
    args: [
      'bench/model.ts',
      '--synthetic-ml20m',
      ...(full ? ['--full'] : []),
      '--forget-sample',
      '30',
      '--json',
    ],
  });
  runs.push({ name: 'snapshot', args: ['bench/snapshot.ts', '--json'] });
  runs.push({ name: 'inspector', args: ['bench/inspector.ts', '--json'] });
  runs.push({ name: 'e2e', args: ['bench/e2e.ts', '--json'] });
  if (existsSync(ml)) runs.push({ name: 'e2e/movielens', args: ['bench/e2e.ts', '--dataset', ml, '--json'] });
  if (existsSync(ml))
    runs.push({ name: 'partitioned', args: ['bench/partitioned.ts', '--dataset', ml, '--json'] });
}
let failed = 0;
for (const run of runs) {
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
  } else process.stdout.write(`${JSON.stringify({ bench: run.name, ...parsed })}\n`);
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
