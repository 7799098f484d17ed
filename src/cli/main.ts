#!/usr/bin/env node
// The `amnesia` command line: bulk load, forget, watch, verify, snapshot inspect. Connection settings
// come from the same environment variables as the service (KAFKA_BROKERS, SCHEMA_REGISTRY_URL, topic
// names...). Arguments are checked before anything connects; a command that needs Kafka tries the
// brokers once and, when none answers, ends with one line and EXIT.KAFKA_UNAVAILABLE (help.ts).
import { existsSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Kafka } from 'kafkajs';
import { loadConfig, type Config } from '../config.js';
import { AmnesiaError, ConfigError, describeError, isAmnesiaError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { createKafka } from '../kafka/client.js';
import { kafkaProbe, waitForKafka } from '../kafka/reach.js';
import { commandHelp, EXIT, isCommand, USAGE, type CommandName } from './help.js';
import { forget, forgetOutcome } from './forget.js';
import { load } from './load.js';
import { snapshotCommand } from './snapshot.js';
import { trace } from './trace.js';
import { verify } from './verify.js';
import { assertKafkajsFix } from '../kafka/kafkajs-fix.js';
import { SchemaRegistryClient } from '../kafka/registry.js';
import { watch } from './watch.js';

function usage(message?: string, command?: CommandName): never {
  const help = command ? commandHelp(command) : USAGE;
  throw new AmnesiaError('USAGE', message ? `${message}\n\n${help}` : help);
}

/** parseArgs for one command: an unknown option or a missing value is a usage error (exit 2). */
function args<const O extends NonNullable<ParseArgsConfig['options']>>(
  command: CommandName,
  rest: string[],
  options: O,
): ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; strict: true; options: O }>> {
  try {
    return parseArgs({ args: rest, allowPositionals: true, strict: true, options });
  } catch (e) {
    usage(e instanceof Error ? e.message : String(e), command);
  }
}

/**
 * The command's Kafka client, once the brokers answered (a single attempt, then
 * EXIT.KAFKA_UNAVAILABLE) and the topics it reads or writes exist (else one line, not a retry loop).
 */
async function connect(config: Config, log: Logger, topics: readonly string[]): Promise<Kafka> {
  await assertKafkajsFix();
  await waitForKafka(kafkaProbe(config.kafka, log), config.kafka.brokers, log, { attempts: 1 });
  const kafka = createKafka(config.kafka, log, '-cli');
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length > 0)
      throw new AmnesiaError(
        'TOPIC_MISSING',
        `no topic ${missing.join(', ')} at ${config.kafka.brokers.join(', ')} ` +
          '(the service creates its topics when it starts; check the *_TOPIC variables or --topic)',
      );
  } finally {
    await admin.disconnect();
  }
  return kafka;
}

function positiveInt(name: string, v: string | undefined, dflt: number, command: CommandName): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) usage(`--${name} must be a non-negative integer`, command);
  return n;
}

function format(v: string | undefined, config: Config, command: CommandName): 'json' | 'avro' {
  if (v === undefined) return config.registry ? 'avro' : 'json';
  if (v !== 'json' && v !== 'avro') usage('--format must be json or avro', command);
  return v;
}

const HELP = new Set(['help', '--help', '-h']);

export async function cli(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || HELP.has(command)) {
    const topic = rest[0];
    if (command === 'help' && topic !== undefined) {
      if (!isCommand(topic)) usage(`unknown command ${topic}`);
      process.stdout.write(`${commandHelp(topic)}\n`);
      return EXIT.OK;
    }
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (!isCommand(command)) usage(`unknown command ${command}`);
  if (rest.some((a) => HELP.has(a))) {
    process.stdout.write(`${commandHelp(command)}\n`);
    return EXIT.OK;
  }
  if (command === 'snapshot') return snapshotCommand(rest, (line) => process.stdout.write(`${line}\n`));
  const config = loadConfig({ LOG_LEVEL: 'error', ...process.env });
  const log = createLogger(config.logLevel, process.stderr);

  switch (command) {
    case 'load': {
      const { values, positionals } = args('load', rest, {
        topic: { type: 'string' },
        format: { type: 'string' },
        rate: { type: 'string' },
        batch: { type: 'string' },
        'in-flight': { type: 'string' },
      });
      const file = positionals[0] ?? usage('load needs a file', 'load');
      if (!existsSync(file)) usage(`no such file: ${file}`, 'load');
      const options = {
        file,
        topic: values.topic ?? config.topics.interactions,
        format: format(values.format, config, 'load'),
        rate: positiveInt('rate', values.rate, 0, 'load'),
        batchSize: Math.max(1, positiveInt('batch', values.batch, 5_000, 'load')),
        inFlight: Math.max(1, positiveInt('in-flight', values['in-flight'], 4, 'load')),
      };
      const kafka = await connect(config, log, [options.topic]);
      const producer = kafka.producer({ allowAutoTopicCreation: false });
      await producer.connect();
      try {
        const r = await load(producer, config, options);
        process.stdout.write(`${JSON.stringify(r)}\n`);
      } finally {
        await producer.disconnect();
      }
      return EXIT.OK;
    }
    case 'forget': {
      const { values, positionals } = args('forget', rest, {
        'request-id': { type: 'string' },
        format: { type: 'string' },
        timeout: { type: 'string' },
      });
      const userId = positionals[0] ?? usage('forget needs a user id', 'forget');
      const options = {
        userId,
        ...(values['request-id'] ? { requestId: values['request-id'] } : {}),
        format: format(values.format, config, 'forget'),
        timeoutMs: positiveInt('timeout', values.timeout, 30_000, 'forget'),
      };
      const receipt = await forget(
        await connect(config, log, [config.topics.deletions, config.topics.receipts]),
        config,
        options,
      );
      process.stdout.write(`${JSON.stringify(receipt)}\n`);
      const outcome = forgetOutcome(receipt);
      if (outcome.message) process.stderr.write(`${outcome.message}\n`);
      return outcome.code;
    }
    case 'watch': {
      const { values } = args('watch', rest, {
        'from-beginning': { type: 'boolean' },
        limit: { type: 'string' },
        item: { type: 'string' },
      });
      const limit = positiveInt('limit', values.limit, 0, 'watch');
      const kafka = await connect(config, log, [config.topics.similarities]);
      const ac = new AbortController();
      process.once('SIGINT', () => ac.abort());
      process.once('SIGTERM', () => ac.abort());
      await watch(
        kafka,
        config,
        {
          fromBeginning: values['from-beginning'] ?? false,
          limit,
          ...(values.item ? { item: values.item } : {}),
          signal: ac.signal,
        },
        (line) => process.stdout.write(`${line}\n`),
      );
      return EXIT.OK;
    }
    case 'verify': {
      const { values } = args('verify', rest, { snapshot: { type: 'string' }, timeout: { type: 'string' } });
      const timeoutMs = positiveInt('timeout', values.timeout, 120_000, 'verify');
      const registry = config.registry ? new SchemaRegistryClient(config.registry) : undefined;
      return verify(
        await connect(config, log, [
          config.topics.interactions,
          config.topics.deletions,
          config.topics.similarities,
        ]),
        config,
        registry,
        {
          ...(values.snapshot ? { snapshot: values.snapshot } : {}),
          timeoutMs,
        },
        (line) => process.stdout.write(`${line}\n`),
      );
    }
    case 'trace': {
      const { values } = args('trace', rest, {
        user: { type: 'string' },
        'snapshot-dir': { type: 'string' },
        timeout: { type: 'string' },
      });
      if (values.user === undefined || values.user === '') usage('trace needs --user ID', 'trace');
      const timeoutMs = positiveInt('timeout', values.timeout, 120_000, 'trace');
      const registry = config.registry ? new SchemaRegistryClient(config.registry) : undefined;
      return trace(
        await connect(config, log, []),
        config,
        registry,
        { userId: values.user, snapshotDir: values['snapshot-dir'], timeoutMs },
        (line) => process.stdout.write(`${line}\n`),
      );
    }
  }
}

/** The exit code for what the command threw, after its one line (or the usage) on stderr. */
function fail(e: unknown): number {
  if (e instanceof ConfigError) process.stderr.write(`amnesia: invalid configuration: ${e.message}\n`);
  else if (isAmnesiaError(e, 'USAGE')) process.stderr.write(`${e.message}\n`);
  else if (isAmnesiaError(e)) process.stderr.write(`amnesia: ${e.message}\n`);
  else process.stderr.write(`amnesia: ${describeError(e)}\n`);
  if (isAmnesiaError(e, 'USAGE')) return EXIT.USAGE;
  if (isAmnesiaError(e, 'KAFKA_UNAVAILABLE')) return EXIT.KAFKA_UNAVAILABLE;
  return EXIT.FAILED;
}

cli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => process.exit(fail(e)),
);
