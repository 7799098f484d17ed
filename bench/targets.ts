// The rows of issue 22's target table, from the JSON objects the benchmarks print: one object per
// row {figure, unit, today, target, median, min, max, runs, met}: `today` as the issue measured it,
// the median and range over the runs of this one, `met` whether the median reaches the target
// (null when the benchmark did not run, or a row has no target). A row whose check of the published
// lists failed in any run is never met, and says so in `note`.

type Json = Record<string, unknown>;

/** A bound the median must stay within: `<=` (at most) or `>=` (at least). */
export interface Target {
  readonly op: '<=' | '>=';
  readonly bound: number;
}

export interface TargetRow {
  readonly figure: string;
  readonly unit: string;
  /** What issue 22 measured before this work (its table's "today" column). */
  readonly today: string;
  /** The target as the table writes it ("≤ 100"), or null for a figure shown beside one. */
  readonly target: string | null;
  readonly median: number | null;
  readonly min: number | null;
  readonly max: number | null;
  readonly runs: number;
  readonly met: boolean | null;
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
  today: string,
  target: Target | undefined,
  values: readonly (number | undefined)[],
  o: { readonly note?: string; readonly exact?: boolean } = {},
): TargetRow {
  const xs = values.filter((v): v is number => v !== undefined);
  const shown = target ? `${target.op === '<=' ? '≤' : '≥'} ${target.bound}` : null;
  const note = o.exact === false ? [o.note, 'LISTS WRONG in a run'].filter(Boolean).join('; ') : o.note;
  if (xs.length === 0)
    return {
      figure,
      unit,
      today,
      target: shown,
      median: null,
      min: null,
      max: null,
      runs: 0,
      met: null,
      note: ['not run', note].filter(Boolean).join('; '),
    };
  const m = r3(median(xs));
  const within = target ? (target.op === '<=' ? m <= target.bound : m >= target.bound) : null;
  return {
    figure,
    unit,
    today,
    target: shown,
    median: m,
    min: r3(Math.min(...xs)),
    max: r3(Math.max(...xs)),
    runs: xs.length,
    met: within === null ? null : within && o.exact !== false,
    ...(note !== undefined ? { note } : {}),
  };
}

/** The e2e MovieLens variant's receipts run under a background rate (0 = none). */
function receipts(e2e: Json, loaded: boolean, p: 'p50Ms' | 'p99Ms'): number | undefined {
  const rs = (variant(e2e)?.receipts ?? []) as Json[];
  const r = rs.find((x) => (loaded ? (x.backgroundRate as number) > 0 : x.backgroundRate === 0));
  return r ? pick(r, `latency.${p}`) : undefined;
}

function variant(e2e: Json): Json | undefined {
  return Object.values((e2e.variants ?? {}) as Record<string, Json>)[0];
}

const at = (op: Target['op'], bound: number): Target => ({ op, bound });

/**
 * The table: `model` = bench/model.ts on ml-latest-small, `ml20m` = its ML-20M shape, `e2e` =
 * bench/e2e.ts on ml-latest-small (receipts at 0 and 10k ev/s then every list checked, live at max
 * rate, the catch-up profile), `partitioned` = bench/partitioned.ts --compare-single; each a list
 * of runs.
 */
export function targetRows(runs: {
  model: readonly Json[];
  ml20m: readonly Json[];
  e2e: readonly Json[];
  partitioned?: readonly Json[];
}): TargetRow[] {
  const { model, ml20m, e2e } = runs;
  const partitioned = runs.partitioned ?? [];
  const ok = (xs: readonly Json[], f: (x: Json) => unknown): boolean =>
    xs.every((x) => (f(x) as Json | undefined)?.ok !== false);
  const receiptsExact = ok(e2e, (x) => variant(x)?.receiptLists);
  const liveExact = ok(e2e, (x) => (variant(x)?.live as Json[] | undefined)?.[0]?.lists);
  const shape = ml20m.map((x) => x.dataset).find((d): d is string => typeof d === 'string');
  const ml20mNote = shape ? `${shape} (synthetic, the ML-20M shape)` : undefined;
  return [
    row(
      'receipt p99 under 10k ev/s background (ml-latest-small shape)',
      'ms',
      '4100',
      at('<=', 100),
      e2e.map((x) => receipts(x, true, 'p99Ms')),
      { exact: receiptsExact, note: 'send → FORGOTTEN read by a read_committed consumer' },
    ),
    row(
      'receipt p50 under 10k ev/s background',
      'ms',
      '2100',
      undefined,
      e2e.map((x) => receipts(x, true, 'p50Ms')),
    ),
    row(
      'receipt p50 without load',
      'ms',
      '35–88',
      at('<=', 20),
      e2e.map((x) => receipts(x, false, 'p50Ms')),
      { exact: receiptsExact },
    ),
    row(
      'receipt p99 without load',
      'ms',
      '–',
      undefined,
      e2e.map((x) => receipts(x, false, 'p99Ms')),
    ),
    row(
      'live sustained throughput, lists exact at quiescence',
      'events/s',
      '4500–4800',
      at('>=', 25_000),
      e2e.map((x) => pick(variant(x), 'live.0.serviceEventsPerSecond')),
      { exact: liveExact },
    ),
    row(
      'model ingest with exact top-20 / raw probe',
      '×',
      '2.75',
      at('<=', 1.3),
      model.map((x) => pick(x, 'ingestOverProbe')),
    ),
    row(
      'forget heaviest user (2,698 items)',
      'ms',
      '426',
      at('<=', 150),
      model.map((x) => pick(x, 'forgetHeaviest.ms')),
    ),
    row(
      'forget random user p50',
      'ms',
      '15',
      at('<=', 3),
      model.map((x) => pick(x, 'forgetSampleMs.p50')),
    ),
    row(
      'ML-20M shape, incremental ingest',
      'events/s',
      '9750',
      at('>=', 50_000),
      ml20m.map((x) => pick(x, 'eventsPerSecond')),
      ml20mNote ? { note: ml20mNote } : {},
    ),
    row(
      'ML-20M shape, forget p99',
      'ms',
      '–',
      at('<=', 1000),
      ml20m.map((x) => pick(x, 'forgetSampleMs.p99')),
      ml20mNote ? { note: ml20mNote } : {},
    ),
    row(
      'Kafka layer / model CPU (catch-up profile), cost above the model',
      'ratio',
      '0.70–0.97',
      at('<=', 0.25),
      e2e.map((x) => pick(variant(x), 'catchUp.kafkaLayerCostProfile.cost')),
    ),
    row(
      'partitioned / single CPU per event',
      '×',
      '3–4',
      at('<=', 1.5),
      partitioned.map((x) => pick(x, 'cpuPerEvent.partitionedOverSingle')),
      {
        exact: partitioned.every(
          (x) =>
            pick(x, 'single.listsDiffering') === 0 &&
            ((x.runs ?? []) as Json[]).every((r) => r.listsDiffering === 0),
        ),
        note: 'ml-latest-small, one instance each, live ingest of a backlog produced once ready',
      },
    ),
  ];
}
