// The kafkajs client for a config: brokers, TLS, SASL, logs routed into pino. Loading this module
// registers the snappy, lz4 and zstd codecs: every client of the service, CLI and inspector is made
// here, so none of them can meet a compressed batch it cannot read.
import { readFileSync } from 'node:fs';
import {
  Kafka,
  type ConsumerConfig,
  type Producer,
  type RetryOptions,
  type KafkaConfig as KafkaJsConfig,
  type SASLOptions,
} from 'kafkajs';
import type { Config, KafkaConfig } from '../config.js';
import { kafkaLogCreator, kafkaLogLevel, type Logger } from '../log.js';
import { registerCompressionCodecs } from './compression.js';

registerCompressionCodecs();

/** `retry` overrides the client's retry policy for its connections (a probe that tries once). */
export function createKafka(
  config: KafkaConfig,
  log: Logger,
  clientIdSuffix = '',
  retry: RetryOptions = { initialRetryTime: 100, retries: 8, maxRetryTime: 5_000 },
): Kafka {
  const options: KafkaJsConfig = {
    clientId: `${config.clientId}${clientIdSuffix}`,
    brokers: [...config.brokers],
    logLevel: kafkaLogLevel(log.level as Parameters<typeof kafkaLogLevel>[0]),
    logCreator: kafkaLogCreator(log),
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
    retry,
  };
  if (config.ssl) {
    options.ssl = {
      rejectUnauthorized: config.ssl.rejectUnauthorized,
      ...(config.ssl.caFile ? { ca: [readFileSync(config.ssl.caFile, 'utf8')] } : {}),
    };
  }
  if (config.sasl) {
    options.sasl = {
      mechanism: config.sasl.mechanism,
      username: config.sasl.username,
      password: config.sasl.password,
    } as SASLOptions;
  }
  return new Kafka(options);
}

/** Group membership and fetch settings every input consumer of the service uses (both modes). */
export function consumerSettings(config: Config): Omit<ConsumerConfig, 'groupId' | 'partitionAssigners'> {
  return {
    sessionTimeout: config.kafka.sessionTimeoutMs,
    heartbeatInterval: config.kafka.heartbeatIntervalMs,
    rebalanceTimeout: Math.max(60_000, config.kafka.sessionTimeoutMs),
    maxBytesPerPartition: config.batch.fetchMaxBytesPerPartition,
    maxWaitTimeInMs: config.batch.fetchMaxWaitMs,
    allowAutoTopicCreation: false,
    retry: { initialRetryTime: 100, retries: 10, maxRetryTime: 5_000 },
  };
}

/**
 * The transactional producer of an exactly-once instance (both modes). Back-to-back transactions
 * meet CONCURRENT_TRANSACTIONS while the coordinator still writes the previous one's markers (a few
 * ms); the client-wide first backoff (100 ms) would add that to a receipt, so sends retry after 1 ms,
 * doubling (the Java client retries AddPartitionsToTxn after 20 ms for the same reason). Measured
 * (bench:e2e --phases delivery, back to back p50): 1 ms 6.1, 2 ms 8.9, 5 ms 12.8, 100 ms 103.6 ms.
 * Retries are unbounded as kafkajs requires of an idempotent producer: a fatal error still ends the
 * sink.
 */
export function transactionalProducer(kafka: Kafka, config: Config, transactionalId: string): Producer {
  return kafka.producer({
    transactionalId,
    transactionTimeout: config.kafka.transactionTimeoutMs,
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    retry: { initialRetryTime: 1, multiplier: 2, maxRetryTime: 5_000, retries: Number.MAX_SAFE_INTEGER },
  });
}
