// What retention may have deleted before the state applied it, and whether rebuilding is still
// safe. Input records the state never applied but retention already deleted are a "gap": the records
// between where the state stands (a snapshot's offset, else 0) and the log start.
// - Interactions: history is lost (not privacy). Made visible (metric, log); the rebuild goes on.
// - Deletion requests: a user they named could come back. A snapshot that predates them cannot be
//   trusted (it holds those users): only its tombstones are kept and the topics are replayed. A
//   replay is safe when no retained interaction was recorded before a lost request — true when the
//   deletion topic is retained at least as long as the interactions topic (docs/durability.md). The
//   guard learns, while the deletion requests are read, a bound after which every lost request was
//   recorded (the first retained record of each truncated partition; "now" for an emptied one), and
//   the replay stops (the instance blocks) at the first interaction recorded before it.
import { PartitionMap, type TopicPartition } from './partitions.js';

export interface RetentionGap extends TopicPartition {
  /** Records deleted by retention between where the state stands and the log start. */
  readonly lost: number;
}

export function retentionGaps(
  inputs: readonly TopicPartition[],
  marks: PartitionMap<{ readonly low: number }>,
  start: PartitionMap<number>,
): RetentionGap[] {
  const gaps: RetentionGap[] = [];
  for (const tp of inputs) {
    const low = marks.get(tp)?.low ?? 0;
    const from = start.get(tp) ?? 0;
    if (low > from) gaps.push({ ...tp, lost: low - from });
  }
  return gaps;
}

export class DeletionGapGuard {
  /** Truncated deletion partitions → record time of their first retained record (undefined: not seen yet). */
  private readonly firstRetained = new PartitionMap<number | undefined>();
  private bound: number | undefined;

  constructor(
    gaps: readonly TopicPartition[],
    private readonly now: () => number = Date.now,
  ) {
    for (const tp of gaps) this.firstRetained.set(tp, undefined);
  }

  get active(): boolean {
    return this.firstRetained.size > 0;
  }

  /** A retained deletion request was read (in offset order). */
  noteDeletion(tp: TopicPartition, recordMs: number): void {
    if (this.firstRetained.has(tp) && this.firstRetained.get(tp) === undefined)
      this.firstRetained.set(tp, recordMs);
  }

  /** Once every deletion request is read: every lost one was recorded before the returned time. */
  seal(): number | undefined {
    if (!this.active) return undefined;
    let bound = -Infinity;
    for (const [, first] of this.firstRetained) bound = Math.max(bound, first ?? this.now());
    this.bound = bound;
    return bound;
  }

  /** False when an interaction recorded at `recordMs` may predate a lost deletion request. */
  allows(recordMs: number): boolean {
    return this.bound === undefined || recordMs >= this.bound;
  }
}

/** What a batch fetched past the position means (pastPosition). */
export type PastPosition =
  { readonly gap: false } | { readonly gap: true; readonly lost: number; readonly resumeAt: number };

/**
 * A batch fetched past our position is a stale fetch (a commit or a seek from before: seek back to
 * the position) — unless the log now starts after the position: retention deleted records while
 * the partition was not read (inputs paused, e.g. at the memory budget). Seeking back then loops
 * forever (the broker answers out of range, the client resets to the log start), so it is a gap
 * while live too: the records between are lost, the position moves to the log start. Both modes:
 * interactions lost are counted, deletion requests lost block (unless ACCEPT_DELETION_GAP).
 */
export function pastPosition(position: number, logStart: number): PastPosition {
  return logStart > position ? { gap: true, lost: logStart - position, resumeAt: logStart } : { gap: false };
}
