// The shape of the parsed configuration that the rest of the service reads (built by loadConfig in
// config.ts from the environment; frozen).
import type { Env, OutputCompression } from './config-schema.js';
import type { SimilarityMeasure } from './model/index.js';

export interface KafkaConfig {
  readonly brokers: readonly string[];
  readonly groupId: string;
  readonly clientId: string;
  readonly ssl: false | { readonly caFile?: string; readonly rejectUnauthorized: boolean };
  readonly sasl?: {
    readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
    readonly username: string;
    readonly password: string;
  };
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  /** exactly_once: outputs and input offsets in one transaction, fenced per active role. */
  readonly guarantee: 'exactly_once' | 'at_least_once';
  /** The transactional id of the group's active role (exactly_once). */
  readonly transactionalId: string;
  readonly transactionTimeoutMs: number;
}

/** MODE=partitioned: the changelog topics' settings and the margin PURGED adds to their bound. */
export interface PartitionedConfig {
  /** segment.ms of the changelogs (and the deltas topic) the service creates. */
  readonly segmentMs: number;
  /** max.compaction.lag.ms of the changelogs the service creates. */
  readonly maxCompactionLagMs: number;
  /** Added to the topics' bound before PURGED (the broker's cleaner back-off, retention checks). */
  readonly purgeMarginMs: number;
}

export interface Config {
  /** single: one active instance holds the whole model; partitioned: instances share the work (docs/scale-out.md). */
  readonly mode: 'single' | 'partitioned';
  readonly partitioned: PartitionedConfig;
  readonly kafka: KafkaConfig;
  readonly registry?: { readonly url: string; readonly username?: string; readonly password?: string };
  readonly topics: {
    readonly interactions: string;
    readonly deletions: string;
    readonly similarities: string;
    readonly receipts: string;
    /** Compacted, key = instance id: which replicas may hold snapshots (PURGED waits for all). */
    readonly progress: string;
    readonly partitions: number;
    readonly replicationFactor: number;
  };
  readonly outputFormat: 'avro' | 'json';
  /** Compression of every batch the service produces (OUTPUT_COMPRESSION). */
  readonly outputCompression: OutputCompression;
  /** Input rules beyond the field formats (MAX_FUTURE_SKEW_MS). */
  readonly input: { readonly maxFutureSkewMs: number };
  readonly model: {
    readonly topK: number;
    /** S_ij of the lists (SIMILARITY): Jaccard or cosine, src/model/similarity.ts. */
    readonly similarity: SimilarityMeasure;
    readonly minCooccurrences: number;
    readonly tombstoneRetentionMs: number;
    readonly tombstoneKey?: string;
    /** A user holds at most this many items; an ADD past it first removes their oldest interaction. */
    readonly maxItemsPerUser: number;
    /** INTERACTION_TTL_MS: an interaction older than now minus it is forgotten (0: off). */
    readonly interactionTtlMs: number;
    /** TTL_CHECK_MS: how often expiry runs (an expired interaction is gone within it plus one flush). */
    readonly ttlCheckMs: number;
    /** Bytes the model may hold (default: 60% of the memory the process may use, see memory-limit.ts). */
    readonly memoryBudgetBytes: number;
    /** eventIds remembered per user: an interaction repeating one of them is dropped (0: off). */
    readonly dedupWindow: number;
    /** Most users whose eventIds the single mode remembers (least recently noted dropped first). */
    readonly dedupMaxUsers: number;
    /**
     * Bytes of memoryBudgetBytes set aside for that window (dedupMaxUsers at its largest); the
     * single mode's model gets the rest. 0 with the window off.
     */
    readonly dedupReservedBytes: number;
  };
  readonly batch: {
    readonly maxEvents: number;
    readonly maxMs: number;
    /** Latency budget of one flush while catching up on a large lag (chunks grow up to it). */
    readonly catchUpFlushMs: number;
    /** Single mode: budget of one flush while deletion requests arrive (0: chunks are not cut). */
    readonly deletionFlushMs: number;
    readonly fetchMaxBytesPerPartition: number;
    readonly fetchMaxWaitMs: number;
  };
  readonly dlq: {
    /** Largest DLQ copy; bigger ones are bounded (size and SHA-256 of the original value kept). */
    readonly maxRecordBytes: number;
    /** retention.ms of the DLQ topics the service creates. */
    readonly retentionMs: number;
  };
  readonly snapshot: {
    readonly dir?: string;
    readonly intervalMs: number;
    readonly retain: number;
    /** How long an announcement that a replica may hold snapshots counts without renewal. */
    readonly holderLeaseMs: number;
  };
  /**
   * Where the HTTP server listens, and the bearer token the user routes require (HTTP_AUTH_TOKEN;
   * without it they are open on a loopback HTTP_HOST and closed beyond: http/access.ts).
   */
  readonly http: { readonly host: string; readonly port: number; readonly authToken?: string };
  /**
   * What a forget changed (the query API's /forgets routes, single mode): how long each record is
   * kept in memory (FORGET_EFFECT_RETENTION_MS; 0: none is kept).
   */
  readonly forgetEffects: { readonly retentionMs: number };
  /**
   * The live inspector page (lists user ids: off unless asked for), its write controls, the Host
   * (and Origin) names it answers to, and the most event streams open at once.
   */
  readonly inspector: {
    readonly enabled: boolean;
    readonly writes: boolean;
    readonly allowedHosts: readonly string[];
    readonly maxStreams: number;
  };
  readonly health: {
    /** /livez fails when input waits and no batch arrives for this long (a wedged consumer). */
    readonly stallMs: number;
    /** /readyz fails while outputs have been failing for longer than this. */
    readonly outputStallMs: number;
    readonly probeIntervalMs: number;
  };
  /** Rebuild even when retention deleted deletion requests the state never applied (operator's call). */
  readonly acceptDeletionGap: boolean;
  /** Single mode: deletion requests read by a consumer of their own, applied ahead of queued chunks. */
  readonly deletionLane: boolean;
  readonly logLevel: Env['LOG_LEVEL'];
  readonly shutdownTimeoutMs: number;
}
