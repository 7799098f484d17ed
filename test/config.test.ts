import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { ConfigError } from '../src/errors.js';
import { LOCAL_HOSTS } from '../src/http/inspector/guard.js';
import { modelOptionsOf } from '../src/single/model-factory.js';

function bad(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration from the environment', () => {
  it('has the documented defaults with an empty environment', () => {
    const c = loadConfig({});
    expect(c.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(c.kafka.groupId).toBe('amnesia');
    expect(c.topics).toMatchObject({
      interactions: 'interactions',
      deletions: 'deletion-requests',
      similarities: 'item-similarities',
      receipts: 'deletion-receipts',
    });
    expect(c.outputFormat).toBe('json');
    expect(c.model.topK).toBe(20);
    expect(c.model.minCooccurrences).toBe(1);
    expect(c.http).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(c.registry).toBeUndefined();
    expect(c.kafka.ssl).toBe(false);
    expect(c.kafka.sasl).toBeUndefined();
  });

  it('is frozen, deeply', () => {
    const c = loadConfig({});
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.kafka.brokers)).toBe(true);
    expect(() => {
      (c.model as { topK: number }).topK = 3;
    }).toThrow();
  });

  it('defaults the output to avro when a registry is configured', () => {
    const c = loadConfig({ SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081/' });
    expect(c.outputFormat).toBe('avro');
    expect(c.registry?.url).toBe('http://127.0.0.1:8081');
    expect(loadConfig({ SCHEMA_REGISTRY_URL: 'http://r:8081', OUTPUT_FORMAT: 'json' }).outputFormat).toBe(
      'json',
    );
  });

  it('INTERACTION_TTL_MS: off by default; a bad value, or TTL_CHECK_MS without it or above it, stops start-up naming it', () => {
    expect(loadConfig({}).model).toMatchObject({ interactionTtlMs: 0 });
    expect(loadConfig({ INTERACTION_TTL_MS: '86400000' }).model).toMatchObject({
      interactionTtlMs: 86_400_000,
      ttlCheckMs: 60_000,
    });
    expect(loadConfig({ INTERACTION_TTL_MS: '5000' }).model.ttlCheckMs).toBe(5_000);
    expect(modelOptionsOf(loadConfig({ INTERACTION_TTL_MS: '5000' }), 'k'.repeat(16)).interactionTtlMs).toBe(
      5_000,
    );
    for (const v of ['-1', '1.5', 'soon', String(2 ** 60)])
      expect(bad({ INTERACTION_TTL_MS: v }).message).toMatch(/^INTERACTION_TTL_MS: /);
    expect(bad({ TTL_CHECK_MS: '1000' }).message).toMatch(/^TTL_CHECK_MS: only with INTERACTION_TTL_MS/);
    expect(bad({ INTERACTION_TTL_MS: '1000', TTL_CHECK_MS: '2000' }).message).toMatch(
      /^TTL_CHECK_MS: must be at most/,
    );
    expect(bad({ INTERACTION_TTL_MS: '100000', TTL_CHECK_MS: '10' }).message).toMatch(/^TTL_CHECK_MS: /);
  });

  it('rejects avro output without a registry, naming OUTPUT_FORMAT', () => {
    expect(bad({ OUTPUT_FORMAT: 'avro' }).message).toMatch(/^OUTPUT_FORMAT: /);
  });

  it('parses broker lists, numbers and booleans', () => {
    const c = loadConfig({ KAFKA_BROKERS: 'a:9092, b:9093', TOP_K: '5', KAFKA_SSL: 'true', HTTP_PORT: '0' });
    expect(c.kafka.brokers).toEqual(['a:9092', 'b:9093']);
    expect(c.model.topK).toBe(5);
    expect(c.kafka.ssl).toEqual({ rejectUnauthorized: true });
    expect(c.http.port).toBe(0);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ TOP_K: '', SCHEMA_REGISTRY_URL: ' ' }).model.topK).toBe(20);
  });

  it.each([
    ['KAFKA_BROKERS', 'localhost'],
    ['KAFKA_BROKERS', ','],
    ['TOP_K', '0'],
    ['TOP_K', 'twenty'],
    ['TOP_K', '2.5'],
    ['MIN_COOCCURRENCES', '-1'],
    ['HTTP_PORT', '70000'],
    ['LOG_LEVEL', 'loud'],
    ['OUTPUT_FORMAT', 'xml'],
    ['SCHEMA_REGISTRY_URL', 'not a url'],
    ['KAFKA_SSL', 'maybe'],
    ['INTERACTIONS_TOPIC', 'bad topic!'],
    ['TOPIC_REPLICATION_FACTOR', '0'],
    ['BATCH_MAX_EVENTS', '0'],
    ['KAFKA_SASL_MECHANISM', 'kerberos'],
    ['TOMBSTONE_KEY', 'short'],
    ['OUTPUT_COMPRESSION', 'brotli'],
    ['SIMILARITY', 'dice'],
    ['SIMILARITY', 'Cosine'],
    ['MAX_FUTURE_SKEW_MS', '-1'],
    ['MAX_FUTURE_SKEW_MS', 'five minutes'],
    ['EVENT_DEDUP_MAX_USERS', '0'],
  ])('a bad %s (%j) is a ConfigError naming the variable', (variable, value) => {
    const e = bad({ [variable]: value });
    expect(e.variable).toBe(variable);
    expect(e.message.startsWith(`${variable}: `)).toBe(true);
    expect(e.code).toBe('CONFIG_INVALID');
  });

  it('requires SASL credentials with a mechanism', () => {
    expect(bad({ KAFKA_SASL_MECHANISM: 'plain' }).variable).toBe('KAFKA_SASL_USERNAME');
    expect(bad({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u' }).variable).toBe(
      'KAFKA_SASL_PASSWORD',
    );
    const c = loadConfig({
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SASL_PASSWORD: 'p',
    });
    expect(c.kafka.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'u', password: 'p' });
  });

  it('refuses two roles on one topic', () => {
    expect(bad({ SIMILARITIES_TOPIC: 'interactions' }).variable).toBe('SIMILARITIES_TOPIC');
  });

  it('keeps the inspector off unless asked for, answering to loopback names only, with at most 8 streams', () => {
    expect(loadConfig({}).inspector).toEqual({
      enabled: false,
      writes: false,
      allowedHosts: LOCAL_HOSTS,
      maxStreams: 8,
    });
    const on = loadConfig({
      INSPECTOR_ENABLED: 'true',
      INSPECTOR_WRITES: '1',
      INSPECTOR_ALLOWED_HOSTS: ' inspector.internal , demo.example:8443,[fe80::1]:80, ',
      INSPECTOR_MAX_STREAMS: '2',
    });
    expect(on.inspector).toEqual({
      enabled: true,
      writes: true,
      allowedHosts: ['inspector.internal', 'demo.example:8443', '[fe80::1]:80'],
      maxStreams: 2,
    });
  });

  it.each([
    ['INSPECTOR_ENABLED', 'sure'],
    ['INSPECTOR_ALLOWED_HOSTS', '*'],
    ['INSPECTOR_ALLOWED_HOSTS', 'http://localhost'],
    ['INSPECTOR_ALLOWED_HOSTS', 'localhost,::1'],
    ['INSPECTOR_ALLOWED_HOSTS', ' , '],
    ['INSPECTOR_MAX_STREAMS', '0'],
    ['INSPECTOR_MAX_STREAMS', 'many'],
  ])('a bad %s (%j) stops start-up naming the variable', (variable, value) => {
    expect(bad({ [variable]: value }).variable).toBe(variable);
  });

  it("takes HTTP_AUTH_TOKEN (the user routes' bearer token) only when long enough, never quoting it", () => {
    const token = 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6';
    expect(loadConfig({ HTTP_AUTH_TOKEN: token }).http).toEqual({
      host: '127.0.0.1',
      port: 8080,
      authToken: token,
    });
    expect(loadConfig({ HTTP_AUTH_TOKEN: '' }).http.authToken).toBeUndefined();
    for (const weak of [token.slice(1), 'x'.repeat(31), `${token} with spaces`, `${token}\u00e9`]) {
      const e = bad({ HTTP_AUTH_TOKEN: weak });
      expect(e.variable).toBe('HTTP_AUTH_TOKEN');
      expect(e.message).not.toContain(weak);
    }
  });

  it('compresses outputs with zstd unless told otherwise, and allows five codecs', () => {
    expect(loadConfig({}).outputCompression).toBe('zstd');
    for (const c of ['none', 'gzip', 'snappy', 'lz4', 'zstd'])
      expect(loadConfig({ OUTPUT_COMPRESSION: c }).outputCompression).toBe(c);
  });

  it('ranks by Jaccard unless SIMILARITY=cosine', () => {
    expect(loadConfig({}).model.similarity).toBe('jaccard');
    expect(loadConfig({ SIMILARITY: 'cosine' }).model.similarity).toBe('cosine');
    expect(loadConfig({ SIMILARITY: '' }).model.similarity).toBe('jaccard');
    expect(modelOptionsOf(loadConfig({ SIMILARITY: 'cosine' }), 'k'.repeat(16)).similarity).toBe('cosine');
  });

  it('bounds the eventId window to users it sets aside memory for, out of MODEL_MEMORY_BYTES', () => {
    const big = loadConfig({ MODEL_MEMORY_BYTES: String(4 * 2 ** 30) });
    // 100,000 users × (560 + 8 × 8) bytes: 62.4 MB of the 4 GiB, the model gets the rest.
    expect(big.model).toMatchObject({
      dedupWindow: 8,
      dedupMaxUsers: 100_000,
      dedupReservedBytes: 62_400_000,
    });
    expect(modelOptionsOf(big, 'k'.repeat(16)).memoryBudgetBytes).toBe(4 * 2 ** 30 - 62_400_000);
    // A small budget: as many users as a tenth of it holds.
    const small = loadConfig({ MODEL_MEMORY_BYTES: String(16 * 2 ** 20) });
    expect(small.model.dedupMaxUsers).toBe(Math.floor((16 * 2 ** 20) / 10 / 624));
    expect(
      loadConfig({ EVENT_DEDUP_WINDOW: '0', MODEL_MEMORY_BYTES: String(16 * 2 ** 20) }).model,
    ).toMatchObject({
      dedupReservedBytes: 0,
    });
    // Set by hand beyond half the budget: refused, naming the variable.
    const e = bad({ MODEL_MEMORY_BYTES: String(16 * 2 ** 20), EVENT_DEDUP_MAX_USERS: '20000' });
    expect(e.variable).toBe('EVENT_DEDUP_MAX_USERS');
    expect(e.message).toContain('more than half of MODEL_MEMORY_BYTES');
    expect(
      loadConfig({ MODEL_MEMORY_BYTES: String(16 * 2 ** 20), EVENT_DEDUP_MAX_USERS: '10000' }).model
        .dedupMaxUsers,
    ).toBe(10_000);
  });

  it('allows events five minutes ahead of their record by default', () => {
    expect(loadConfig({}).input).toEqual({ maxFutureSkewMs: 300_000 });
    expect(loadConfig({ MAX_FUTURE_SKEW_MS: '0' }).input.maxFutureSkewMs).toBe(0);
  });
});

describe('schema registry credentials', () => {
  const SECRET = 'S3cr:t/p@ss%';
  const withSecret = `https://alice:${encodeURIComponent(SECRET)}@registry.example:8081/apis/ccompat/v7/`;

  it('takes user:pass@ out of SCHEMA_REGISTRY_URL as basic-auth credentials', () => {
    expect(loadConfig({ SCHEMA_REGISTRY_URL: withSecret }).registry).toEqual({
      url: 'https://registry.example:8081/apis/ccompat/v7',
      username: 'alice',
      password: SECRET,
    });
    expect(loadConfig({ SCHEMA_REGISTRY_URL: 'http://bob@r:8081' }).registry).toEqual({
      url: 'http://r:8081',
      username: 'bob',
      password: '',
    });
  });

  it('keeps SCHEMA_REGISTRY_USERNAME/PASSWORD working for a URL without credentials', () => {
    const env = {
      SCHEMA_REGISTRY_URL: 'http://r:8081/',
      SCHEMA_REGISTRY_USERNAME: 'u',
      SCHEMA_REGISTRY_PASSWORD: 'p',
    };
    expect(loadConfig(env).registry).toEqual({ url: 'http://r:8081', username: 'u', password: 'p' });
  });

  it.each([
    [{ SCHEMA_REGISTRY_USERNAME: 'alice' }, 'SCHEMA_REGISTRY_USERNAME'],
    [{ SCHEMA_REGISTRY_PASSWORD: 'other' }, 'SCHEMA_REGISTRY_PASSWORD'],
  ])('refuses credentials in the URL and in %j, naming the variable', (extra, variable) => {
    const e = bad({ SCHEMA_REGISTRY_URL: withSecret, ...extra });
    expect(e.variable).toBe(variable);
    expect(e.message).toContain('SCHEMA_REGISTRY_URL');
    expect(e.message).not.toContain(SECRET);
    expect(e.message).not.toContain(encodeURIComponent(SECRET));
  });

  it('never quotes the password when the URL is bad', () => {
    for (const url of [
      `https://alice:${encodeURIComponent(SECRET)}@registry.example:99999/`,
      'https://alice:S3cr%zzt@registry.example/',
      `ftp://alice:${encodeURIComponent(SECRET)}@registry.example/`,
    ]) {
      const e = bad({ SCHEMA_REGISTRY_URL: url });
      expect(e.variable).toBe('SCHEMA_REGISTRY_URL');
      expect(e.message).not.toMatch(/S3cr/);
    }
  });

  it('refuses a registry password without a user name', () => {
    expect(bad({ SCHEMA_REGISTRY_URL: 'http://r:8081', SCHEMA_REGISTRY_PASSWORD: 'p' }).variable).toBe(
      'SCHEMA_REGISTRY_USERNAME',
    );
  });
});

describe('MODE', () => {
  const key = { TOMBSTONE_KEY: 'k'.repeat(32) };

  it('is single by default; partitioned takes the changelog settings', () => {
    expect(loadConfig({}).mode).toBe('single');
    const c = loadConfig({
      MODE: 'partitioned',
      ...key,
      CHANGELOG_SEGMENT_MS: '5000',
      CHANGELOG_MAX_COMPACTION_LAG_MS: '60000',
      PURGE_MARGIN_MS: '0',
    });
    expect(c.mode).toBe('partitioned');
    expect(c.partitioned).toEqual({ segmentMs: 5_000, maxCompactionLagMs: 60_000, purgeMarginMs: 0 });
    expect(loadConfig({}).partitioned).toEqual({
      segmentMs: 600_000,
      maxCompactionLagMs: 3_600_000,
      purgeMarginMs: 420_000,
    });
  });

  it.each([
    [{ MODE: 'sharded' }, 'MODE'],
    [{ MODE: 'partitioned' }, 'TOMBSTONE_KEY'],
    [{ MODE: 'partitioned', ...key, PROCESSING_GUARANTEE: 'at_least_once' }, 'PROCESSING_GUARANTEE'],
    [{ MODE: 'partitioned', ...key, SNAPSHOT_DIR: '/tmp/x' }, 'SNAPSHOT_DIR'],
    [{ MODE: 'partitioned', ...key, INSPECTOR_ENABLED: 'true' }, 'INSPECTOR_ENABLED'],
    [
      { MODE: 'partitioned', ...key, CHANGELOG_MAX_COMPACTION_LAG_MS: '10' },
      'CHANGELOG_MAX_COMPACTION_LAG_MS',
    ],
  ])('refuses %j, naming %s', (env, variable) => {
    expect(bad(env).variable).toBe(variable);
  });
});
