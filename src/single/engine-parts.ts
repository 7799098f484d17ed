// Wiring the engine's pieces to its dependencies and to each other (construction only; the engine
// composes their behaviour): intake, publisher, live processing and what every rebuild needs.
import type { Logger } from '../log.js';
import type { EngineDeps } from './engine-deps.js';
import type { FlushRunner } from './flush-runner.js';
import { Intake } from '../input/intake.js';
import { Live } from './live.js';
import { modelFromState, settingsFit, tombstonesOnly } from './model-factory.js';
import { expireCounted } from './expiry.js';
import type { Positions } from '../kafka/positions.js';
import type { Lane } from '../kafka/serial-queue.js';
import { Publisher, type PublishContext } from '../output/publisher.js';
import type { RebuildDeps } from './rebuild.js';
import type { Replicas } from './replicas.js';
import type { ModelSlot, TopicRoles } from './holders.js';

/** What the pieces need of the engine itself. */
export interface EngineHooks {
  readonly log: Logger;
  readonly positions: Positions;
  readonly flushes: FlushRunner;
  readonly replicas: Replicas;
  readonly topics: TopicRoles;
  readonly slot: ModelSlot;
  readonly stopping: () => boolean;
  /** Runs a task in the serial queue (fencing and blocking handled). */
  readonly enqueue: (task: () => Promise<void>, lane?: Lane) => Promise<void>;
  readonly idleContext: () => PublishContext;
}

export interface EngineParts {
  readonly intake: Intake;
  readonly publisher: Publisher;
  readonly live: Live;
  readonly rebuildDeps: RebuildDeps;
}

export function engineParts(deps: EngineDeps, hooks: EngineHooks): EngineParts {
  const { config, metrics, outbox, snapshots } = deps;
  const { log, positions, topics, slot, stopping } = hooks;
  const model = () => slot.current;
  const isInput = topics.isInput;
  const intake = new Intake({
    model,
    dedupWindow: config.model.dedupWindow,
    dedupMaxUsers: config.model.dedupMaxUsers,
    tombstoneKey: deps.tombstoneKey,
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
    registry: deps.registry,
    metrics,
    log,
    slot,
    snapshot: {
      restore: async () => snapshots?.restore((s) => (settingsFit(config, s) ? s : undefined)),
      buildModel: (s, withUsers) => {
        // The eventIds remembered go with the users: kept only with them.
        const model = modelFromState(
          config,
          deps.tombstoneKey,
          withUsers ? s.state : tombstonesOnly(s.state),
        );
        intake.resetDedup(withUsers ? s.sections : undefined, (userId) => model.hasUser(userId));
        expireCounted(model, { config, metrics, snapshots });
        return model;
      },
      dropPublished: (published) => snapshots?.dropPending(published),
    },
    outputs: {
      outbox,
      publisher,
      activate: async () => {
        await hooks.replicas.announceActive();
        await deps.sink.activate();
      },
    },
    retention: {
      acceptDeletionGap: config.acceptDeletionGap,
      onGaps: (gaps) => {
        metrics.retentionGap.reset();
        for (const g of gaps)
          metrics.retentionGap.set({ topic: g.topic, partition: String(g.partition) }, g.lost);
      },
    },
    flushes: hooks.flushes,
    stopping,
  };
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
    effects: deps.forgetEffects,
  });
  return { intake, publisher, live, rebuildDeps };
}
