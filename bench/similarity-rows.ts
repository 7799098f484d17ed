// Issue 23's comparison of the measures: from bench/model.ts runs on one dataset under Jaccard and
// under cosine, one row per figure {figure, unit, jaccard, cosine, cosineOverJaccard} (medians over
// the runs; null where a side did not run).
import { pick, row } from './targets.js';

type Json = Record<string, unknown>;

export interface SimilarityRow {
  readonly figure: string;
  readonly unit: string;
  readonly jaccard: number | null;
  readonly cosine: number | null;
  readonly cosineOverJaccard: number | null;
}

const FIGURES: readonly [figure: string, unit: string, of: (r: Json) => number | undefined][] = [
  ['ingest per 10k events (exact top-K every 10k)', 's', perTenThousand('ingestSeconds')],
  ['catch-up per 10k events (one chunk)', 's', perTenThousand('catchupSeconds')],
  ['forget of the heaviest user', 'ms', (r) => pick(r, 'forgetHeaviest.ms')],
  ['forget of a random user, p50', 'ms', (r) => pick(r, 'forgetSampleMs.p50')],
  ['forget of a random user, p99', 'ms', (r) => pick(r, 'forgetSampleMs.p99')],
  ['rows rescanned because a bound could not prove a list', 'rows', (r) => pick(r, 'forcedRescans')],
];

function perTenThousand(key: string): (r: Json) => number | undefined {
  return (r) => {
    const s = pick(r, key);
    const events = pick(r, 'events');
    return s === undefined || events === undefined ? undefined : (s / events) * 10_000;
  };
}

export function similarityRows(jaccard: readonly Json[], cosine: readonly Json[]): SimilarityRow[] {
  return FIGURES.map(([figure, unit, of]) => {
    const j = row(figure, unit, '', undefined, jaccard.map(of)).median;
    const c = row(figure, unit, '', undefined, cosine.map(of)).median;
    const ratio = j !== null && c !== null && j > 0 ? Math.round((c / j) * 1000) / 1000 : null;
    return { figure, unit, jaccard: j, cosine: c, cosineOverJaccard: ratio };
  });
}
