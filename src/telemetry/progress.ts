// How far a long replay or restore is, for its progress log lines (both modes) and the
// amnesia_restore_progress_ratio gauge: the share done and, at its pace so far, the seconds left.
// Logged at most every PROGRESS_LOG_MS.
import type { Gauge } from 'prom-client';

export const PROGRESS_LOG_MS = 10_000;

export interface ProgressFields {
  readonly percent: number;
  readonly records: number;
  readonly of: number;
  readonly etaSeconds: number | undefined;
}

/** Seconds left once `fraction` (0..1) of the work took `elapsedMs`, at that pace; undefined at 0. */
export function etaSeconds(fraction: number, elapsedMs: number): number | undefined {
  if (!(fraction > 0)) return undefined;
  return Math.round((elapsedMs * (1 - Math.min(1, fraction))) / fraction / 1000);
}

/** `done` of `total` records after `elapsedMs`. */
export function progressFields(done: number, total: number, elapsedMs: number): ProgressFields {
  return {
    percent: total > 0 ? Math.floor((100 * done) / total) : 100,
    records: done,
    of: total,
    etaSeconds: total > 0 ? etaSeconds(done / total, elapsedMs) : undefined,
  };
}

export type ProgressMode = 'single' | 'partitioned';

/**
 * amnesia_restore_progress_ratio{mode}: over the restores of this instance since it last had none
 * under way (the single mode's rebuild; each partition a partitioned stage restores), records read
 * of records to read. 1 once all are done; no series before the first.
 */
export class RestoreProgress {
  private readonly parts = new Map<string, { done: number; total: number }>();

  constructor(private readonly gauge: Gauge<'mode'>) {}

  /** `part` (e.g. `users/3`) has read `done` of its `total` records. */
  update(mode: ProgressMode, part: string, done: number, total: number): void {
    this.parts.set(`${mode}\0${part}`, { done: Math.min(done, total), total });
    this.publish(mode);
  }

  /** `part` is restored: counted as done until every part of the mode is (then all are forgotten). */
  finish(mode: ProgressMode, part: string): void {
    const p = this.parts.get(`${mode}\0${part}`);
    if (!p) return;
    p.done = p.total;
    this.publish(mode);
  }

  /** `part` left before it was restored (its partition moved away): its records are not to be read here. */
  abandon(mode: ProgressMode, part: string): void {
    if (this.parts.delete(`${mode}\0${part}`)) this.publish(mode);
  }

  private publish(mode: ProgressMode): void {
    let done = 0;
    let total = 0;
    const ours = [...this.parts].filter(([k]) => k.startsWith(`${mode}\0`));
    for (const [, p] of ours) {
      done += p.done;
      total += p.total;
    }
    if (done === total) for (const [k] of ours) this.parts.delete(k);
    this.gauge.set({ mode }, total > 0 ? done / total : 1);
  }
}
