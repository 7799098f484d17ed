// What the single-mode engine is built from (single/service.ts composes it): the settings, the
// Kafka-facing ports, the outbox and the optional snapshot and replica pieces.
import type { Config } from '../config.js';
import type { ConsumerPort, OffsetsPort, OutputSink } from '../kafka/ports.js';
import type { SchemaRegistryClient } from '../kafka/registry.js';
import type { Logger } from '../log.js';
import type { ForgetEffects } from '../output/forget-effects.js';
import type { Outbox } from '../output/outbox.js';
import type { ProgressBoard } from '../output/purge-progress.js';
import type { Snapshotter } from '../state/snapshotter.js';
import type { Metrics } from '../telemetry/metrics.js';

export interface EngineDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly consumer: ConsumerPort;
  readonly offsets: OffsetsPort;
  readonly sink: OutputSink;
  readonly outbox: Outbox;
  readonly registry: SchemaRegistryClient | undefined;
  /** Snapshots (SNAPSHOT_DIR set): restore on assignment, forgotten users noted for PURGED. */
  readonly snapshots?: Snapshotter | undefined;
  /** Who holds snapshots among the replicas (purge-progress.ts); PURGED waits for the others. */
  readonly progress?: ProgressBoard | undefined;
  /** This instance's id (in the group's member metadata and on the progress board). */
  readonly instanceId?: string;
  /** The tombstones' secret key, resolved at start-up (state/tombstone-key.ts). */
  readonly tombstoneKey: string;
  /** What each live forget changed, for the query API (FORGET_EFFECT_RETENTION_MS > 0). */
  readonly forgetEffects?: ForgetEffects | undefined;
}
