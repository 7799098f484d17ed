// MODE=partitioned, composed: the contract topics and the internal ones, the schemas, and the two
// stages (user stage: group <G>-users; item stage: group <G>-items), each task with its own
// transactional producer. Returns the same Service surface as the single mode; readiness means every
// partition this instance holds is restored and delivering. No instance holds the whole model, so
// it has neither the `model` capability (no query API, no model metrics) nor `snapshots`.
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import type { Config } from '../config.js';
import { AmnesiaError, describeError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { untilReady, type Phase, type Service, type ServiceOptions } from '../service.js';
import { outputCompression } from '../kafka/compression.js';
import type { HealthVerdict } from '../kafka/health.js';
import { createKafka, transactionalProducer } from '../kafka/client.js';
import { kafkaProbe, waitForKafka } from '../kafka/reach.js';
import { createMetrics, type Metrics } from '../telemetry/metrics.js';
import { OutputEncoder } from '../output/outbox.js';
import { TransactionalSink } from '../kafka/output-sink.js';
import { SchemaRegistryClient } from '../kafka/registry.js';
import { dlqKeepsFor, ensureTopics, registerSchemas, withRetry } from '../kafka/topics.js';
import { ItemPartitions } from './ids.js';
import { ItemTask } from './item-task.js';
import { MEMORY_PAUSE, MemoryGuard } from './memory-guard.js';
import { createPartitionedMetrics, type PartitionedMetrics } from './metrics.js';
import { Stage, type StageHooks } from './stage.js';
import { keyFingerprint as fingerprintOf } from '../state/tombstone-key.js';
import { ensurePartitionedTopics, partitionedNames, type PartitionedLayout } from './topics.js';
import { UserTask } from './user-task.js';

export interface PartitionedService extends Service {
  /** The two stages (tests, benchmarks): figures per partition, the tasks held. */
  readonly stages: { readonly users: Stage; readonly items: Stage };
  readonly layout: PartitionedLayout;
}

function sinkFor(kafka: Kafka, config: Config, transactionalId: string, groupId: string, log: Logger) {
  return new TransactionalSink({
    makeProducer: () => transactionalProducer(kafka, config, transactionalId),
    groupId,
    compression: outputCompression(config),
    log,
  });
}

export async function startPartitionedService(
  config: Config,
  options: ServiceOptions = {},
): Promise<PartitionedService> {
  const root = options.log ?? createLogger(config.logLevel);
  const log = root.child({ module: 'service', mode: 'partitioned' });
  const instanceId = randomUUID();
  const tombstoneKey = config.model.tombstoneKey;
  if (tombstoneKey === undefined) throw new AmnesiaError('CONFIG_INVALID', 'TOMBSTONE_KEY is required');
  const keyFingerprint = fingerprintOf(tombstoneKey);
  const metrics: Metrics = options.metrics ?? createMetrics({ defaultMetrics: true });
  const registry = config.registry ? new SchemaRegistryClient(config.registry) : undefined;
  const kafka = createKafka(config.kafka, root);
  const admin: Admin = kafka.admin();
  const names = partitionedNames(config);
  let users: Stage | undefined;
  let items: Stage | undefined;
  try {
    // No broker yet: one clear line per attempt (kafka/reach.ts), waited for without bound.
    await waitForKafka(kafkaProbe(config.kafka, root), config.kafka.brokers, log);
    await withRetry('connect admin', log, () => admin.connect());
    await withRetry('create topics', log, () => ensureTopics(admin, config, log));
    const layout = await withRetry(
      'internal topics',
      log,
      () => ensurePartitionedTopics(admin, config, names, log),
      3,
    );
    const schemaIds = registry
      ? await withRetry('register schemas', log, () => registerSchemas(registry, config, log))
      : undefined;
    const dlqRetentionMs = await withRetry('read the DLQ topics', log, () => dlqKeepsFor(admin, config, log));
    const encoder = new OutputEncoder(config.outputFormat === 'avro' ? schemaIds : undefined, dlqRetentionMs);
    const parts = new ItemPartitions(layout.itemPartitions);
    const figures = () => [...(users?.figures() ?? []), ...(items?.figures() ?? [])];
    const memory = new MemoryGuard({
      budgetBytes: config.model.memoryBudgetBytes,
      stateBytes: () => figures().reduce((sum, f) => sum + f.stateBytes, 0),
      pauseInputs: (paused) => {
        users?.pauseInputs(paused, MEMORY_PAUSE);
        items?.pauseInputs(paused, MEMORY_PAUSE);
      },
      gauge: metrics.modelMemoryExceeded,
      log,
    });
    const pmetrics: PartitionedMetrics = createPartitionedMetrics(metrics.registry, figures, {
      users: layout.userPartitions,
      items: layout.itemPartitions,
    });
    const t = config.topics;
    const common = (
      stage: 'users' | 'items',
      p: number,
      hooks: StageHooks,
      groupId: string,
      txn: string,
    ) => ({
      stage,
      partition: p,
      sink: sinkFor(kafka, config, txn, groupId, root),
      log: root,
      metrics,
      pmetrics,
      batch: config.batch,
      tickMs: layout.tickMs,
      keyFingerprint,
      ...hooks,
    });
    users = new Stage({
      name: 'users',
      kafka,
      admin,
      config,
      log: root,
      groupId: names.usersGroup,
      inputs: [t.deletions, t.interactions, names.usersRepartition, names.acks],
      gapBlocks: config.acceptDeletionGap ? [] : [t.deletions, names.usersRepartition],
      changelog: names.usersChangelog,
      keyFingerprint,
      instanceId,
      pmetrics,
      metrics,
      onFatal: options.onFatal,
      admit: () => memory.admit(),
      makeTask: (p, hooks) =>
        new UserTask({
          ...common('users', p, hooks, names.usersGroup, names.usersTransactionalId(p)),
          topics: {
            interactions: t.interactions,
            deletions: t.deletions,
            repartition: names.usersRepartition,
            acks: names.acks,
            deltas: names.deltas,
            changelog: names.usersChangelog,
            receipts: t.receipts,
          },
          parts,
          userPartitions: layout.userPartitions,
          table: {
            maxItemsPerUser: config.model.maxItemsPerUser,
            dedupWindow: config.model.dedupWindow,
            tombstoneRetentionMs: config.model.tombstoneRetentionMs,
            interactionTtlMs: config.model.interactionTtlMs,
            ttlCheckMs: config.model.ttlCheckMs,
            onExpired: (n) => metrics.interactionsExpired.inc(n),
          },
          tombstoneKey,
          registry,
          inputRules: config.input,
          encoder,
          dlqMaxBytes: config.dlq.maxRecordBytes,
          purgeDelayMs: layout.purgeDelayMs,
          admin,
        }),
    });
    items = new Stage({
      name: 'items',
      kafka,
      admin,
      config,
      log: root,
      groupId: names.itemsGroup,
      inputs: [names.deltas],
      changelog: names.itemsChangelog,
      keyFingerprint,
      instanceId,
      pmetrics,
      metrics,
      onFatal: options.onFatal,
      admit: () => memory.admit(),
      makeTask: (q, hooks) =>
        new ItemTask({
          ...common('items', q, hooks, names.itemsGroup, names.itemsTransactionalId(q)),
          topics: {
            deltas: names.deltas,
            acks: names.acks,
            changelog: names.itemsChangelog,
            similarities: t.similarities,
          },
          parts,
          topK: config.model.topK,
          minCooccurrences: config.model.minCooccurrences,
          similarity: config.model.similarity,
          encoder,
          admin,
        }),
    });
    await withRetry('start the item stage', log, () => items!.start());
    await withRetry('start the user stage', log, () => users!.start());
    log.info({ instanceId, ...layout, groups: [names.usersGroup, names.itemsGroup] }, 'service started');
    return serviceOf(config, metrics, instanceId, schemaIds, layout, users, items, memory, admin, log);
  } catch (e) {
    await Promise.allSettled([users?.stop(), items?.stop()]);
    await admin.disconnect().catch(() => undefined);
    throw e;
  }
}

/**
 * The partitioned service's phase: live once both stages are in their groups and every task they
 * hold is restored. A restoring task has read no deletion request yet (it reads its changelog
 * first), so live keeps the promise of `Phase`: every deletion read has been applied.
 */
export function partitionedPhase(
  stopped: boolean,
  users: Pick<Stage, 'joined' | 'restoring'>,
  items: Pick<Stage, 'joined' | 'restoring'>,
): Phase {
  if (stopped) return 'stopped';
  if (!users.joined || !items.joined) return 'starting';
  if (users.restoring || items.restoring) return 'rebuilding';
  return 'live';
}

function serviceOf(
  config: Config,
  metrics: Metrics,
  instanceId: string,
  schemaIds: Service['schemaIds'],
  layout: PartitionedLayout,
  users: Stage,
  items: Stage,
  memory: MemoryGuard,
  admin: Admin,
  log: Logger,
): PartitionedService {
  let stopped = false;
  const health = (): HealthVerdict => {
    const u = users.health(config.health.outputStallMs);
    const i = items.health(config.health.outputStallMs);
    const m = memory.reason();
    return {
      live: u.live && i.live,
      ready: !stopped && u.ready && i.ready && m === undefined,
      reasons: [...u.reasons, ...i.reasons, ...(m === undefined ? [] : [m])],
    };
  };
  const phase = (): Phase => partitionedPhase(stopped, users, items);
  let lastPhase: Phase | undefined;
  const gauges = setInterval(() => {
    memory.check();
    metrics.ready.set(health().ready ? 1 : 0);
    metrics.active.set(users.held + items.held > 0 ? 1 : 0);
    const p = phase();
    if (p !== lastPhase) log.info({ phase: p, users: users.held, items: items.held }, 'phase changed');
    lastPhase = p;
  }, 250);
  gauges.unref();
  let stopping: Promise<void> | undefined;
  return {
    config,
    metrics,
    instanceId,
    schemaIds,
    stages: { users, items },
    layout,
    model: undefined,
    get phase() {
      return phase();
    },
    isReady: () => health().ready,
    health,
    healthFigures: () => ({
      idleSeconds: Math.max(users.idleMs(), items.idleMs()) / 1000,
      outputsStuckSeconds: Math.max(users.stuckMs(), items.stuckMs()) / 1000,
    }),
    waitUntilReady: (timeoutMs) => untilReady(() => health().ready, phase, timeoutMs),
    pauseInputs: () => users.pauseInputs(true),
    resumeInputs: () => users.pauseInputs(false),
    consumerLag: () =>
      [...users.figures(), ...items.figures()].map((f) => ({
        topic: f.stage === 'users' ? config.topics.interactions : `${config.kafka.groupId}-deltas`,
        partition: f.partition,
        lag: f.lag,
      })),
    lastEventTime: () => undefined,
    snapshots: undefined,
    forgetEffects: undefined,
    stop() {
      stopping ??= (async () => {
        log.info({}, 'stopping');
        clearInterval(gauges);
        await users
          .stop()
          .catch((e: unknown) => log.warn({ err: describeError(e) }, 'user stage stop failed'));
        await items
          .stop()
          .catch((e: unknown) => log.warn({ err: describeError(e) }, 'item stage stop failed'));
        stopped = true;
        await admin.disconnect().catch(() => undefined);
        log.info({}, 'stopped');
      })();
      return stopping;
    },
  };
}
