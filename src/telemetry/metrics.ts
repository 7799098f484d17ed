// The service's Prometheus metrics, in one registry the HTTP layer serves. Base units, `amnesia_`
// prefix, counters end in _total; labels never hold user ids (topic, reason, outcome, status only).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { RestoreProgress } from './progress.js';

export interface Metrics {
  readonly registry: Registry;
  readonly eventsConsumed: Counter<'topic' | 'outcome'>;
  readonly dlqRecords: Counter<'topic' | 'reason'>;
  readonly dlqBounded: Counter<'topic'>;
  readonly deletionsCorrected: Counter<'field'>;
  readonly deletionsRejected: Counter<'reason'>;
  readonly batchSize: Histogram;
  readonly batchDuration: Histogram;
  readonly forgetDuration: Histogram;
  readonly receiptLatency: Histogram<'status'>;
  readonly listsPublished: Counter;
  readonly tombstonesPublished: Counter;
  readonly publishFailures: Counter;
  readonly producerFenced: Counter;
  readonly retentionGap: Gauge<'topic' | 'partition'>;
  readonly blocked: Gauge;
  readonly modelMemoryExceeded: Gauge;
  readonly eventDedupUsers: Gauge;
  readonly eventDedupEvicted: Counter;
  readonly interactionsExpired: Counter;
  readonly interactionsExpiredOnArrival: Counter;
  readonly ready: Gauge;
  readonly active: Gauge;
  /** amnesia_restore_progress_ratio{mode}: the rebuild (single) or partition restores under way. */
  readonly restoreProgress: RestoreProgress;
}

export interface MetricsOptions {
  /** Process/runtime metrics (off in tests that create many registries). */
  readonly defaultMetrics?: boolean;
  /** Point-in-time health figures, read at scrape time. */
  readonly health?: () => { idleSeconds: number; outputsStuckSeconds: number; live: boolean } | undefined;
  /** Point-in-time model figures, read at scrape time. */
  readonly modelStats?: () =>
    { users: number; items: number; pairs: number; bytes: number; tombstones: number } | undefined;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'amnesia_' });
  const registers = [registry];

  const modelGauge = (
    name: string,
    help: string,
    pick: (s: NonNullable<ReturnType<NonNullable<MetricsOptions['modelStats']>>>) => number,
  ) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const s = options.modelStats?.();
        if (s) this.set(pick(s));
      },
    });
  modelGauge('amnesia_model_users', 'Users currently held in memory.', (s) => s.users);
  modelGauge('amnesia_model_items', 'Items with at least one interaction.', (s) => s.items);
  modelGauge('amnesia_model_pairs', 'Item pairs with a non-zero co-occurrence count.', (s) => s.pairs);
  modelGauge('amnesia_model_bytes', 'Approximate bytes held by the model.', (s) => s.bytes);
  modelGauge(
    'amnesia_model_tombstones',
    'Forgotten users whose late events are still suppressed.',
    (s) => s.tombstones,
  );

  const healthGauge = (
    name: string,
    help: string,
    pick: (h: NonNullable<ReturnType<NonNullable<MetricsOptions['health']>>>) => number,
  ) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const h = options.health?.();
        if (h) this.set(pick(h));
      },
    });
  healthGauge(
    'amnesia_outputs_stuck_seconds',
    'How long the current delivery of outputs has been failing (0 while outputs flow).',
    (h) => h.outputsStuckSeconds,
  );
  healthGauge(
    'amnesia_consumer_idle_seconds',
    'Seconds since the last fetched batch arrived.',
    (h) => h.idleSeconds,
  );
  healthGauge(
    'amnesia_live',
    '1 while /livez passes; 0 when the consumer is wedged (input waiting, no batch arriving).',
    (h) => (h.live ? 1 : 0),
  );

  return {
    registry,
    eventsConsumed: new Counter({
      name: 'amnesia_events_consumed_total',
      help: 'Input records consumed, by topic and outcome (applied, duplicate, suppressed_late, expired, invalid).',
      labelNames: ['topic', 'outcome'] as const,
      registers,
    }),
    interactionsExpired: new Counter({
      name: 'amnesia_interactions_expired_total',
      help: 'Interactions forgotten by INTERACTION_TTL_MS: held, then older than now minus the TTL at a check (every TTL_CHECK_MS).',
      registers,
    }),
    interactionsExpiredOnArrival: new Counter({
      name: 'amnesia_interactions_expired_on_arrival_total',
      help: 'ADD events already older than the expiry cutoff (INTERACTION_TTL_MS) when read: counted, not applied.',
      registers,
    }),
    dlqRecords: new Counter({
      name: 'amnesia_dlq_records_total',
      help: 'Records written to a dead-letter topic, by input topic and reason.',
      labelNames: ['topic', 'reason'] as const,
      registers,
    }),
    dlqBounded: new Counter({
      name: 'amnesia_dlq_bounded_total',
      help: 'Dead-letter copies too large for the DLQ topic, replaced by a bounded copy (size and SHA-256 of the original value kept), by input topic.',
      labelNames: ['topic'] as const,
      registers,
    }),
    deletionsCorrected: new Counter({
      name: 'amnesia_deletion_requests_corrected_total',
      help: 'Deletion requests carried out although a field was wrong, by field: requestedAt (the record timestamp used), key (not the userId: the value userId forgotten), requestId (missing: answered under the request position).',
      labelNames: ['field'] as const,
      registers,
    }),
    deletionsRejected: new Counter({
      name: 'amnesia_deletion_requests_rejected_total',
      help: 'Deletion requests answered REJECTED (no usable userId, or undecodable), by reason.',
      labelNames: ['reason'] as const,
      registers,
    }),
    batchSize: new Histogram({
      name: 'amnesia_batch_size',
      help: 'Input records per processed chunk (applied, flushed and published together).',
      buckets: [1, 10, 100, 500, 1_000, 2_000, 5_000, 10_000, 50_000],
      registers,
    }),
    batchDuration: new Histogram({
      name: 'amnesia_batch_duration_seconds',
      help: 'Time from the first record of a chunk to its outputs being acknowledged and offsets committed.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    forgetDuration: new Histogram({
      name: 'amnesia_forget_duration_seconds',
      help: 'Time the model took to forget one user.',
      buckets: [0.00001, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5],
      registers,
    }),
    receiptLatency: new Histogram({
      name: 'amnesia_deletion_receipt_latency_seconds',
      help: 'From the deletion request record timestamp to its receipt being acknowledged, by status.',
      labelNames: ['status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
      registers,
    }),
    listsPublished: new Counter({
      name: 'amnesia_lists_published_total',
      help: 'Neighbour lists published to the similarities topic.',
      registers,
    }),
    tombstonesPublished: new Counter({
      name: 'amnesia_tombstones_published_total',
      help: 'Tombstones (null values) published to the similarities topic.',
      registers,
    }),
    publishFailures: new Counter({
      name: 'amnesia_publish_failures_total',
      help: 'Failed attempts to publish outputs; the batch is retried and offsets are not committed.',
      registers,
    }),
    producerFenced: new Counter({
      name: 'amnesia_producer_fenced_total',
      help: 'Deliveries refused because another producer with our transactional id took over (or our transaction timed out).',
      registers,
    }),
    retentionGap: new Gauge({
      name: 'amnesia_retention_gap_records',
      help: 'Input records deleted by retention before the state applied them, found at the last restore (deletion topic: the instance refuses to go live).',
      labelNames: ['topic', 'partition'] as const,
      registers,
    }),
    blocked: new Gauge({
      name: 'amnesia_blocked',
      help: '1 while the instance refuses to go live because retention deleted deletion requests it never applied.',
      registers,
    }),
    modelMemoryExceeded: new Gauge({
      name: 'amnesia_model_memory_exceeded',
      help: '1 while the model refuses to grow past MODEL_MEMORY_BYTES: consuming has stopped (not ready); single mode until the budget is raised and the instance restarted, partitioned mode until partitions move away.',
      registers,
    }),
    eventDedupUsers: new Gauge({
      name: 'amnesia_event_dedup_users',
      help: 'Users whose last eventIds the single mode remembers (at most EVENT_DEDUP_MAX_USERS; partitioned mode: 0, the windows live with the user records).',
      registers,
    }),
    eventDedupEvicted: new Counter({
      name: 'amnesia_event_dedup_evicted_total',
      help: 'Users whose eventId window the EVENT_DEDUP_MAX_USERS bound dropped (least recently noted first): a retry of their events is no longer recognised.',
      registers,
    }),
    ready: new Gauge({
      name: 'amnesia_ready',
      help: '1 once state is restored and the consumer runs live.',
      registers,
    }),
    active: new Gauge({
      name: 'amnesia_active',
      help: '1 on the instance that holds the partitions, 0 on a standby.',
      registers,
    }),
    restoreProgress: new RestoreProgress(
      new Gauge({
        name: 'amnesia_restore_progress_ratio',
        help: 'Share (0..1) of the input records a single-mode rebuild replays, or of the changelog records the partitions a partitioned instance restores, read so far; 1 once none is under way.',
        labelNames: ['mode'] as const,
        registers,
      }),
    ),
  };
}
