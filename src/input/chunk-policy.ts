// The one chunking policy of both modes: how many held input events a flush takes and how long the
// first of them may wait. Live, a chunk is BATCH_MAX_EVENTS and lingers BATCH_MAX_MS; during a
// catch-up (the lag above BATCH_MAX_EVENTS) chunks grow so that each flush takes about
// CATCHUP_FLUSH_MS by the measured cost per event, and linger as long — a backlog then costs few
// flushes (each flush rescans the rows it touched) and publishes about one list per changed item.
// The single mode's engine and every partitioned task hold one each and feed it their flush times.
//
// While deletion requests arrive (one seen in the last DELETION_WINDOW_MS), chunks are cut to about
// DELETION_FLUSH_MS of flushing each: a request waits at most for the chunk being flushed when it is
// read (the single mode's deletion lane, serial-queue.ts), so that chunk is kept short — at the cost
// of more, smaller flushes while requests keep coming.

export interface BatchSettings {
  readonly maxEvents: number;
  readonly maxMs: number;
  /** Latency budget of one flush while catching up (chunks grow up to it). */
  readonly catchUpFlushMs: number;
  /** Budget of one flush while deletion requests arrive (0: no cut). */
  readonly deletionFlushMs?: number;
}

/** How long after a deletion request chunks stay cut to DELETION_FLUSH_MS. */
export const DELETION_WINDOW_MS = 10_000;
/** The fewest events a cut chunk takes (each flush has a fixed cost: a transaction). */
const MIN_CUT_EVENTS = 256;

/** Most events one flush takes during a catch-up, whatever the measured speed. */
export const CATCH_UP_MAX_EVENTS = 2_000_000;

export class ChunkPolicy {
  /** Measured cost of flushing, ms per event (exponentially smoothed). */
  private msPerEvent = 0.05;
  private lastDeletionAt = -Infinity;

  constructor(
    private readonly batch: BatchSettings,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** A deletion request was read: chunks stay short for DELETION_WINDOW_MS. */
  noteDeletion(): void {
    this.lastDeletionAt = this.clock();
  }

  /** Deletion requests are arriving: chunks are cut to DELETION_FLUSH_MS. */
  cutForDeletions(): boolean {
    return (this.batch.deletionFlushMs ?? 0) > 0 && this.clock() - this.lastDeletionAt < DELETION_WINDOW_MS;
  }

  /** A backlog larger than one live chunk waits. */
  catchingUp(lag: number): boolean {
    return lag > this.batch.maxEvents;
  }

  /** The chunk size now: BATCH_MAX_EVENTS, or more while catching up. */
  chunkLimit(lag: number): number {
    const { maxEvents, catchUpFlushMs } = this.batch;
    const limit = this.catchingUp(lag)
      ? Math.min(CATCH_UP_MAX_EVENTS, Math.max(maxEvents, this.byBudget(catchUpFlushMs)))
      : maxEvents;
    if (!this.cutForDeletions()) return limit;
    return Math.min(limit, Math.max(MIN_CUT_EVENTS, this.byBudget(this.batch.deletionFlushMs ?? 0)));
  }

  private byBudget(ms: number): number {
    return Math.floor(ms / Math.max(this.msPerEvent, 1e-4));
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
