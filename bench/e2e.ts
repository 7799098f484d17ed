// End-to-end benchmarks of the streaming service against a real broker and registry
// (KAFKA_BROKERS/SCHEMA_REGISTRY_URL when set, otherwise a private local stack, stopped afterwards).
// One JSON object on stdout (--json: pretty-printed); progress and a human summary on stderr.
//
// MovieLens (bench/e2e/movielens.ts; the service in a child process):
//   npm run bench:e2e -- --dataset bench/data/ml-latest-small/ratings.csv
//     [--formats json,avro] [--guarantees exactly_once,at_least_once] [--reps 3] [--model-reps 1]
//     [--phases delivery,catchup,receipts,live] [--rates 5000,10000,max] [--background-rates 0,10000]
//     [--deletions 100] [--deletion-interval-ms 200] [--partitions 3] [--no-profile] [--json]
//   Service settings (BATCH_MAX_MS, CATCHUP_FLUSH_MS, OUTPUT_COMPRESSION, …) pass through from the
//   environment to the service child.
//
// Synthetic (bench/e2e/synthetic.ts; the service in-process):
//   npm run bench:e2e -- [--events N] [--users U] [--items I] [--format json|avro]
//     [--background-rate N] [--deletions N] [--deletion-interval-ms N] [--phases bulk,raw,latency] [--json]
import { parseArgs } from 'node:util';
import type { Format, Guarantee } from './e2e/context.js';
import { runMovieLens, type Phase } from './e2e/movielens.js';
import { runSynthetic } from './e2e/synthetic.js';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    dataset: { type: 'string' },
    // MovieLens
    formats: { type: 'string', default: 'json,avro' },
    guarantees: { type: 'string', default: 'exactly_once,at_least_once' },
    reps: { type: 'string', default: '3' },
    'model-reps': { type: 'string', default: '1' },
    'background-rates': { type: 'string', default: '0,10000' },
    rates: { type: 'string', default: '5000,10000,max' },
    'no-profile': { type: 'boolean', default: false },
    // synthetic
    events: { type: 'string', default: '200000' },
    users: { type: 'string', default: '20000' },
    items: { type: 'string', default: '2000' },
    format: { type: 'string' },
    // both
    partitions: { type: 'string', default: '3' },
    'background-rate': { type: 'string', default: '10000' },
    deletions: { type: 'string' },
    'deletion-interval-ms': { type: 'string' },
    phases: { type: 'string' },
  },
});
const log = (msg: string) => process.stderr.write(`[bench:e2e] ${msg}\n`);
const list = (s: string) => s.split(',').filter((x) => x !== '');

function oneOf<T extends string>(what: string, allowed: readonly T[], given: readonly string[]): T[] {
  for (const g of given)
    if (!allowed.includes(g as T)) throw new Error(`--${what}: ${g} is not one of ${allowed.join(', ')}`);
  return given as T[];
}

async function main(): Promise<void> {
  const partitions = Number(values.partitions);
  if (values.dataset !== undefined) {
    const { result, summary } = await runMovieLens(
      {
        dataset: values.dataset,
        formats: oneOf<Format>('formats', ['json', 'avro'], list(values.formats)),
        guarantees: oneOf<Guarantee>(
          'guarantees',
          ['exactly_once', 'at_least_once'],
          list(values.guarantees),
        ),
        reps: Number(values.reps),
        modelReps: Number(values['model-reps']),
        rates: list(values.rates).map((r) => (r === 'max' ? 0 : Number(r))),
        phases: new Set(
          oneOf<Phase>(
            'phases',
            ['delivery', 'catchup', 'receipts', 'live'],
            list(values.phases ?? 'delivery,catchup,receipts,live'),
          ),
        ),
        backgroundRates: list(values['background-rates']).map(Number),
        deletions: Number(values.deletions ?? '100'),
        deletionIntervalMs: Number(values['deletion-interval-ms'] ?? '200'),
        partitions,
        profile: !values['no-profile'],
      },
      log,
    );
    process.stderr.write(`\n${summary}\n\n`);
    process.stdout.write(`${JSON.stringify(result, null, values.json ? 2 : undefined)}\n`);
    return;
  }
  const result = await runSynthetic(
    {
      events: Number(values.events),
      users: Number(values.users),
      items: Number(values.items),
      format: values.format === undefined ? undefined : oneOf('format', ['json', 'avro'], [values.format])[0],
      partitions,
      backgroundRate: Number(values['background-rate']),
      deletions: Number(values.deletions ?? '200'),
      deletionIntervalMs: Number(values['deletion-interval-ms'] ?? '200'),
      phases: new Set(list(values.phases ?? 'bulk,raw,latency')),
    },
    log,
  );
  process.stdout.write(`${JSON.stringify(result, null, values.json ? 2 : undefined)}\n`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`[bench:e2e] failed: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  },
);
