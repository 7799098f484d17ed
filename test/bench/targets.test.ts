// `npm run bench -- --targets`: every row of issue 22's target table, as JSON (figure, the issue's
// figure, target, median and range over the runs, met), from the benchmarks' own outputs.
import { describe, expect, it } from 'vitest';
import { targetRows } from '../../bench/targets.js';

const ISSUE_22_FIGURES = [
  'receipt p99 under 10k ev/s background',
  'receipt p50 without load',
  'live sustained throughput, lists exact at quiescence',
  'model ingest with exact top-20 / raw probe',
  'forget heaviest user',
  'forget random user p50',
  'ML-20M shape, incremental ingest',
  'ML-20M shape, forget p99',
  'Kafka layer / model CPU (catch-up profile)',
  'partitioned / single CPU per event',
];

const e2e = (p99: number, ok = true) => ({
  variants: {
    'avro-eos': {
      receipts: [
        { backgroundRate: 0, latency: { p50Ms: 30, p99Ms: 60 } },
        { backgroundRate: 10_000, latency: { p50Ms: 900, p99Ms: p99 } },
      ],
      receiptLists: { ok },
      live: [{ serviceEventsPerSecond: 30_000, lists: { ok: true } }],
      catchUp: { kafkaLayerCostProfile: { cost: 0.9 } },
    },
  },
});
const model = (ratio: number) => ({
  ingestOverProbe: ratio,
  forgetHeaviest: { ms: 400 },
  forgetSampleMs: { p50: 2 },
});
const partitioned = (ratio: number) => ({
  cpuPerEvent: { partitionedOverSingle: ratio },
  single: { listsDiffering: 0 },
  runs: [{ listsDiffering: 0 }],
});

describe("issue 22's target rows", () => {
  it('has every row of the table, each with the issue figure, the target, median, range and whether it is met', () => {
    const rows = targetRows({
      model: [model(1.2), model(1.6), model(1.25)],
      ml20m: [
        { dataset: 'synthetic-ml20m(events=4000000)', eventsPerSecond: 12_000, forgetSampleMs: { p99: 300 } },
      ],
      e2e: [e2e(80), e2e(120), e2e(90)],
      partitioned: [partitioned(5), partitioned(4)],
    });
    for (const f of ISSUE_22_FIGURES)
      expect(
        rows.some((r) => r.figure.startsWith(f)),
        f,
      ).toBe(true);
    for (const r of rows) {
      expect(Object.keys(r)).toEqual(
        expect.arrayContaining(['figure', 'unit', 'today', 'target', 'median', 'min', 'max', 'runs', 'met']),
      );
      expect(r.runs).toBeGreaterThan(0);
      expect(r.min! <= r.median! && r.median! <= r.max!).toBe(true);
      expect(r.met === null).toBe(r.target === null);
    }
    const by = (f: string) => rows.find((r) => r.figure.startsWith(f))!;
    expect(by('receipt p99 under 10k')).toMatchObject({
      today: '4100',
      target: '≤ 100',
      median: 90,
      min: 80,
      max: 120,
      runs: 3,
      met: true,
    });
    expect(by('model ingest')).toMatchObject({ median: 1.25, met: true });
    expect(by('forget heaviest')).toMatchObject({ median: 400, met: false });
    expect(by('live sustained')).toMatchObject({ target: '≥ 25000', met: true });
    expect(by('ML-20M shape, incremental')).toMatchObject({
      runs: 1,
      met: false,
      note: expect.stringContaining('4000000'),
    });
    expect(by('partitioned / single')).toMatchObject({ median: 4.5, met: false });
    expect(by('Kafka layer')).toMatchObject({ median: 0.9, met: false });
  });

  it('a figure whose lists were wrong in a run is not met, whatever its speed; one not run is null', () => {
    const rows = targetRows({ model: [], ml20m: [], e2e: [e2e(50), e2e(50, false)] });
    expect(rows.find((r) => r.figure.startsWith('receipt p99 under'))).toMatchObject({
      median: 50,
      met: false,
      note: expect.stringContaining('LISTS WRONG'),
    });
    expect(rows.find((r) => r.figure.startsWith('ML-20M shape, forget'))).toMatchObject({
      runs: 0,
      median: null,
      met: null,
      note: 'not run',
    });
  });
});
