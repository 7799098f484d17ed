// Metrics of the partitioned mode, per stage and partition (partition numbers are not personal data):
// lag, state size, restore progress, work done and what was produced. Gauges are read from the
// tasks at scrape time; counters are incremented as work happens. Registered in the service's
// registry beside the single mode's metrics (which the partitioned mode also feeds where they apply).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type StageName = 'users' | 'items';

/** What a task reports at scrape time. */
export interface TaskFigures {
  readonly stage: StageName;
  readonly partition: number;
  readonly phase: 'restoring' | 'live';
  /** Records waiting in its inputs (last high-water mark − position). */
  readonly lag: number;
  /** Changelog records still to read while restoring. */
  readonly restoreRemaining: number;
  readonly stateBytes: number;
  /** users: users held; items: directed C cells held. */
  readonly entries: number;
}

export type ProducedKind =
  'deltas' | 'changelog' | 'acks' | 'lists' | 'receipts' | 'dlq' | 'ticks' | 'routed';
export type WorkKind = 'events' | 'ops' | 'cell_updates' | 'cells_scanned';

export interface PartitionedMetrics {
  readonly work: Counter<'stage' | 'partition' | 'kind'>;
  readonly produced: Counter<'stage' | 'kind'>;
  readonly producedBytes: Counter<'stage' | 'kind'>;
  readonly restoredRecords: Counter<'stage'>;
  readonly restoredBytes: Counter<'stage'>;
  readonly restoreDuration: Histogram<'stage'>;
  readonly purgedDeltas: Counter;
  readonly purgedRouted: Counter;
}

export function createPartitionedMetrics(
  registry: Registry,
  figures: () => readonly TaskFigures[],
  partitions: Readonly<Record<StageName, number>>,
): PartitionedMetrics {
  const registers = [registry];
  const total = new Gauge({
    name: 'amnesia_partitions',
    help: 'Partitions (tasks) of each stage of the partitioned mode: input partitions (users), item-similarities partitions (items).',
    labelNames: ['stage'] as const,
    registers,
  });
  total.set({ stage: 'users' }, partitions.users);
  total.set({ stage: 'items' }, partitions.items);
  const perTask = (name: string, help: string, pick: (f: TaskFigures) => number, stages?: StageName) =>
    new Gauge({
      name,
      help,
      labelNames: stages ? ['partition'] : ['stage', 'partition'],
      registers,
      collect() {
        this.reset();
        for (const f of figures()) {
          if (stages && f.stage !== stages) continue;
          const labels = stages
            ? { partition: String(f.partition) }
            : { stage: f.stage, partition: String(f.partition) };
          this.set(labels, pick(f));
        }
      },
    });
  perTask(
    'amnesia_partition_lag_records',
    'Records waiting in the inputs of a held partition (users: both input topics and acks; items: deltas).',
    (f) => f.lag,
  );
  perTask(
    'amnesia_partition_restore_remaining_records',
    'Changelog records a restoring partition has still to read (0 once live).',
    (f) => f.restoreRemaining,
  );
  perTask(
    'amnesia_partition_state_bytes',
    'Approximate bytes of state held for a partition.',
    (f) => f.stateBytes,
  );
  perTask('amnesia_partition_live', '1 when a held partition is live, 0 while it restores.', (f) =>
    f.phase === 'live' ? 1 : 0,
  );
  perTask('amnesia_partition_users', 'Users held by a user-stage partition.', (f) => f.entries, 'users');
  perTask(
    'amnesia_partition_cooccurrences',
    'Directed co-occurrence cells (C row entries) held by an item-stage partition.',
    (f) => f.entries,
    'items',
  );
  return {
    work: new Counter({
      name: 'amnesia_partition_work_total',
      help: 'Work done per partition: input events (users), delta ops applied, C cells updated and scanned (items).',
      labelNames: ['stage', 'partition', 'kind'] as const,
      registers,
    }),
    produced: new Counter({
      name: 'amnesia_partition_records_produced_total',
      help: 'Records produced by the partitioned stages, by kind (deltas, changelog, acks, lists, receipts, dlq, ticks).',
      labelNames: ['stage', 'kind'] as const,
      registers,
    }),
    producedBytes: new Counter({
      name: 'amnesia_partition_bytes_produced_total',
      help: 'Bytes (keys and values, before compression) produced by the partitioned stages, by kind.',
      labelNames: ['stage', 'kind'] as const,
      registers,
    }),
    restoredRecords: new Counter({
      name: 'amnesia_partition_restored_records_total',
      help: 'Changelog records read to restore partitions.',
      labelNames: ['stage'] as const,
      registers,
    }),
    restoredBytes: new Counter({
      name: 'amnesia_partition_restored_bytes_total',
      help: 'Changelog bytes (keys and values) read to restore partitions.',
      labelNames: ['stage'] as const,
      registers,
    }),
    restoreDuration: new Histogram({
      name: 'amnesia_partition_restore_duration_seconds',
      help: 'Time to restore a partition: fencing, reading its changelog, rebuilding its state.',
      labelNames: ['stage'] as const,
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    }),
    purgedDeltas: new Counter({
      name: 'amnesia_partition_deltas_purged_total',
      help: 'Delta records made unreadable (DeleteRecords) once the item stage committed past them.',
      registers,
    }),
    purgedRouted: new Counter({
      name: 'amnesia_partition_routed_purged_total',
      help: 'Routed input records (the repartition topic) made unreadable once their home user task committed past them.',
      registers,
    }),
  };
}
