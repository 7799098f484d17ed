// Liveness of one stage of the partitioned mode: the single mode's verdict (kafka/health.ts) over
// the partitions the stage holds. The stage is wedged when input waits for its live tasks (a fresh
// probe of the high-water marks against the tasks' positions), the broker answers, nothing of the
// stage is running (a batch, a flush, a restore step in its serial queue), its inputs are not paused
// on purpose, and yet no batch has come for LIVENESS_STALL_MS. Readiness stays the stage's own
// (stage.ts: every task live, outputs flowing).
import { HealthMonitor, type HealthInputs, type HealthThresholds } from '../kafka/health.js';
import type { OffsetsPort } from '../kafka/ports.js';
import type { Task } from './task.js';

export type HeldTask = Pick<Task, 'partition' | 'phase' | 'positions'>;

/** What the verdict reads of a stage (busy: work of the stage running or queued). */
export interface StageFacts extends Pick<
  HealthInputs,
  'inputsPaused' | 'busy' | 'lastBatchAt' | 'log' | 'now'
> {
  /** The topics whose positions the stage's tasks commit (not the changelog). */
  readonly inputs: readonly string[];
  readonly tasks: () => Iterable<HeldTask>;
  /** In its group and not stopping. */
  readonly running: () => boolean;
}

export function stageMonitor(
  f: StageFacts,
  offsets: OffsetsPort,
  thresholds: HealthThresholds,
): HealthMonitor {
  const live = () => [...f.tasks()].filter((t) => t.phase === 'live');
  return new HealthMonitor(
    {
      offsets,
      positions: () => live().flatMap((t) => t.positions.offsets(f.inputs)),
      // The lag gauge stays true when no batch comes.
      noteHighWatermark: (tp, offset) => {
        for (const t of live())
          if (t.partition === tp.partition) t.positions.noteHighWatermark(tp.topic, offset);
      },
      live: f.running,
      ready: () => true,
      inputsPaused: f.inputsPaused,
      busy: f.busy,
      lastBatchAt: f.lastBatchAt,
      outputsStuckMs: () => 0,
      log: f.log,
      ...(f.now ? { now: f.now } : {}),
    },
    thresholds,
  );
}
