// Progress of long start-up work, both modes: amnesia_restore_progress_ratio{mode} moves from 0 to 1
// while the single mode's rebuild replays the input topics (engine on faked Kafka) and while a
// partitioned stage restores its partitions from the changelog (StageRestore with its edges faked);
// and the ETA the log lines and `amnesia verify` print.
import { describe, expect, it } from 'vitest';
import type { Admin, KafkaMessage } from 'kafkajs';
import { createLogger } from '../../src/log.js';
import { PartitionPositions } from '../../src/kafka/positions.js';
import { StageRestore } from '../../src/partitioned/stage-restore.js';
import type { Task } from '../../src/partitioned/task.js';
import { createPartitionedMetrics } from '../../src/partitioned/metrics.js';
import { createMetrics, type Metrics } from '../../src/telemetry/metrics.js';
import { etaSeconds, progressFields } from '../../src/telemetry/progress.js';
import { FakeLog } from '../helpers/fake-kafka.js';
import { engineOnFake, SINGLE_TOPICS, singleConfig } from '../helpers/runtimes.js';

const T = SINGLE_TOPICS;

async function ratio(metrics: Metrics, mode: string): Promise<number | undefined> {
  const g = await metrics.registry.getSingleMetric('amnesia_restore_progress_ratio')!.get();
  return g.values.find((v) => v.labels.mode === mode)?.value;
}

describe('the ETA of a long replay', () => {
  it('is the time so far scaled by what is left, undefined before anything is done', () => {
    expect(etaSeconds(0.25, 10_000)).toBe(30);
    expect(etaSeconds(1, 10_000)).toBe(0);
    expect(etaSeconds(0, 10_000)).toBeUndefined();
    expect(progressFields(300, 1_200, 6_000)).toEqual({
      percent: 25,
      records: 300,
      of: 1_200,
      etaSeconds: 18,
    });
    expect(progressFields(0, 0, 1_000)).toMatchObject({ percent: 100, etaSeconds: undefined });
  });
});

describe('amnesia_restore_progress_ratio', () => {
  it('single mode: rises through the rebuild and reads 1 once the state is rebuilt', async () => {
    const log = new FakeLog({ [T.in]: 1, [T.del]: 1, [T.sim]: 1, [T.rec]: 1 });
    const t0 = 1_700_000_000_000;
    for (let k = 0; k < 100; k++)
      log.appendJson(
        T.in,
        0,
        `u${k % 7}`,
        { userId: `u${k % 7}`, itemId: `i${k % 11}`, action: 'ADD', occurredAt: t0 + k },
        t0 + k,
      );
    const { engine, consumer, metrics } = engineOnFake(log, singleConfig({ BATCH_MAX_EVENTS: '1000' }));
    expect(await ratio(metrics, 'single')).toBeUndefined();
    consumer.join(engine, { [T.del]: [0], [T.in]: [0], [T.sim]: [0], [T.rec]: [0] });
    const seen: number[] = [];
    for (let round = 0; round < 50 && engine.phase !== 'live'; round++) {
      await engine.idle();
      await consumer.poll(engine, [T.del, T.in, T.sim, T.rec], 20);
      const r = await ratio(metrics, 'single');
      if (r !== undefined) seen.push(r);
    }
    await engine.idle();
    expect(engine.phase).toBe('live');
    // 100 records in fetches of 20: 0.2, 0.4, … — each value a share of the records replayed.
    expect(seen.slice(0, 4)).toEqual([0.2, 0.4, 0.6, 0.8]);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    expect(await ratio(metrics, 'single')).toBe(1);
  });

  it('partitioned: the share of the changelog records read over every partition under restore', async () => {
    const metrics = createMetrics();
    const changelog = 'users-changelog';
    const ends: Record<number, number> = { 0: 30, 1: 10 };
    const admin = {
      fetchTopicOffsets: (topic: string) =>
        Promise.resolve(
          topic === changelog
            ? Object.entries(ends).map(([p, high]) => ({
                partition: Number(p),
                offset: '0',
                low: '0',
                high: String(high),
              }))
            : [0, 1].map((partition) => ({ partition, offset: '0', low: '0', high: '0' })),
        ),
      fetchOffsets: () => Promise.resolve([]),
    } as unknown as Admin;
    const restore = new StageRestore({
      name: 'users',
      admin,
      groupId: 'g',
      inputs: ['in'],
      changelog,
      pmetrics: createPartitionedMetrics(metrics.registry, () => [], { users: 2, items: 2 }),
      metrics,
      keyFingerprint: 'fp',
      log: createLogger('silent'),
      seek: () => undefined,
      pauseTopics: () => undefined,
      inputsPaused: () => false,
      stopping: () => false,
    });
    const task = (partition: number) =>
      ({
        partition,
        phase: 'restoring',
        stopped: false,
        positions: new PartitionPositions(partition),
        activate: () => Promise.resolve(),
        restoreRecord: () => undefined,
        endRestore: () => Promise.resolve(),
        restoreRefusal: () => undefined,
      }) as unknown as Task;
    const records = (from: number, to: number): KafkaMessage[] =>
      Array.from({ length: to - from }, (_, k) => ({
        key: Buffer.from(`k${from + k}`),
        value: Buffer.from('{}'),
        offset: String(from + k),
        timestamp: '0',
        attributes: 0,
        headers: {},
      }));
    const a = task(0);
    const b = task(1);
    await restore.begin(a);
    await restore.begin(b);
    expect(await ratio(metrics, 'partitioned')).toBe(0);
    await restore.read(a, records(0, 20), 0, 19, () => undefined);
    expect(await ratio(metrics, 'partitioned')).toBe(20 / 40);
    await restore.read(b, records(0, 10), 0, 9, () => undefined); // b restored, a still restoring
    expect(await ratio(metrics, 'partitioned')).toBe(30 / 40);
    await restore.read(a, records(20, 30), 20, 29, () => undefined);
    expect(await ratio(metrics, 'partitioned')).toBe(1);
    expect(a.phase).toBe('live');
    // The next restore counts alone; one that moves away mid-way no longer counts.
    const c = task(0);
    const d = task(1);
    await restore.begin(c);
    await restore.begin(d);
    await restore.read(c, records(0, 15), 0, 14, () => undefined);
    expect(await ratio(metrics, 'partitioned')).toBe(15 / 40);
    restore.dropped(d);
    expect(await ratio(metrics, 'partitioned')).toBe(15 / 30);
  });
});
