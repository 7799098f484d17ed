// The service's configuration: environment variables only, one zod schema (config-schema.ts), parsed
// once, checked across variables and frozen into a Config (config-types.ts). A bad value throws a
// ConfigError naming the variable, before anything connects. Importers use this module only.
import { ConfigError } from './errors.js';
import { dedupBytesPerUser, defaultDedupMaxUsers, defaultModelMemoryBytes } from './memory-limit.js';
import { parseEnv, type Env } from './config-schema.js';
import type { Config } from './config-types.js';

export {
  CONFIG_VARIABLES,
  DEFAULT_MAX_FUTURE_SKEW_MS,
  OUTPUT_COMPRESSIONS,
  type OutputCompression,
} from './config-schema.js';
export type { Config, KafkaConfig, PartitionedConfig } from './config-types.js';

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
    throw new ConfigError(
      'SNAPSHOT_DIR',
      'not used with MODE=partitioned (state lives in changelog topics): unset it, or set it empty (the image sets it for single mode)',
    );
  if (e.INSPECTOR_ENABLED)
    throw new ConfigError(
      'INSPECTOR_ENABLED',
      'not available with MODE=partitioned (no instance holds the whole model)',
    );
}

/** INTERACTION_TTL_MS and how often it is checked (default: every minute, or every TTL if shorter). */
function ttlSettings(e: Env): { interactionTtlMs: number; ttlCheckMs: number } {
  const ttl = e.INTERACTION_TTL_MS;
  if (e.TTL_CHECK_MS !== undefined && ttl === 0)
    throw new ConfigError('TTL_CHECK_MS', 'only with INTERACTION_TTL_MS > 0 (the TTL is off)');
  if (e.TTL_CHECK_MS !== undefined && e.TTL_CHECK_MS > ttl)
    throw new ConfigError('TTL_CHECK_MS', `must be at most INTERACTION_TTL_MS (${ttl})`);
  return { interactionTtlMs: ttl, ttlCheckMs: e.TTL_CHECK_MS ?? Math.max(100, Math.min(60_000, ttl)) };
}

/**
 * The eventId window's bound and its share of the memory budget: it may take at most half of
 * MODEL_MEMORY_BYTES (the model needs the rest), else EVENT_DEDUP_MAX_USERS is refused.
 */
function dedupSettings(e: Env, budget: number): { dedupMaxUsers: number; dedupReservedBytes: number } {
  const window = e.EVENT_DEDUP_WINDOW;
  const users = e.EVENT_DEDUP_MAX_USERS ?? defaultDedupMaxUsers(window, budget);
  const reserved = users * dedupBytesPerUser(window);
  if (reserved > budget / 2)
    throw new ConfigError(
      'EVENT_DEDUP_MAX_USERS',
      `${users} users × about ${dedupBytesPerUser(window)} bytes each (EVENT_DEDUP_WINDOW=${window}) is ` +
        `${(reserved / 2 ** 20).toFixed(1)} MB, more than half of MODEL_MEMORY_BYTES ` +
        `(${(budget / 2 ** 20).toFixed(1)} MB): lower it, lower EVENT_DEDUP_WINDOW, or raise MODEL_MEMORY_BYTES`,
    );
  return { dedupMaxUsers: users, dedupReservedBytes: reserved };
}

/** Parses and validates the environment; throws ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = parseEnv(env);
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
  const ttl = ttlSettings(e);
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

  const budget = e.MODEL_MEMORY_BYTES ?? defaultModelMemoryBytes();
  const dedup = dedupSettings(e, budget);

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
      similarity: e.SIMILARITY,
      minCooccurrences: e.MIN_COOCCURRENCES,
      tombstoneRetentionMs: e.TOMBSTONE_RETENTION_MS,
      ...(e.TOMBSTONE_KEY ? { tombstoneKey: e.TOMBSTONE_KEY } : {}),
      maxItemsPerUser: e.MAX_ITEMS_PER_USER,
      ...ttl,
      memoryBudgetBytes: budget,
      dedupWindow: e.EVENT_DEDUP_WINDOW,
      ...dedup,
    },
    batch: {
      maxEvents: e.BATCH_MAX_EVENTS,
      maxMs: e.BATCH_MAX_MS,
      catchUpFlushMs: e.CATCHUP_FLUSH_MS,
      deletionFlushMs: e.DELETION_FLUSH_MS,
      fetchMaxBytesPerPartition: e.FETCH_MAX_BYTES_PER_PARTITION,
      fetchMaxWaitMs: e.FETCH_MAX_WAIT_MS,
    },
    dlq: { maxRecordBytes: e.DLQ_MAX_RECORD_BYTES, retentionMs: e.DLQ_RETENTION_MS },
    snapshot: {
      ...(e.SNAPSHOT_DIR ? { dir: e.SNAPSHOT_DIR } : {}),
      intervalMs: e.SNAPSHOT_INTERVAL_MS,
      retain: e.SNAPSHOT_RETAIN,
      holderLeaseMs: e.SNAPSHOT_HOLDER_LEASE_MS,
    },
    http: {
      host: e.HTTP_HOST,
      port: e.HTTP_PORT,
      ...(e.HTTP_AUTH_TOKEN ? { authToken: e.HTTP_AUTH_TOKEN } : {}),
    },
    forgetEffects: { retentionMs: e.FORGET_EFFECT_RETENTION_MS },
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
    deletionLane: e.DELETION_LANE,
    logLevel: e.LOG_LEVEL,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
  };
  return deepFreeze(config);
}
