// Global setup: decides where the integration tests' Kafka and schema registry come from, in this
// order: KAFKA_BROKERS (+ SCHEMA_REGISTRY_URL) from the environment; containers when a Docker engine
// answers; otherwise the local stack (scripts/stack.mjs) in a per-run directory, stopped afterwards.
// Tests read them with `inject('kafkaBrokers')` / `inject('schemaRegistryUrl')` or from process.env.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startStack, stopStack } from '../../scripts/stack.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    schemaRegistryUrl: string;
    /** `env`, `docker` or `local-stack`: where the two came from. */
    stackSource: string;
  }
}

interface Resolved {
  kafkaBrokers: string;
  schemaRegistryUrl: string;
  source: string;
  stop: () => Promise<void>;
}

function dockerAnswers(): boolean {
  if (process.env.AMNESIA_TEST_NO_DOCKER === '1') return false;
  const r = spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 10_000 });
  return r.status === 0;
}

async function fromDocker(): Promise<Resolved> {
  const { GenericContainer, Network, Wait } = await import('testcontainers');
  const network = await new Network().start();
  // The broker advertises the host-mapped port to the tests and `kafka:9093` to the registry.
  const kafkaPort = 9092;
  const kafka = await new GenericContainer('apache/kafka:4.1.2')
    .withNetwork(network)
    .withNetworkAliases('kafka')
    .withExposedPorts(kafkaPort)
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9094',
      KAFKA_LISTENERS: 'HOST://0.0.0.0:9092,DOCKER://0.0.0.0:9093,CONTROLLER://0.0.0.0:9094',
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'HOST:PLAINTEXT,DOCKER:PLAINTEXT,CONTROLLER:PLAINTEXT',
      KAFKA_INTER_BROKER_LISTENER_NAME: 'DOCKER',
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
    })
    // The host port is only known after start, so the advertised listener is patched in by a
    // start-up script that waits for it (the pattern the Testcontainers Kafka modules use).
    .withEntrypoint(['sh', '-c'])
    .withCommand([
      'echo waiting-for-advertised-listeners; while [ ! -f /tmp/advertised ]; do sleep 0.1; done; ' +
        'export KAFKA_ADVERTISED_LISTENERS="$(cat /tmp/advertised)"; exec /etc/kafka/docker/run',
    ])
    .withStartupTimeout(120_000)
    .withWaitStrategy(Wait.forLogMessage('waiting-for-advertised-listeners'))
    .start();
  const host = kafka.getHost();
  const mapped = kafka.getMappedPort(kafkaPort);
  await kafka.copyContentToContainer([
    { content: `HOST://${host}:${mapped},DOCKER://kafka:9093`, target: '/tmp/advertised' },
  ]);
  await waitForBroker(`${host}:${mapped}`);
  const registry = await new GenericContainer('confluentinc/cp-schema-registry:7.9.1')
    .withNetwork(network)
    .withExposedPorts(8081)
    .withEnvironment({
      SCHEMA_REGISTRY_HOST_NAME: 'schema-registry',
      SCHEMA_REGISTRY_LISTENERS: 'http://0.0.0.0:8081',
      SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS: 'PLAINTEXT://kafka:9093',
    })
    .withWaitStrategy(Wait.forHttp('/subjects', 8081).forStatusCode(200))
    .withStartupTimeout(120_000)
    .start();
  return {
    kafkaBrokers: `${host}:${mapped}`,
    schemaRegistryUrl: `http://${registry.getHost()}:${registry.getMappedPort(8081)}`,
    source: 'docker',
    stop: async () => {
      await registry.stop();
      await kafka.stop();
      await network.stop();
    },
  };
}

async function waitForBroker(brokers: string): Promise<void> {
  const { Kafka, logLevel } = await import('kafkajs');
  const deadline = Date.now() + 120_000;
  for (;;) {
    const admin = new Kafka({
      brokers: [brokers],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    }).admin();
    try {
      await admin.connect();
      await admin.listTopics();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops per-run stacks left behind by test runs that were killed before their teardown. */
async function stopOrphans(): Promise<void> {
  let dirs: string[] = [];
  try {
    dirs = readdirSync('.stack').filter((d) => /^test-\d+$/.test(d));
  } catch {
    return;
  }
  for (const d of dirs) {
    if (!pidAlive(Number(d.slice('test-'.length))))
      await stopStack({ stackDir: path.resolve('.stack', d), quiet: true });
  }
}

async function resolve(): Promise<Resolved> {
  const brokers = process.env.KAFKA_BROKERS;
  if (brokers) {
    return {
      kafkaBrokers: brokers,
      schemaRegistryUrl: process.env.SCHEMA_REGISTRY_URL ?? '',
      source: 'env',
      stop: async () => {},
    };
  }
  if (dockerAnswers()) return fromDocker();
  await stopOrphans();
  const stackDir = path.resolve(process.env.AMNESIA_TEST_STACK_DIR ?? `.stack/test-${process.pid}`);
  const stack = await startStack({ stackDir, quiet: process.env.AMNESIA_STACK_VERBOSE !== '1' });
  return { ...stack, source: 'local-stack' };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const t0 = Date.now();
  const r = await resolve();
  project.provide('kafkaBrokers', r.kafkaBrokers);
  project.provide('schemaRegistryUrl', r.schemaRegistryUrl);
  project.provide('stackSource', r.source);
  // Forked workers inherit the environment of this process, so helpers can also read it there.
  process.env.KAFKA_BROKERS = r.kafkaBrokers;
  if (r.schemaRegistryUrl) process.env.SCHEMA_REGISTRY_URL = r.schemaRegistryUrl;
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  process.stderr.write(
    `[global-setup] ${r.source}: KAFKA_BROKERS=${r.kafkaBrokers} SCHEMA_REGISTRY_URL=${r.schemaRegistryUrl} (${Date.now() - t0} ms)\n`,
  );
  return async () => {
    await r.stop();
  };
}
