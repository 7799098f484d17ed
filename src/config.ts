// The service's configuration: environment variables only, one zod schema, parsed once and frozen.
// A bad value throws a ConfigError naming the variable, before anything connects.
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { defaultModelMemoryBytes } from './memory-limit.js';
import { parseAuthority } from './http/inspector/guard.js';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z.stringbool({ truthy: ['true', '1', 'yes', 'on'], falsy: ['false', '0', 'no', 'off'] });
const topicName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[a-zA-Z0-9._-]+$/, 'a Kafka topic name: letters, digits, ".", "_" and "-"');
const brokers = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((b) => b.trim())
      .filter((b) => b.length > 0),
  )
  .pipe(z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'host:port')).min(1, 'at least one host:port'));
const httpUrl = z.url({ protocol: /^https?$/ });

export const OUTPUT_COMPRESSIONS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type OutputCompression = (typeof OUTPUT_COMPRESSIONS)[number];
/** Default bound on how far an event's own timestamp may lie ahead of its Kafka record timestamp. */
export const DEFAULT_MAX_FUTURE_SKEW_MS = 5 * 60_000;

const schema = z.object({
  MODE: z.enum(['single', 'partitioned']).default('single'),
  CHANGELOG_SEGMENT_MS: int(1_000, 7 * 86_400_000).default(600_000),
  CHANGELOG_MAX_COMPACTION_LAG_MS: int(1_000, 30 * 86_400_000).default(3_600_000),
  PURGE_MARGIN_MS: int(0, 86_400_000).default(420_000),
  KAFKA_BROKERS: brokers.default(['127.0.0.1:9092']),
  KAFKA_GROUP_ID: z.string().min(1).default('amnesia'),
  KAFKA_CLIENT_ID: z.string().min(1).default('amnesia'),
  KAFKA_SSL: bool.default(false),
  KAFKA_SSL_CA_FILE: z.string().min(1).optional(),
  KAFKA_SSL_REJECT_UNAUTHORIZED: bool.default(true),
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  KAFKA_SESSION_TIMEOUT_MS: int(6_000, 300_000).default(30_000),
  KAFKA_HEARTBEAT_INTERVAL_MS: int(100, 60_000).default(3_000),
  PROCESSING_GUARANTEE: z.enum(['exactly_once', 'at_least_once']).default('exactly_once'),
  KAFKA_TRANSACTION_TIMEOUT_MS: int(1_000, 900_000).default(60_000),
  SCHEMA_REGISTRY_URL: httpUrl.optional(),
  SCHEMA_REGISTRY_USERNAME: z.string().min(1).optional(),
  SCHEMA_REGISTRY_PASSWORD: z.string().min(1).optional(),
  INTERACTIONS_TOPIC: topicName.default('interactions'),
  DELETIONS_TOPIC: topicName.default('deletion-requests'),
  SIMILARITIES_TOPIC: topicName.default('item-similarities'),
  RECEIPTS_TOPIC: topicName.default('deletion-receipts'),
  PROGRESS_TOPIC: topicName.default('amnesia-progress'),
  OUTPUT_FORMAT: z.enum(['avro', 'json']).optional(),
  OUTPUT_COMPRESSION: z.enum(OUTPUT_COMPRESSIONS).default('zstd'),
  MAX_FUTURE_SKEW_MS: int(0, 30 * 86_400_000).default(DEFAULT_MAX_FUTURE_SKEW_MS),
  TOP_K: int(1, 1000).default(20),
  MIN_COOCCURRENCES: int(1, 1_000_000_000).default(1),
  SNAPSHOT_DIR: z.string().min(1).optional(),
  SNAPSHOT_INTERVAL_MS: int(1_000, 86_400_000).default(60_000),
  SNAPSHOT_RETAIN: int(1, 1_000).default(2),
  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  HTTP_PORT: int(0, 65_535).default(8080),
  INSPECTOR_ENABLED: bool.default(false),
  INSPECTOR_WRITES: bool.default(false),
  INSPECTOR_ALLOWED_HOSTS: z
    .string()
    .default('127.0.0.1,localhost,[::1]')
    .transform((s) =>
      s
        .split(',')
        .map((h) => h.trim())
        .filter((h) => h.length > 0),
    )
    .pipe(
      z
        .array(
          z.string().refine((h) => parseAuthority(h) !== undefined, 'host or host:port ([v6] in brackets)'),
        )
        .min(1, 'at least one host'),
    ),
  INSPECTOR_MAX_STREAMS: int(1, 1_000).default(8),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TOPIC_PARTITIONS: int(1, 10_000).default(3),
  // -1 lets the broker pick its default.replication.factor.
  TOPIC_REPLICATION_FACTOR: int(-1, 32)
    .refine((n) => n !== 0, 'must be -1 or >= 1')
    .default(1),
  BATCH_MAX_EVENTS: int(1, 1_000_000).default(50_000),
  BATCH_MAX_MS: int(1, 60_000).default(200),
  CATCHUP_FLUSH_MS: int(10, 600_000).default(2_000),
  DLQ_MAX_RECORD_BYTES: int(4_096, 104_857_600).default(1_000_000),
  DLQ_RETENTION_MS: int(60_000, Number.MAX_SAFE_INTEGER).default(7 * 86_400_000),
  FETCH_MAX_BYTES_PER_PARTITION: int(1_024, 104_857_600).default(1_048_576),
  FETCH_MAX_WAIT_MS: int(1, 10_000).default(100),
  TOMBSTONE_RETENTION_MS: int(0, Number.MAX_SAFE_INTEGER).default(30 * 86_400_000),
  TOMBSTONE_KEY: z.string().min(16, 'at least 16 characters').optional(),
  ACCEPT_DELETION_GAP: bool.default(false),
  MAX_ITEMS_PER_USER: int(1, 1_000_000).default(10_000),
  EVENT_DEDUP_WINDOW: int(0, 1_024).default(8),
  MODEL_MEMORY_BYTES: int(16 * 1024 * 1024, Number.MAX_SAFE_INTEGER).optional(),
  SHUTDOWN_TIMEOUT_MS: int(100, 600_000).default(10_000),
  LIVENESS_STALL_MS: int(1_000, 3_600_000).default(60_000),
  READINESS_OUTPUT_STALL_MS: int(1_000, 3_600_000).default(30_000),
  HEALTH_PROBE_INTERVAL_MS: int(100, 600_000).default(5_000),
});

type Env = z.infer<typeof schema>;

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
    readonly minCooccurrences: number;
    readonly tombstoneRetentionMs: number;
    readonly tombstoneKey?: string;
    /** A user holds at most this many items; an ADD past it first removes their oldest interaction. */
    readonly maxItemsPerUser: number;
    /** Bytes the model may hold (default: 60% of the memory the process may use, see memory-limit.ts). */
    readonly memoryBudgetBytes: number;
    /** eventIds remembered per user: an interaction repeating one of them is dropped (0: off). */
    readonly dedupWindow: number;
  };
  readonly batch: {
    readonly maxEvents: number;
    readonly maxMs: number;
    /** Latency budget of one flush while catching up on a large lag (chunks grow up to it). */
    readonly catchUpFlushMs: number;
    readonly fetchMaxBytesPerPartition: number;
    readonly fetchMaxWaitMs: number;
  };
  readonly dlq: {
    /** Largest DLQ copy; bigger ones are bounded (size and SHA-256 of the original value kept). */
    readonly maxRecordBytes: number;
    /** retention.ms of the DLQ topics the service creates. */
    readonly retentionMs: number;
  };
  readonly snapshot: { readonly dir?: string; readonly intervalMs: number; readonly retain: number };
  readonly http: { readonly host: string; readonly port: number };
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
  readonly logLevel: Env['LOG_LEVEL'];
  readonly shutdownTimeoutMs: number;
}

/** Variables set to the empty string count as unset (docker-compose `FOO=` style). */
function relevantEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const v = env[key];
    if (v !== undefined && v.trim() !== '') out[key] = v.trim();
  }
  return out;
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

export interface UrlWithCredentials {
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
}

/**
 * Splits `user:pass@` off a URL, percent-decoded; the URL is returned without them and without
 * trailing slashes. fetch refuses URLs with credentials, and URLs get logged: they must not be in it.
 * Throws a ConfigError naming `variable`; no message ever quotes the URL (it may hold a password).
 */
export function splitUrlCredentials(raw: string, variable = 'SCHEMA_REGISTRY_URL'): UrlWithCredentials {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(variable, 'not a valid URL');
  }
  if (parsed.username === '' && parsed.password === '') return { url: raw.replace(/\/+$/, '') };
  let username: string;
  let password: string;
  try {
    username = decodeURIComponent(parsed.username);
    password = decodeURIComponent(parsed.password);
  } catch {
    throw new ConfigError(variable, 'the credentials are not valid percent-encoding');
  }
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.href.replace(/\/+$/, ''), username, password };
}

/**
 * The registry settings. Credentials in SCHEMA_REGISTRY_URL (`https://user:pass@host/`) become basic
 * auth; giving them both there and in SCHEMA_REGISTRY_USERNAME/PASSWORD is ambiguous, so an error.
 */
function registrySettings(e: Env): Config['registry'] {
  if (e.SCHEMA_REGISTRY_URL === undefined) return undefined;
  const fromUrl = splitUrlCredentials(e.SCHEMA_REGISTRY_URL);
  let username = e.SCHEMA_REGISTRY_USERNAME;
  let password = e.SCHEMA_REGISTRY_PASSWORD;
  if (fromUrl.username !== undefined) {
    for (const [variable, value] of [
      ['SCHEMA_REGISTRY_USERNAME', username],
      ['SCHEMA_REGISTRY_PASSWORD', password],
    ] as const) {
      if (value !== undefined)
        throw new ConfigError(variable, 'must not be set when SCHEMA_REGISTRY_URL carries credentials');
    }
    username = fromUrl.username;
    password = fromUrl.password;
  }
  if (password !== undefined && username === undefined)
    throw new ConfigError('SCHEMA_REGISTRY_USERNAME', 'required with SCHEMA_REGISTRY_PASSWORD');
  return {
    url: fromUrl.url,
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
  };
}

/**
 * MODE=partitioned: the instances share state through Kafka, so they must hash user ids under one
 * key and write in transactions; local snapshots and the inspector (which needs the whole model)
 * have no place in it.
 */
function partitionedRules(e: Env): void {
  if (e.TOMBSTONE_KEY === undefined)
    throw new ConfigError('TOMBSTONE_KEY', 'required with MODE=partitioned (the same on every instance)');
  if (e.PROCESSING_GUARANTEE !== 'exactly_once')
    throw new ConfigError('PROCESSING_GUARANTEE', 'MODE=partitioned needs exactly_once');
  if (e.SNAPSHOT_DIR !== undefined)
    throw new ConfigError('SNAPSHOT_DIR', 'not used with MODE=partitioned (state lives in changelog topics)');
  if (e.INSPECTOR_ENABLED)
    throw new ConfigError(
      'INSPECTOR_ENABLED',
      'not available with MODE=partitioned (no instance holds the whole model)',
    );
}

/** Parses and validates the environment; throws ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(relevantEnv(env));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue?.path[0] ?? 'environment');
    throw new ConfigError(variable, issue?.message ?? 'invalid value');
  }
  const e = parsed.data;

  if (e.OUTPUT_FORMAT === 'avro' && e.SCHEMA_REGISTRY_URL === undefined) {
    throw new ConfigError('OUTPUT_FORMAT', 'avro output needs SCHEMA_REGISTRY_URL');
  }
  if (e.KAFKA_SASL_MECHANISM !== undefined) {
    if (e.KAFKA_SASL_USERNAME === undefined)
      throw new ConfigError('KAFKA_SASL_USERNAME', 'required with KAFKA_SASL_MECHANISM');
    if (e.KAFKA_SASL_PASSWORD === undefined)
      throw new ConfigError('KAFKA_SASL_PASSWORD', 'required with KAFKA_SASL_MECHANISM');
  }
  if (e.KAFKA_HEARTBEAT_INTERVAL_MS * 3 > e.KAFKA_SESSION_TIMEOUT_MS) {
    throw new ConfigError(
      'KAFKA_HEARTBEAT_INTERVAL_MS',
      'must be at most a third of KAFKA_SESSION_TIMEOUT_MS',
    );
  }
  if (e.MODE === 'partitioned') partitionedRules(e);
  const registry = registrySettings(e);
  const names = [
    e.INTERACTIONS_TOPIC,
    e.DELETIONS_TOPIC,
    e.SIMILARITIES_TOPIC,
    e.RECEIPTS_TOPIC,
    e.PROGRESS_TOPIC,
  ];
  const vars = [
    'INTERACTIONS_TOPIC',
    'DELETIONS_TOPIC',
    'SIMILARITIES_TOPIC',
    'RECEIPTS_TOPIC',
    'PROGRESS_TOPIC',
  ];
  for (let i = 1; i < names.length; i++) {
    if (names.indexOf(names[i]!) < i) throw new ConfigError(vars[i]!, 'must differ from the other topics');
  }

  const config: Config = {
    mode: e.MODE,
    partitioned: {
      segmentMs: e.CHANGELOG_SEGMENT_MS,
      maxCompactionLagMs: e.CHANGELOG_MAX_COMPACTION_LAG_MS,
      purgeMarginMs: e.PURGE_MARGIN_MS,
    },
    kafka: {
      brokers: e.KAFKA_BROKERS,
      groupId: e.KAFKA_GROUP_ID,
      clientId: e.KAFKA_CLIENT_ID,
      ssl: e.KAFKA_SSL
        ? {
            rejectUnauthorized: e.KAFKA_SSL_REJECT_UNAUTHORIZED,
            ...(e.KAFKA_SSL_CA_FILE ? { caFile: e.KAFKA_SSL_CA_FILE } : {}),
          }
        : false,
      ...(e.KAFKA_SASL_MECHANISM
        ? {
            sasl: {
              mechanism: e.KAFKA_SASL_MECHANISM,
              username: e.KAFKA_SASL_USERNAME!,
              password: e.KAFKA_SASL_PASSWORD!,
            },
          }
        : {}),
      sessionTimeoutMs: e.KAFKA_SESSION_TIMEOUT_MS,
      heartbeatIntervalMs: e.KAFKA_HEARTBEAT_INTERVAL_MS,
      guarantee: e.PROCESSING_GUARANTEE,
      transactionalId: `${e.KAFKA_GROUP_ID}.active`,
      transactionTimeoutMs: e.KAFKA_TRANSACTION_TIMEOUT_MS,
    },
    ...(registry ? { registry } : {}),
    topics: {
      interactions: e.INTERACTIONS_TOPIC,
      deletions: e.DELETIONS_TOPIC,
      similarities: e.SIMILARITIES_TOPIC,
      receipts: e.RECEIPTS_TOPIC,
      progress: e.PROGRESS_TOPIC,
      partitions: e.TOPIC_PARTITIONS,
      replicationFactor: e.TOPIC_REPLICATION_FACTOR,
    },
    outputFormat: e.OUTPUT_FORMAT ?? (e.SCHEMA_REGISTRY_URL ? 'avro' : 'json'),
    outputCompression: e.OUTPUT_COMPRESSION,
    input: { maxFutureSkewMs: e.MAX_FUTURE_SKEW_MS },
    model: {
      topK: e.TOP_K,
      minCooccurrences: e.MIN_COOCCURRENCES,
      tombstoneRetentionMs: e.TOMBSTONE_RETENTION_MS,
      ...(e.TOMBSTONE_KEY ? { tombstoneKey: e.TOMBSTONE_KEY } : {}),
      maxItemsPerUser: e.MAX_ITEMS_PER_USER,
      memoryBudgetBytes: e.MODEL_MEMORY_BYTES ?? defaultModelMemoryBytes(),
      dedupWindow: e.EVENT_DEDUP_WINDOW,
    },
    batch: {
      maxEvents: e.BATCH_MAX_EVENTS,
      maxMs: e.BATCH_MAX_MS,
      catchUpFlushMs: e.CATCHUP_FLUSH_MS,
      fetchMaxBytesPerPartition: e.FETCH_MAX_BYTES_PER_PARTITION,
      fetchMaxWaitMs: e.FETCH_MAX_WAIT_MS,
    },
    dlq: { maxRecordBytes: e.DLQ_MAX_RECORD_BYTES, retentionMs: e.DLQ_RETENTION_MS },
    snapshot: {
      ...(e.SNAPSHOT_DIR ? { dir: e.SNAPSHOT_DIR } : {}),
      intervalMs: e.SNAPSHOT_INTERVAL_MS,
      retain: e.SNAPSHOT_RETAIN,
    },
    http: { host: e.HTTP_HOST, port: e.HTTP_PORT },
    inspector: {
      enabled: e.INSPECTOR_ENABLED,
      writes: e.INSPECTOR_WRITES,
      allowedHosts: e.INSPECTOR_ALLOWED_HOSTS,
      maxStreams: e.INSPECTOR_MAX_STREAMS,
    },
    health: {
      stallMs: e.LIVENESS_STALL_MS,
      outputStallMs: e.READINESS_OUTPUT_STALL_MS,
      probeIntervalMs: e.HEALTH_PROBE_INTERVAL_MS,
    },
    acceptDeletionGap: e.ACCEPT_DELETION_GAP,
    logLevel: e.LOG_LEVEL,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
  };
  return deepFreeze(config);
}

/** The variables the schema knows, for docs and `--help`. */
export const CONFIG_VARIABLES: readonly string[] = Object.freeze(Object.keys(schema.shape));
