// Wiring the engine's pieces to its dependencies and to each other (construction only; the engine
// composes their behaviour): intake, publisher, live processing, what every rebuild needs, and the
// health monitor.
import type { Model } from '../model/index.js';
import type { Logger } from '../log.js';
import type { EngineDeps } from './engine-deps.js';
import type { FlushRunner } from './flush-runner.js';
import { HealthMonitor } from '../kafka/health.js';
import { Intake } from '../input/intake.js';
import { Live } from './live.js';
import { modelFromState, settingsFit, tombstonesOnly } from './model-factory.js';
import type { Positions } from '../kafka/positions.js';
import { Publisher, type PublishContext } from '../output/publisher.js';
import type { RebuildDeps } from './rebuild.js';
import type { Replicas } from './replicas.js';

/** The snapshot section that carries the eventIds remembered per user (dedup.ts). */
export const DEDUP_SECTION = 'dedp';

/** What the pieces need of the engine itself. */
export interface EngineHooks {
  readonly log: Logger;
  readonly positions: Positions;
  readonly flushes: FlushRunner;
  readonly replicas: Replicas;
  readonly isInput: (topic: string) => boolean;
  readonly model: () => Model;
  readonly setModel: (m: Model) => void;
  readonly stopping: () => boolean;
  /** Runs a task in the serial queue (fencing and blocking handled). */
  readonly enqueue: (task: () => Promise<void>) => Promise<void>;
  readonly idleContext: () => PublishContext;
  readonly live: () => boolean;
  /** Why the instance is not ready (for /readyz). */
  readonly notReadyReason: () => string;
  readonly inputsPaused: () => boolean;
  readonly busy: () => boolean;
  readonly lastBatchAt: () => number;
}

export interface EngineParts {
  readonly intake: Intake;
  readonly publisher: Publisher;
  readonly live: Live;
  readonly rebuildDeps: RebuildDeps;
  readonly monitor: HealthMonitor;
}

export function engineParts(deps: EngineDeps, hooks: EngineHooks): EngineParts {
  const { config, metrics, outbox, snapshots } = deps;
  const { log, positions, isInput, model, stopping } = hooks;
  const intake = new Intake({
    model,
    dedupWindow: config.model.dedupWindow,
    registry: deps.registry,
    inputRules: config.input,
    outbox,
    metrics,
    log,
    noteForgotten: snapshots ? (p) => snapshots.noteForgotten(p) : undefined,
  });
  const publisher = new Publisher({ outbox, sink: deps.sink, positions, isInput, log, metrics });
  const rebuildDeps: RebuildDeps = {
    topics: config.topics,
    groupId: config.kafka.groupId,
    consumer: deps.consumer,
    offsets: deps.offsets,
    positions,
    intake,
    outbox,
    publisher,
    registry: deps.registry,
    metrics,
    log,
    restore: async () => snapshots?.restore((s) => (settingsFit(config, s) ? s : undefined)),
    buildModel: (s, withUsers) => {
      // The eventIds remembered go with the users (they name them): kept only with them.
      const dedup = s.sections?.[DEDUP_SECTION];
      if (withUsers && dedup) intake.resetDedup(dedup);
      return modelFromState(config, deps.tombstoneKey, withUsers ? s.state : tombstonesOnly(s.state));
    },
    setModel: hooks.setModel,
    model,
    flushes: hooks.flushes,
    activate: async () => {
      await hooks.replicas.announceActive();
      await deps.sink.activate();
    },
    acceptDeletionGap: config.acceptDeletionGap,
    onGaps: (gaps) => {
      metrics.retentionGap.reset();
      for (const g of gaps)
        metrics.retentionGap.set({ topic: g.topic, partition: String(g.partition) }, g.lost);
    },
    stopping,
  };
  const monitor = new HealthMonitor(
    {
      offsets: deps.offsets,
      positions: () => positions.offsets(isInput),
      noteHighWatermark: (tp, offset) => positions.noteHighWatermark(tp, offset),
      live: hooks.live,
      ready: hooks.live,
      notReadyReason: hooks.notReadyReason,
      inputsPaused: hooks.inputsPaused,
      busy: hooks.busy,
      lastBatchAt: hooks.lastBatchAt,
      outputsStuckMs: () => publisher.stuckMs(),
      log,
    },
    config.health,
  );
  const live = new Live({
    batch: config.batch,
    intake,
    outbox,
    publisher,
    positions,
    metrics,
    log,
    model,
    flushes: hooks.flushes,
    isInput,
    enqueue: hooks.enqueue,
    idleContext: hooks.idleContext,
  });
  return { intake, publisher, live, rebuildDeps, monitor };
}
