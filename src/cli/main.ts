#!/usr/bin/env node
// The `amnesia` command line: bulk load, forget, watch. Connection settings come from the same
// environment variables as the service (KAFKA_BROKERS, SCHEMA_REGISTRY_URL, topic names...).
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../config.js';
import { AmnesiaError, ConfigError, describeError } from '../errors.js';
import { createLogger } from '../log.js';
import { createKafka } from '../kafka/client.js';
import { forget, forgetOutcome } from './forget.js';
import { load } from './load.js';
import { snapshotCommand } from './snapshot.js';
import { verify } from './verify.js';
import { assertKafkajsFix } from '../kafka/kafkajs-fix.js';
import { SchemaRegistryClient } from '../kafka/registry.js';
import { trace } from './trace.js';
import { watch } from './watch.js';

const USAGE = `usage: amnesia <command> [options]

commands:
  load <file.csv> [--topic T] [--format json|avro] [--rate N] [--batch N]
      Produce interactions from a MovieLens ratings file (userId,movieId,rating,timestamp;
      seconds) or a generic userId,itemId[,timestamp-ms] CSV. Progress on stderr.
  forget <userId> [--request-id ID] [--format json|avro] [--timeout MS]
      Send a deletion request and wait for its receipt (printed as JSON); exit 3 if REJECTED.
  watch [--from-beginning] [--limit N] [--item ID]
      Print similarity updates as JSON lines until interrupted.
  snapshot inspect <file>
      Print a snapshot's header and verify its checksum (exit 1 if invalid). No Kafka needed.
  verify [--snapshot FILE] [--timeout MS]
      Recompute the state from the input topics (honouring deletions) and compare it with the
      published similarities (run when the service has caught up) or with a snapshot file.
      Prints the differing item ids and a JSON summary; exit 1 on any difference.
  trace --user ID [--snapshot-dir DIR] [--timeout MS]
      The forgetting audit: every record Kafka still serves in the topics the service writes
      (both modes' internal topics too) and every snapshot file, searched for the user's id and
      what is derived from it (token, pair keys, eventId hashes; needs TOMBSTONE_KEY or the key
      file). Prints each trace and whether the contract allows it; exit 1 if any other is found.

environment: KAFKA_BROKERS, SCHEMA_REGISTRY_URL, INTERACTIONS_TOPIC, DELETIONS_TOPIC,
SIMILARITIES_TOPIC, RECEIPTS_TOPIC, KAFKA_SASL_*, KAFKA_SSL (as for the service).`;

function usage(message?: string): never {
  throw new AmnesiaError('USAGE', message ? `${message}\n\n${USAGE}` : USAGE);
}

function positiveInt(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) usage(`--${name} must be a non-negative integer`);
  return n;
}

function format(v: string | undefined, config: Config): 'json' | 'avro' {
  if (v === undefined) return config.registry ? 'avro' : 'json';
  if (v !== 'json' && v !== 'avro') usage('--format must be json or avro');
  return v;
}

export async function cli(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  if (command === 'snapshot') return snapshotCommand(rest, (line) => process.stdout.write(`${line}\n`));
  const config = loadConfig({ LOG_LEVEL: 'error', ...process.env });
  const log = createLogger(config.logLevel, process.stderr);
  await assertKafkajsFix();
  const kafka = createKafka(config.kafka, log, '-cli');

  switch (command) {
    case 'load': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          topic: { type: 'string' },
          format: { type: 'string' },
          rate: { type: 'string' },
          batch: { type: 'string' },
          'in-flight': { type: 'string' },
        },
      });
      const file = positionals[0] ?? usage('load needs a file');
      const producer = kafka.producer({ allowAutoTopicCreation: false });
      await producer.connect();
      try {
        const r = await load(producer, config, {
          file,
          topic: values.topic ?? config.topics.interactions,
          format: format(values.format, config),
          rate: positiveInt('rate', values.rate, 0),
          batchSize: Math.max(1, positiveInt('batch', values.batch, 5_000)),
          inFlight: Math.max(1, positiveInt('in-flight', values['in-flight'], 4)),
        });
        process.stdout.write(`${JSON.stringify(r)}\n`);
      } finally {
        await producer.disconnect();
      }
      return 0;
    }
    case 'forget': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          'request-id': { type: 'string' },
          format: { type: 'string' },
          timeout: { type: 'string' },
        },
      });
      const userId = positionals[0] ?? usage('forget needs a user id');
      const receipt = await forget(kafka, config, {
        userId,
        ...(values['request-id'] ? { requestId: values['request-id'] } : {}),
        format: format(values.format, config),
        timeoutMs: positiveInt('timeout', values.timeout, 30_000),
      });
      process.stdout.write(`${JSON.stringify(receipt)}\n`);
      const outcome = forgetOutcome(receipt);
      if (outcome.message) process.stderr.write(`${outcome.message}\n`);
      return outcome.code;
    }
    case 'watch': {
      const { values } = parseArgs({
        args: rest,
        options: {
          'from-beginning': { type: 'boolean' },
          limit: { type: 'string' },
          item: { type: 'string' },
        },
      });
      const ac = new AbortController();
      process.once('SIGINT', () => ac.abort());
      process.once('SIGTERM', () => ac.abort());
      await watch(
        kafka,
        config,
        {
          fromBeginning: values['from-beginning'] ?? false,
          limit: positiveInt('limit', values.limit, 0),
          ...(values.item ? { item: values.item } : {}),
          signal: ac.signal,
        },
        (line) => process.stdout.write(`${line}\n`),
      );
      return 0;
    }
    case 'verify': {
      const { values } = parseArgs({
        args: rest,
        options: { snapshot: { type: 'string' }, timeout: { type: 'string' } },
      });
      const registry = config.registry ? new SchemaRegistryClient(config.registry) : undefined;
      return verify(
        kafka,
        config,
        registry,
        {
          ...(values.snapshot ? { snapshot: values.snapshot } : {}),
          timeoutMs: positiveInt('timeout', values.timeout, 120_000),
        },
        (line) => process.stdout.write(`${line}\n`),
      );
    }
    case 'trace': {
      const { values } = parseArgs({
        args: rest,
        options: {
          user: { type: 'string' },
          'snapshot-dir': { type: 'string' },
          timeout: { type: 'string' },
        },
      });
      if (values.user === undefined || values.user === '') usage('trace needs --user ID');
      const registry = config.registry ? new SchemaRegistryClient(config.registry) : undefined;
      return trace(
        kafka,
        config,
        registry,
        {
          userId: values.user,
          snapshotDir: values['snapshot-dir'],
          timeoutMs: positiveInt('timeout', values.timeout, 120_000),
        },
        (line) => process.stdout.write(`${line}\n`),
      );
    }
    default:
      usage(`unknown command ${command}`);
  }
}

cli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof ConfigError) process.stderr.write(`amnesia: invalid configuration: ${e.message}\n`);
    else if (e instanceof AmnesiaError && e.code === 'USAGE') process.stderr.write(`${e.message}\n`);
    else process.stderr.write(`amnesia: ${describeError(e)}\n`);
    process.exit(e instanceof AmnesiaError && e.code === 'USAGE' ? 2 : 1);
  },
);
