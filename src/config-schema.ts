// The environment the service reads: one zod schema naming every variable, with its range and
// default. Only single-variable rules live here; rules across variables are in config.ts.
import { z } from 'zod';
import { parseAuthority } from './authority.js';
import { SIMILARITY_MEASURES } from './model/index.js';

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
  SIMILARITY: z.enum(SIMILARITY_MEASURES).default('jaccard'),
  MIN_COOCCURRENCES: int(1, 1_000_000_000).default(1),
  SNAPSHOT_DIR: z.string().min(1).optional(),
  SNAPSHOT_INTERVAL_MS: int(1_000, 86_400_000).default(60_000),
  SNAPSHOT_RETAIN: int(1, 1_000).default(2),
  SNAPSHOT_HOLDER_LEASE_MS: int(5_000, 86_400_000).default(60_000),
  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  HTTP_PORT: int(0, 65_535).default(8080),
  // A bearer secret: long enough not to be guessed, and only characters a header carries unchanged.
  HTTP_AUTH_TOKEN: z
    .string()
    .min(32, 'at least 32 characters (e.g. openssl rand -hex 32)')
    .regex(/^[A-Za-z0-9._~+/=-]+$/, 'letters, digits and . _ ~ + / = - only (a bearer token)')
    .optional(),
  // 0 keeps none; at most a week: the record is derived from a forgotten user's data.
  FORGET_EFFECT_RETENTION_MS: int(0, 7 * 86_400_000).default(3_600_000),
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
  DELETION_FLUSH_MS: int(0, 600_000).default(50),
  DLQ_MAX_RECORD_BYTES: int(4_096, 104_857_600).default(1_000_000),
  DLQ_RETENTION_MS: int(60_000, Number.MAX_SAFE_INTEGER).default(7 * 86_400_000),
  FETCH_MAX_BYTES_PER_PARTITION: int(1_024, 104_857_600).default(1_048_576),
  FETCH_MAX_WAIT_MS: int(1, 10_000).default(100),
  TOMBSTONE_RETENTION_MS: int(0, Number.MAX_SAFE_INTEGER).default(30 * 86_400_000),
  TOMBSTONE_KEY: z.string().min(16, 'at least 16 characters').optional(),
  ACCEPT_DELETION_GAP: bool.default(false),
  DELETION_LANE: bool.default(true),
  MAX_ITEMS_PER_USER: int(1, 1_000_000).default(10_000),
  // 0: off. At most 1,000 years (any real window; keeps now − TTL a safe integer).
  INTERACTION_TTL_MS: int(0, 1_000 * 365 * 86_400_000).default(0),
  TTL_CHECK_MS: int(100, 86_400_000).optional(),
  EVENT_DEDUP_WINDOW: int(0, 1_024).default(8),
  EVENT_DEDUP_MAX_USERS: int(1, 100_000_000).optional(),
  MODEL_MEMORY_BYTES: int(16 * 1024 * 1024, Number.MAX_SAFE_INTEGER).optional(),
  SHUTDOWN_TIMEOUT_MS: int(100, 600_000).default(10_000),
  LIVENESS_STALL_MS: int(1_000, 3_600_000).default(60_000),
  READINESS_OUTPUT_STALL_MS: int(1_000, 3_600_000).default(30_000),
  HEALTH_PROBE_INTERVAL_MS: int(100, 600_000).default(5_000),
});

export type Env = z.infer<typeof schema>;

/** Variables set to the empty string count as unset (docker-compose `FOO=` style). */
function relevantEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const v = env[key];
    if (v !== undefined && v.trim() !== '') out[key] = v.trim();
  }
  return out;
}

/** Parses the environment's known variables against the schema. */
export function parseEnv(env: NodeJS.ProcessEnv) {
  return schema.safeParse(relevantEnv(env));
}

/** The variables the schema knows, for docs and `--help`. */
export const CONFIG_VARIABLES: readonly string[] = Object.freeze(Object.keys(schema.shape));
