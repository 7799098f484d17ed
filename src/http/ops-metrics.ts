// Operational gauges the alerts and the dashboard need beyond the stream metrics: consumer lag,
// freshness of the input, snapshots and build info. Each is read from a source at scrape time
// (`collect()`), so the stream and state layers only expose plain getters. A source that is absent
// or returns undefined leaves its metric without samples (the `# TYPE` line is still exported).
import { Counter, Gauge, type Registry } from 'prom-client';

export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  /** High watermark minus the next offset this instance will process (0 when caught up). */
  readonly lag: number;
}

export interface SnapshotStatus {
  /** Epoch ms when the newest snapshot on disk was completed (undefined: none yet). */
  readonly lastSuccessMs?: number;
  /** Seconds the last successful snapshot took to write. */
  readonly lastDurationSeconds?: number;
  /** Size in bytes of the last successful snapshot. */
  readonly lastBytes?: number;
  /** Failed snapshot attempts since the process started. */
  readonly failures: number;
}

export interface OpsSources {
  readonly lag?: () => readonly PartitionLag[] | undefined;
  /** Epoch ms of the record timestamp of the newest input record applied. */
  readonly lastEventTime?: () => number | undefined;
  readonly snapshot?: () => SnapshotStatus | undefined;
  readonly version: string;
  /** Clock for snapshot age (tests). */
  readonly now?: () => number;
}

export const OPS_METRIC_NAMES = [
  'amnesia_consumer_lag',
  'amnesia_last_event_timestamp_seconds',
  'amnesia_snapshot_age_seconds',
  'amnesia_snapshot_last_success_timestamp_seconds',
  'amnesia_snapshot_duration_seconds',
  'amnesia_snapshot_bytes',
  'amnesia_snapshot_failures_total',
  'amnesia_build_info',
] as const;

/**
 * An unlabelled gauge that exports no sample while its source has no value: prom-client would
 * otherwise export 0, which reads as "a snapshot was just written" and would silence the alerts.
 */
class OptionalGauge extends Gauge {
  constructor(
    config: { name: string; help: string; registers: Registry[] },
    private readonly read: () => number | undefined,
  ) {
    super(config);
  }

  override async get(): ReturnType<Gauge['get']> {
    const v = this.read();
    if (v !== undefined) this.set(v);
    const metric = await super.get();
    return v === undefined ? { ...metric, values: [] } : metric;
  }
}

function optionalGauge(
  name: string,
  help: string,
  registers: Registry[],
  read: () => number | undefined,
): void {
  new OptionalGauge({ name, help, registers }, read);
}

/** Registers the operational metrics on the registry (once: a second call is a no-op). */
export function registerOpsMetrics(registry: Registry, sources: OpsSources): void {
  if (registry.getSingleMetric('amnesia_build_info')) return;
  const registers = [registry];
  const now = sources.now ?? Date.now;

  new Gauge({
    name: 'amnesia_consumer_lag',
    help: 'Records in the input partitions not yet processed by this instance, by topic and partition.',
    labelNames: ['topic', 'partition'] as const,
    registers,
    collect() {
      this.reset();
      for (const p of sources.lag?.() ?? []) {
        this.set({ topic: p.topic, partition: String(p.partition) }, Math.max(0, p.lag));
      }
    },
  });
  optionalGauge(
    'amnesia_last_event_timestamp_seconds',
    'Record timestamp of the newest input record applied (seconds since the epoch).',
    registers,
    () => {
      const t = sources.lastEventTime?.();
      return t === undefined ? undefined : t / 1000;
    },
  );

  const snap = () => sources.snapshot?.();
  optionalGauge(
    'amnesia_snapshot_age_seconds',
    'Seconds since the newest snapshot on disk was completed.',
    registers,
    () => {
      const t = snap()?.lastSuccessMs;
      return t === undefined ? undefined : Math.max(0, now() - t) / 1000;
    },
  );
  optionalGauge(
    'amnesia_snapshot_last_success_timestamp_seconds',
    'When the newest snapshot on disk was completed (seconds since the epoch).',
    registers,
    () => {
      const t = snap()?.lastSuccessMs;
      return t === undefined ? undefined : t / 1000;
    },
  );
  optionalGauge(
    'amnesia_snapshot_duration_seconds',
    'Seconds the last successful snapshot took to write.',
    registers,
    () => snap()?.lastDurationSeconds,
  );
  optionalGauge(
    'amnesia_snapshot_bytes',
    'Size of the last successful snapshot in bytes.',
    registers,
    () => snap()?.lastBytes,
  );
  new Counter({
    name: 'amnesia_snapshot_failures_total',
    help: 'Failed snapshot attempts since the process started.',
    registers,
    collect() {
      const s = snap();
      if (s === undefined) return;
      // A counter mirrored from the snapshot writer's own count (monotonic within the process).
      this.reset();
      if (s.failures > 0) this.inc(s.failures);
    },
  });
  new Gauge({
    name: 'amnesia_build_info',
    help: 'Always 1; the labels say which build runs.',
    labelNames: ['version', 'node'] as const,
    registers,
  }).set({ version: sources.version, node: process.version }, 1);
}
