// A stage's liveness without a broker: the high-water marks and the tasks' positions are faked (as in
// test/stream/health.test.ts). A stage with input waiting for a live task and no batch for
// LIVENESS_STALL_MS is not live; nothing waiting, its own work running, inputs paused on purpose, a
// broker outage, or a task still restoring are not a wedge.
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { PartitionPositions } from '../../src/kafka/positions.js';
import { stageMonitor, type HeldTask, type StageFacts } from '../../src/partitioned/stage-health.js';

const T0 = 1_000_000;

function task(
  partition: number,
  positions: Record<string, number>,
  phase: HeldTask['phase'] = 'live',
): HeldTask {
  const p = new PartitionPositions(partition);
  for (const [topic, offset] of Object.entries(positions)) p.set(topic, offset);
  return { partition, phase, positions: p };
}

/** Two partitions of `deltas`; the broker's high-water marks are `highs` (or it is away). */
function stage(
  over: Partial<StageFacts> & { highs?: number[]; reachable?: boolean; held?: HeldTask[] } = {},
) {
  const clock = { now: T0 };
  const held = over.held ?? [task(0, { deltas: 40 }), task(1, { deltas: 7 })];
  const facts: StageFacts = {
    inputs: ['deltas'],
    tasks: () => held,
    running: () => true,
    inputsPaused: () => false,
    busy: () => false,
    lastBatchAt: () => T0,
    log: createLogger('silent'),
    now: () => clock.now,
    ...over,
  };
  const highs = over.highs ?? [40, 9];
  const m = stageMonitor(
    facts,
    {
      watermarks: (topic) =>
        over.reachable === false
          ? Promise.reject(new Error('broker away'))
          : Promise.resolve(highs.map((high, partition) => ({ topic, partition, low: 0, high }))),
      committed: () => Promise.resolve([]),
      members: () => Promise.resolve([]),
    },
    { stallMs: 60_000, outputStallMs: 30_000, probeIntervalMs: 1_000 },
  );
  return { m, held, later: (ms: number) => (clock.now += ms) };
}

describe('liveness of a partitioned stage', () => {
  it('input waiting for a held partition and no batch past LIVENESS_STALL_MS: not live, with the lag', async () => {
    const { m, held, later } = stage();
    await m.probe();
    expect(m.verdict().live).toBe(true);
    later(61_000);
    await m.probe();
    expect(m.verdict().live).toBe(false);
    // Partition 1 waits 2 records (9 − 7); partition 0 none.
    expect(m.verdict().reasons.join()).toMatch(/wedged: lag 2, no batch for 61 s/);
    // The probe keeps the tasks' lag figures true.
    expect(held[1]!.positions.highWatermark('deltas')).toBe(9);
  });

  it('nothing waiting, its own work running, inputs paused, the broker away, or not in the group: live', async () => {
    for (const over of [
      { highs: [40, 7] },
      { busy: () => true },
      { inputsPaused: () => true },
      { reachable: false },
      { running: () => false },
    ]) {
      const { m, later } = stage(over);
      later(120_000);
      await m.probe();
      expect(m.verdict().live, JSON.stringify(Object.keys(over))).toBe(true);
    }
  });

  it('a partition still restoring is not counted: its inputs wait on purpose', async () => {
    const { m, later } = stage({ held: [task(0, { deltas: 40 }), task(1, { deltas: 0 }, 'restoring')] });
    later(120_000);
    await m.probe();
    expect(m.verdict().live).toBe(true);
  });

  it('a batch arriving again makes the stage live again', async () => {
    let last = T0;
    const { m, later } = stage({ lastBatchAt: () => last });
    later(61_000);
    await m.probe();
    expect(m.verdict().live).toBe(false);
    last = T0 + 61_000;
    await m.probe();
    expect(m.verdict().live).toBe(true);
  });
});
