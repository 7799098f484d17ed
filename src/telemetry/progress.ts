// How far a long replay or restore is, for its progress log lines (both modes): the share done and,
// at its pace so far, the seconds left. Logged at most every PROGRESS_LOG_MS.
export const PROGRESS_LOG_MS = 10_000;

export interface ProgressFields {
  readonly percent: number;
  readonly records: number;
  readonly of: number;
  readonly etaSeconds: number | undefined;
}

/** `done` of `total` records after `elapsedMs`. */
export function progressFields(done: number, total: number, elapsedMs: number): ProgressFields {
  return {
    percent: total > 0 ? Math.floor((100 * done) / total) : 100,
    records: done,
    of: total,
    etaSeconds: done > 0 ? Math.round(((elapsedMs / done) * (total - done)) / 1000) : undefined,
  };
}
