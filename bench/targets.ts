// The rows of issue 22's target table, from the JSON objects the benchmarks print: one object per
// row {figure, value, unit, median, min, max, runs, target}, value = median over the runs. A figure
// whose benchmark did not run (or does not measure it yet) has value null and says why.

type Json = Record<string, unknown>;

export interface TargetRow {
  readonly figure: string;
  readonly value: number | null;
  readonly unit: string;
  readonly median: number | null;
  readonly min: number | null;
  readonly max: number | null;
  readonly runs: number;
  readonly target: string;
  readonly note?: string;
}

/** Reads a nested number (`a.b.0.c`), undefined when absent. */
export function pick(o: unknown, path: string): number | undefined {
  let x: unknown = o;
  for (const k of path.split('.')) {
    if (x === null || typeof x !== 'object') return undefined;
    x = (x as Json)[k];
  }
  return typeof x === 'number' && Number.isFinite(x) ? x : undefined;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const r3 = (x: number): number => Math.round(x * 1000) / 1000;

export function row(
  figure: string,
  unit: string,
  target: string,
  values: readonly (number | undefined)[],
  note?: string,
): TargetRow {
  const xs = values.filter((v): v is number => v !== undefined);
  if (xs.length === 0)
    return {
      figure,
      value: null,
      unit,
      median: null,
      min: null,
      max: null,
      runs: 0,
      target,
      note: note ?? 'not run',
    };
  const m = r3(median(xs));
  return {
    figure,
    value: m,
    unit,
    median: m,
    min: r3(Math.min(...xs)),
    max: r3(Math.max(...xs)),
    runs: xs.length,
    target,
    ...(note !== undefined ? { note } : {}),
  };
}

/** The e2e MovieLens variant's receipts run under a background rate (0 = none). */
function receipts(e2e: Json, rate: number, p: 'p50Ms' | 'p99Ms'): number | undefined {
  for (const v of Object.values((e2e.variants ?? {}) as Record<string, Json>)) {
    const rs = (v.receipts ?? []) as Json[];
    const r = rs.find((x) => (rate === 0 ? x.backgroundRate === 0 : (x.backgroundRate as number) > 0));
    if (r) return pick(r, `latency.${p}`);
  }
  return undefined;
}

function variant(e2e: Json): Json | undefined {
  return Object.values((e2e.variants ?? {}) as Record<string, Json>)[0];
}

/**
 * The table: `model` = bench/model.ts on ml-latest-small, `ml20m` = its ML-20M shape, `e2e` =
 * bench/e2e.ts on ml-latest-small (receipts at 0 and 10k ev/s, live at max rate, the catch-up
 * profile), each a list of runs.
 */
export function targetRows(runs: {
  model: readonly Json[];
  ml20m: readonly Json[];
  e2e: readonly Json[];
}): TargetRow[] {
  const { model, ml20m, e2e } = runs;
  const liveOk = e2e.every(
    (x) => ((variant(x)?.live as Json[] | undefined)?.[0]?.lists as Json | undefined)?.ok !== false,
  );
  return [
    row(
      'receipt p99 under 10k ev/s background (ml-latest-small)',
      'ms',
      '≤ 100',
      e2e.map((x) => receipts(x, 10_000, 'p99Ms')),
    ),
    row(
      'receipt p50 under 10k ev/s background (ml-latest-small)',
      'ms',
      '–',
      e2e.map((x) => receipts(x, 10_000, 'p50Ms')),
    ),
    row(
      'receipt p50 without load',
      'ms',
      '≤ 20',
      e2e.map((x) => receipts(x, 0, 'p50Ms')),
    ),
    row(
      'receipt p99 without load',
      'ms',
      '–',
      e2e.map((x) => receipts(x, 0, 'p99Ms')),
    ),
    row(
      'live throughput at max rate, lists exact at quiescence',
      'events/s',
      '≥ 25000',
      e2e.map((x) => pick(variant(x), 'live.0.serviceEventsPerSecond')),
      liveOk ? undefined : 'LISTS WRONG in a run',
    ),
    row(
      'model ingest with exact top-20 / raw probe',
      '×',
      '≤ 1.3',
      model.map((x) => pick(x, 'ingestOverProbe')),
    ),
    row(
      'forget heaviest user (2,698 items)',
      'ms',
      '≤ 150',
      model.map((x) => pick(x, 'forgetHeaviest.ms')),
    ),
    row(
      'forget random user p50',
      'ms',
      '≤ 3',
      model.map((x) => pick(x, 'forgetSampleMs.p50')),
    ),
    row(
      'ML-20M shape, incremental ingest',
      'events/s',
      '≥ 50000',
      ml20m.map((x) => pick(x, 'eventsPerSecond')),
    ),
    row(
      'ML-20M shape, forget p99',
      'ms',
      '≤ 1000',
      ml20m.map((x) => pick(x, 'forgetSampleMs.p99')),
    ),
    row(
      'Kafka layer / model CPU (catch-up profile), cost above the model',
      'ratio',
      '≤ 0.25',
      e2e.map((x) => pick(variant(x), 'catchUp.kafkaLayerCostProfile.cost')),
    ),
    row('partitioned / single CPU per event', '×', '≤ 1.5', [], 'not measured by a bench yet'),
  ];
}
