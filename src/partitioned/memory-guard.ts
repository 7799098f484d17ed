// MODEL_MEMORY_BYTES in the partitioned mode: the state of the partitions an instance holds (both
// stages, the tasks' own estimates) may not grow past the budget. Past it the inputs of both stages
// are paused — nothing more is applied, the instance is not ready and says why, the gauge
// amnesia_model_memory_exceeded is 1 — instead of the process being OOM-killed. Unlike the single
// mode this is not final: when partitions move away (an instance added) and the state falls below
// RESUME_FRACTION of the budget, fetching resumes. Restores go on while paused: a partition the group
// gives us has to live somewhere, and its restore reads only what its previous owner held.
// The stages ask before applying each input batch (admit), so the state passes the budget by at most
// what one batch adds (the tasks keep their estimates as they change: asking is O(tasks)).
import type { Logger } from '../log.js';

/** Fetching resumes below this share of the budget (no flapping around the line). */
export const RESUME_FRACTION = 0.9;
export const MEMORY_PAUSE = 'memory budget';

export interface MemoryGuardOptions {
  readonly budgetBytes: number;
  /** Estimated bytes of the state held now (every task of both stages). */
  readonly stateBytes: () => number;
  /** Pauses or resumes the inputs of both stages for MEMORY_PAUSE. */
  readonly pauseInputs: (paused: boolean) => void;
  readonly gauge: { set(value: number): void };
  readonly log: Logger;
}

export class MemoryGuard {
  private exceeded = false;
  private lastBytes = 0;

  constructor(private readonly o: MemoryGuardOptions) {
    o.gauge.set(0);
  }

  /** Whether a stage may apply an input batch now: false once the state is past the budget. */
  admit(): boolean {
    this.check();
    return !this.exceeded;
  }

  /** Compares the state with the budget and pauses or resumes (every 250 ms, and through admit). */
  check(): void {
    const bytes = this.o.stateBytes();
    this.lastBytes = bytes;
    const { budgetBytes } = this.o;
    if (!this.exceeded && bytes > budgetBytes) {
      this.exceeded = true;
      this.o.pauseInputs(true);
      this.o.gauge.set(1);
      this.o.log.error(
        { stateBytes: bytes, budgetBytes },
        'state of the partitions held reached MODEL_MEMORY_BYTES: inputs paused until partitions move away or the budget is raised',
      );
    } else if (this.exceeded && bytes < budgetBytes * RESUME_FRACTION) {
      this.exceeded = false;
      this.o.pauseInputs(false);
      this.o.gauge.set(0);
      this.o.log.warn(
        { stateBytes: bytes, budgetBytes },
        'state back under MODEL_MEMORY_BYTES: inputs resumed',
      );
    }
  }

  /** Why the instance is not ready, while it is paused. */
  reason(): string | undefined {
    if (!this.exceeded) return undefined;
    const mb = (b: number) => `${Math.round(b / 1e6)} MB`;
    return (
      `memory: state of the partitions held ${mb(this.lastBytes)} past MODEL_MEMORY_BYTES ` +
      `${mb(this.o.budgetBytes)}; inputs paused until it falls under ${mb(this.o.budgetBytes * RESUME_FRACTION)} ` +
      '(add instances, or raise the budget and restart)'
    );
  }
}
