// The one chunking policy of both modes: how many held input events a flush takes and how long the
// first of them may wait. Live, a chunk is BATCH_MAX_EVENTS and lingers BATCH_MAX_MS; during a
// catch-up (the lag above BATCH_MAX_EVENTS) chunks grow so that each flush takes about
// CATCHUP_FLUSH_MS by the measured cost per event, and linger as long — a backlog then costs few
// flushes (each flush rescans the rows it touched) and publishes about one list per changed item.
// The single mode's engine and every partitioned task hold one each and feed it their flush times.

export interface BatchSettings {
  readonly maxEvents: number;
  readonly maxMs: number;
  /** Latency budget of one flush while catching up (chunks grow up to it). */
  readonly catchUpFlushMs: number;
}

/** Most events one flush takes during a catch-up, whatever the measured speed. */
export const CATCH_UP_MAX_EVENTS = 2_000_000;

export class ChunkPolicy {
  /** Measured cost of flushing, ms per event (exponentially smoothed). */
  private msPerEvent = 0.05;

  constructor(private readonly batch: BatchSettings) {}

  /** A backlog larger than one live chunk waits. */
  catchingUp(lag: number): boolean {
    return lag > this.batch.maxEvents;
  }

  /** The chunk size now: BATCH_MAX_EVENTS, or more while catching up. */
  chunkLimit(lag: number): number {
    const { maxEvents, catchUpFlushMs } = this.batch;
    if (!this.catchingUp(lag)) return maxEvents;
    const byBudget = Math.floor(catchUpFlushMs / Math.max(this.msPerEvent, 1e-4));
    return Math.min(CATCH_UP_MAX_EVENTS, Math.max(maxEvents, byBudget));
  }

  /** The linger now: BATCH_MAX_MS, or the catch-up budget while catching up. */
  lingerMs(lag: number): number {
    const { maxMs, catchUpFlushMs } = this.batch;
    return this.catchingUp(lag) ? Math.max(maxMs, catchUpFlushMs) : maxMs;
  }

  /** A flush of `events` took `ms`: the next catch-up chunk is sized by it. */
  noteFlush(ms: number, events: number): void {
    if (events > 0) this.msPerEvent = 0.7 * this.msPerEvent + (0.3 * ms) / events;
  }
}
