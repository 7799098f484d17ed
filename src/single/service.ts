// The streaming service, composed: Kafka clients, topics, schemas, the engine and its consumer
// group. `startService` returns once the consumer runs; readiness (state rebuilt, live) comes later
// and is observable through `waitUntilReady`/`phase`. Used by main.ts and, in-process, by tests.
import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, Producer } from 'kafkajs';
import type { Config } from '../config.js';
import { describeError } from '../errors.js';
import { createLogger } from '../log.js';
import type { Model } from '../model/index.js';
import { Snapshotter } from '../state/snapshotter.js';
import { SnapshotStore } from '../state/store.js';
import { singleActiveAssigner } from './assigner.js';
import { Engine } from './engine.js';
import { DeletionLane } from './deletion-lane.js';
import { PurgeProgress } from '../output/purge-progress.js';
import { resolveTombstoneKey } from '../state/tombstone-key.js';
import { mkdir } from 'node:fs/promises';
import { consumerSettings, createKafka, transactionalProducer } from '../kafka/client.js';
import { kafkaProbe, waitForKafka } from '../kafka/reach.js';
import { createMetrics } from '../telemetry/metrics.js';
import { consumerPort, offsetsPort } from '../kafka/kafkajs-ports.js';
import { ForgetEffects } from '../output/forget-effects.js';
import { OutputEncoder, Outbox } from '../output/outbox.js';
import { AckedSink, TransactionalSink } from '../kafka/output-sink.js';
import type { OutputSink } from '../kafka/ports.js';
import { outputCompression } from '../kafka/compression.js';
import { SchemaRegistryClient } from '../kafka/registry.js';
import { dlqKeepsFor, ensureTopics, registerSchemas, withRetry } from '../kafka/topics.js';
import { untilReady, type Service, type ServiceOptions } from '../service.js';

/** The single mode's service: it holds the whole model, always. */
export interface SingleService extends Service {
  readonly model: Model;
}

export async function startSingleService(
  config: Config,
  options: ServiceOptions = {},
): Promise<SingleService> {
  const root = options.log ?? createLogger(config.logLevel);
  const log = root.child({ module: 'service' });
  const instanceId = randomUUID();
  const startedAt = Date.now();
  let engine: Engine | undefined;
  const metrics =
    options.metrics ??
    createMetrics({
      defaultMetrics: true,
      modelStats: () => engine?.model.stats(),
      health: () => engine && { ...engine.healthFigures(), live: engine.health().live },
    });

  const registry = config.registry ? new SchemaRegistryClient(config.registry) : undefined;
  const kafka = createKafka(config.kafka, root);
  const admin: Admin = kafka.admin();
  // exactly_once: the transactional producer is created when this instance becomes active (its
  // activation fences the previous active instance); at_least_once: one idempotent producer.
  const exactlyOnce = config.kafka.guarantee === 'exactly_once';
  const producer: Producer | undefined = exactlyOnce
    ? undefined
    : kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  let consumer: Consumer | undefined;
  let sink: OutputSink | undefined;
  let progress: PurgeProgress | undefined;
  let lane: DeletionLane | undefined;
  const disconnectAll = async () => {
    await Promise.allSettled([
      lane?.stop(),
      consumer?.disconnect(),
      producer?.disconnect(),
      sink?.deactivate(),
      admin.disconnect(),
    ]);
  };

  try {
    // State first: the tombstone key, then the newest valid snapshot is decoded (and checked against
    // the key) before the consumer joins, so that the engine can seek to its offsets at once.
    if (config.snapshot.dir) await mkdir(config.snapshot.dir, { recursive: true, mode: 0o700 });
    const key = await resolveTombstoneKey(config.model.tombstoneKey, config.snapshot.dir, root);
    const snapshots = config.snapshot.dir
      ? new Snapshotter({
          store: new SnapshotStore({
            dir: config.snapshot.dir,
            retain: config.snapshot.retain,
            log: root,
            fault: options.fault,
          }),
          intervalMs: config.snapshot.intervalMs,
          log: root,
          key,
          similarity: config.model.similarity,
          // A lapsed lease, or the role being checked after one: PURGED may have gone out elsewhere.
          mayWrite: () => (progress?.holdsLease() ?? false) && !(engine?.roleInDoubt ?? true),
        })
      : undefined;
    await snapshots?.init();
    // No broker yet: one clear line per attempt (kafka/reach.ts), waited for without bound.
    await waitForKafka(kafkaProbe(config.kafka, root), config.kafka.brokers, log);
    await withRetry('connect admin', log, () => admin.connect());
    await withRetry('create topics', log, () => ensureTopics(admin, config, log));
    const dlqRetentionMs = await withRetry('read the DLQ topics', log, () => dlqKeepsFor(admin, config, log));
    const schemaIds = registry
      ? await withRetry('register schemas', log, () => registerSchemas(registry, config, log))
      : undefined;
    if (producer) await withRetry('connect producer', log, () => producer.connect());
    progress = new PurgeProgress({
      kafka,
      topic: config.topics.progress,
      groupId: config.kafka.groupId,
      instanceId,
      log: root,
      leaseMs: config.snapshot.holderLeaseMs,
      onLeaseLost: async () => {
        void engine?.recheckRole();
        await snapshots?.dropAll();
      },
    });
    const board = progress;
    await withRetry('start the progress board', log, () => board.start());

    const outbox = new Outbox(
      config.topics,
      new OutputEncoder(config.outputFormat === 'avro' ? schemaIds : undefined, dlqRetentionMs),
      metrics,
      config.dlq.maxRecordBytes,
    );
    const c = kafka.consumer({
      groupId: config.kafka.groupId,
      partitionAssigners: [
        singleActiveAssigner(() => ({ startedAt, instanceId, activeSince: engine?.activeSince })),
      ],
      ...consumerSettings(config),
    });
    consumer = c;
    sink = producer
      ? new AckedSink(
          producer,
          c,
          (e) =>
            log.warn(
              { err: describeError(e) },
              'offset commit failed (outputs are out; a restart re-reads a little more)',
            ),
          outputCompression(config),
        )
      : new TransactionalSink({
          makeProducer: () => transactionalProducer(kafka, config, config.kafka.transactionalId),
          groupId: config.kafka.groupId,
          compression: outputCompression(config),
          log: root,
        });
    const forgetEffects = new ForgetEffects(config.forgetEffects.retentionMs);
    engine = new Engine({
      config,
      log: root,
      metrics,
      consumer: consumerPort(c),
      offsets: offsetsPort(admin),
      sink,
      outbox,
      registry,
      snapshots,
      progress,
      instanceId,
      tombstoneKey: key.key,
      forgetEffects,
    });
    const eng = engine;
    c.on(c.events.GROUP_JOIN, (e) => {
      log.info(
        {
          memberId: e.payload.memberId,
          isLeader: e.payload.isLeader,
          topics: Object.keys(e.payload.memberAssignment).length,
        },
        'joined group',
      );
      eng.onAssignment(e.payload.memberAssignment, e.payload.memberId);
    });
    c.on(c.events.CRASH, (e) => {
      const { error, restart } = e.payload as { error: unknown; restart: boolean };
      log.error({ err: describeError(error), restart }, 'consumer crashed');
      if (!restart) options.onFatal?.(error);
    });
    await withRetry('connect consumer', log, () => c.connect());
    await c.subscribe({ topics: eng.topics, fromBeginning: true });
    await c.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: eng.eachBatch,
    });
    if (config.deletionLane) {
      const l = new DeletionLane({ kafka, config, instanceId, host: eng, log: root });
      lane = l;
      await withRetry('start the deletion lane', log, () => l.start());
    }
    eng.monitorHealth(true);
    snapshots?.start({
      atBoundary: (take) => eng.atBoundary(take),
      publishPurged: (purges) => eng.publishPurged(purges),
      othersHoldNoSnapshots: () => eng.othersHoldNoSnapshots(),
    });
    log.info(
      { instanceId, groupId: config.kafka.groupId, outputFormat: config.outputFormat },
      'service started',
    );

    let stopping: Promise<void> | undefined;
    const service: SingleService = {
      config,
      metrics,
      instanceId,
      schemaIds,
      get model() {
        return eng.model;
      },
      get phase() {
        return eng.phase;
      },
      isReady: () => eng.health().ready,
      health: () => eng.health(),
      healthFigures: () => eng.healthFigures(),
      snapshots,
      forgetEffects,
      consumerLag: () => engine?.consumerLag() ?? [],
      lastEventTime: () => engine?.lastEventTime(),
      pauseInputs: () => eng.pauseInputs(true),
      resumeInputs: () => eng.pauseInputs(false),
      waitUntilReady: (timeoutMs) =>
        untilReady(
          () => eng.phase === 'live',
          () => eng.phase,
          timeoutMs,
        ),
      stop() {
        stopping ??= (async () => {
          log.info({}, 'stopping');
          eng.beginStop();
          eng.monitorHealth(false);
          await eng.flushNow().catch((e) => log.warn({ err: describeError(e) }, 'final flush failed'));
          await lane?.stop();
          await c.stop().catch((e) => log.warn({ err: describeError(e) }, 'consumer stop failed'));
          await snapshots?.stop().catch((e) => log.warn({ err: describeError(e) }, 'final snapshot failed'));
          await eng.finishStop();
          await progress?.stop();
          await disconnectAll();
          log.info({}, 'stopped');
        })();
        return stopping;
      },
    };
    return service;
  } catch (e) {
    await disconnectAll();
    throw e;
  }
}
