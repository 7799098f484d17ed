// The operational gauges read their sources at scrape time; absent sources export no samples.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { OPS_METRIC_NAMES, registerOpsMetrics } from '../../src/http/ops-metrics.js';

describe('registerOpsMetrics', () => {
  it('exports lag per partition, event time, snapshot figures and build info from the sources', async () => {
    const registry = new Registry();
    let lag = [
      { topic: 'interactions', partition: 0, lag: 12 },
      { topic: 'interactions', partition: 1, lag: 0 },
    ];
    registerOpsMetrics(registry, {
      version: '1.2.3',
      now: () => 100_000,
      lag: () => lag,
      lastEventTime: () => 42_000,
      snapshot: () => ({ lastSuccessMs: 40_000, lastDurationSeconds: 1.5, lastBytes: 2048, failures: 2 }),
    });
    let text = await registry.metrics();
    expect(text).toContain('amnesia_consumer_lag{topic="interactions",partition="0"} 12');
    expect(text).toContain('amnesia_consumer_lag{topic="interactions",partition="1"} 0');
    expect(text).toContain('amnesia_last_event_timestamp_seconds 42');
    expect(text).toContain('amnesia_snapshot_age_seconds 60');
    expect(text).toContain('amnesia_snapshot_last_success_timestamp_seconds 40');
    expect(text).toContain('amnesia_snapshot_duration_seconds 1.5');
    expect(text).toContain('amnesia_snapshot_bytes 2048');
    expect(text).toContain('amnesia_snapshot_failures_total 2');
    expect(text).toMatch(/amnesia_build_info\{version="1\.2\.3",node="v\d+[^"]*"\} 1/);
    // A partition that moved away disappears from the next scrape.
    lag = [{ topic: 'interactions', partition: 1, lag: 3 }];
    text = await registry.metrics();
    expect(text).not.toContain('partition="0"');
    expect(text).toContain('amnesia_consumer_lag{topic="interactions",partition="1"} 3');
  });

  it('without sources every metric is still declared, with no samples but build info', async () => {
    const registry = new Registry();
    registerOpsMetrics(registry, { version: '0.0.0' });
    registerOpsMetrics(registry, { version: '0.0.0' }); // idempotent
    const text = await registry.metrics();
    for (const name of OPS_METRIC_NAMES) expect(text).toContain(`# TYPE ${name} `);
    expect(text).not.toMatch(/^amnesia_snapshot_age_seconds /m);
    expect(text).not.toMatch(/^amnesia_consumer_lag\{/m);
  });
});
