// An item task purges (DeleteRecords) only the deltas a transaction of its own committed past: a
// delivery that failed leaves its position ahead of the group's offsets, and the partition's next
// owner starts from those offsets — purging to the position would lose the deltas between.
import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { AmnesiaError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { encodeDelta } from '../../src/partitioned/deltas.js';
import { ItemPartitions } from '../../src/partitioned/ids.js';
import { ItemTask } from '../../src/partitioned/item-task.js';
import { createPartitionedMetrics } from '../../src/partitioned/metrics.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { OutputEncoder } from '../../src/output/outbox.js';
import type { PartitionOffset } from '../../src/kafka/partitions.js';

const config = loadConfig({ TOP_K: '4', BATCH_MAX_EVENTS: '1', BATCH_MAX_MS: '60000' });

const delta = (offset: number, token: string, items: string[]): KafkaMessage => ({
  offset: String(offset),
  key: null,
  value: encodeDelta({ p: 0, o: [{ t: token, s: items }], n: items.map((i) => [i, 1]), m: [] }),
  timestamp: '0',
  attributes: 0,
  headers: {},
});

describe('an item task', () => {
  it('purges the deltas up to what it committed, not up to where a failed delivery left it', async () => {
    let now = 1_000_000;
    const committed: PartitionOffset[][] = [];
    const purged: string[] = [];
    let fail = false;
    const metrics = createMetrics();
    const task = new ItemTask({
      stage: 'items',
      partition: 0,
      sink: {
        activate: () => Promise.resolve(),
        deactivate: () => Promise.resolve(),
        deliver: (_records, offsets) => {
          if (fail) return Promise.reject(new AmnesiaError('PRODUCER_FENCED', 'fenced'));
          committed.push([...offsets]);
          return Promise.resolve();
        },
      },
      log: createLogger('silent'),
      metrics,
      pmetrics: createPartitionedMetrics(metrics.registry, () => [], { users: 1, items: 1 }),
      batch: config.batch,
      tickMs: 3_600_000,
      keyFingerprint: 'test-fingerprint',
      enqueue: () => undefined,
      pause: () => Promise.resolve(),
      stopping: () => false,
      now: () => now,
      topics: { deltas: 'deltas', acks: 'acks', changelog: 'icl', similarities: 'sim' },
      parts: new ItemPartitions(1),
      topK: 4,
      minCooccurrences: 1,
      encoder: new OutputEncoder(undefined),
      admin: {
        deleteTopicRecords: ({ partitions }) => {
          purged.push(partitions[0]!.offset);
          return Promise.resolve();
        },
      },
    });
    task.phase = 'live';
    task.positions.set('deltas', 0);
    await task.onRecords('deltas', [delta(0, 'u1', ['a', 'b'])]);
    expect(committed).toEqual([[{ topic: 'deltas', partition: 0, offset: 1 }]]);
    fail = true;
    await expect(task.onRecords('deltas', [delta(1, 'u2', ['a', 'c'])])).rejects.toThrow('fenced');
    expect(task.positions.get('deltas')).toBe(2); // applied, never committed
    now += 10_000;
    await task.periodic(now);
    expect(purged).toEqual(['1']);
  });
});
