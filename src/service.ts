// What the composition root (app.ts) and the HTTP layer see of a running service, whichever mode
// runs it: src/single/ (one active instance holds the whole model) or src/partitioned/ (instances
// share the work, state lives in Kafka). Both runtimes implement this interface; neither imports
// the other. What only one mode has is an optional capability, absent (undefined) in the other:
// the queryable model and the snapshot scheduler.
import type { Config } from './config.js';
import { AmnesiaError } from './errors.js';
import type { HealthVerdict } from './kafka/health.js';
import type { SchemaIds } from './kafka/topics.js';
import type { Logger } from './log.js';
import type { Model } from './model/index.js';
import type { ForgetEffects } from './output/forget-effects.js';
import type { SnapshotStatus, Snapshotter } from './state/snapshotter.js';
import type { Metrics } from './telemetry/metrics.js';

/**
 * Where an instance stands: joining, standing by, restoring its state, live, refusing, stopped.
 * Both runtimes keep one promise about 'live': every deletion request the state has read has been
 * applied (single: the rebuild's replay has finished — until then a user's deletion is applied only
 * at their next replayed event or at the end; partitioned: every held task is restored and reads
 * its deletion requests live). `personalDataHold` rests on it.
 */
export type Phase = 'starting' | 'standby' | 'rebuilding' | 'live' | 'blocked' | 'stopped';

/** Seconds a refused personal-data request is asked to wait (`Retry-After`) while not live. */
export const NOT_LIVE_RETRY_AFTER_S = 5;

/**
 * Why this instance must not answer with a user's data now, or undefined when it may: the one rule
 * the HTTP layer applies to every personal route (user queries, the inspector's state and events),
 * in either mode. Only a live state has applied every deletion request it has read; a rebuilding
 * or restoring one may still hold a user whose deletion it has read, and a starting, standby,
 * blocked or stopped one holds no current state.
 */
export function personalDataHold(service: Pick<Service, 'phase'> | undefined): string | undefined {
  const phase = service?.phase ?? 'starting';
  if (phase === 'live') return undefined;
  return phase === 'rebuilding'
    ? 'the state is being rebuilt (phase rebuilding): it may still hold users whose deletion it has read but not yet applied'
    : `the state is not live (phase ${phase})`;
}

export interface ServiceOptions {
  readonly log?: Logger;
  readonly metrics?: Metrics;
  /** Called when the consumer has crashed for good (the process should exit non-zero). */
  readonly onFatal?: (error: unknown) => void;
  /** AMNESIA_FAULT (crash tests): `snapshot:<step>` kills the process at that step of a write. */
  readonly fault?: string | undefined;
}

export interface Service {
  readonly config: Config;
  readonly metrics: Metrics;
  readonly instanceId: string;
  readonly schemaIds: SchemaIds | undefined;
  readonly phase: Phase;
  /** Ready: state restored, the consumer running live, outputs flowing (a standby is not ready). */
  isReady(): boolean;
  /** Liveness and readiness with reasons (the health endpoints). */
  health(): HealthVerdict;
  /** Seconds since the last batch and since outputs started failing (metrics). */
  healthFigures(): { idleSeconds: number; outputsStuckSeconds: number };
  /** Resolves when the instance is ready; rejects after timeoutMs. */
  waitUntilReady(timeoutMs?: number): Promise<void>;
  /** Stops fetching the input topics (state and outputs stay as they are) until resumed. */
  pauseInputs(): void;
  resumeInputs(): void;
  /** Lag of the input partitions this instance holds (empty on a standby). */
  consumerLag(): { topic: string; partition: number; lag: number }[];
  /** Record timestamp (epoch ms) of the newest input record applied live, where the mode tracks it. */
  lastEventTime(): number | undefined;
  /**
   * Capability: the whole model this instance holds (replaced on every rebuild), for the query API,
   * the inspector and the model metrics. Undefined where no instance holds it (MODE=partitioned).
   */
  readonly model: Model | undefined;
  /** Capability: the snapshot scheduler; undefined when state is not snapshotted to files. */
  readonly snapshots: Snapshotter | undefined;
  /**
   * Capability: what each forget changed, for the query API's /forgets routes (output/forget-effects.ts).
   * Undefined where there is no query API (MODE=partitioned).
   */
  readonly forgetEffects: ForgetEffects | undefined;
  /** Graceful: finish the work in progress, publish, commit, snapshot if any, leave the group, disconnect. */
  stop(): Promise<void>;
}

/** Snapshot figures for the ops metrics; undefined where there are no snapshots. */
export function snapshotStatus(service: Service | undefined): SnapshotStatus | undefined {
  return service?.snapshots?.status;
}

/** The one waitUntilReady of both modes: polls `ready` until it holds or timeoutMs has passed. */
export function untilReady(
  ready: () => boolean,
  phase: () => Phase,
  timeoutMs = 60_000,
  pollMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise<void>((resolve, reject) => {
    const check = () => {
      if (ready()) return resolve();
      if (Date.now() >= deadline) {
        return reject(
          new AmnesiaError('STATE_INCONSISTENT', `not ready after ${timeoutMs} ms (phase ${phase()})`),
        );
      }
      setTimeout(check, pollMs);
    };
    check();
  });
}

/** The model capability, for callers that need it (the demo, tests): a clear error where absent. */
export function modelOf(service: Service): Model {
  if (!service.model) {
    throw new AmnesiaError('CONFIG_INVALID', `MODE=${service.config.mode} holds no queryable model`);
  }
  return service.model;
}
