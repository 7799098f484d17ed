import { describe, expect, it } from 'vitest';
import { similarityRows } from '../../bench/similarity-rows.js';

describe("issue 23's comparison rows", () => {
  it('put the medians of both measures side by side, per 10k events where the figure is a total', () => {
    const run = (ingestSeconds: number, p50: number) => ({
      events: 100_000,
      ingestSeconds,
      forgetHeaviest: { ms: 400 },
      forgetSampleMs: { p50, p99: 200 },
      forcedRescans: 10,
    });
    const rows = similarityRows([run(3, 10), run(5, 12)], [run(4.4, 11)]);
    const ingest = rows.find((r) => r.figure.startsWith('ingest per 10k'))!;
    expect(ingest).toEqual({
      figure: ingest.figure,
      unit: 's',
      jaccard: 0.4,
      cosine: 0.44,
      cosineOverJaccard: 1.1,
    });
    expect(rows.find((r) => r.figure.endsWith('p50'))).toMatchObject({ jaccard: 11, cosine: 11 });
    expect(rows.find((r) => r.figure.startsWith('catch-up'))).toMatchObject({ jaccard: null, cosine: null });
    expect(similarityRows([], [run(1, 1)])[0]).toMatchObject({ jaccard: null, cosineOverJaccard: null });
  });
});
