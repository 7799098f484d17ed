import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { HealthMonitor, type HealthInputs } from '../../src/kafka/health.js';

function monitor(over: Partial<HealthInputs> & { high?: number; reachable?: boolean } = {}) {
  let now = 1_000_000;
  const state = { now };
  const inputs: HealthInputs = {
    offsets: {
      watermarks: (topic) =>
        over.reachable === false
          ? Promise.reject(new Error('broker away'))
          : Promise.resolve([{ topic, partition: 0, low: 0, high: over.high ?? 100 }]),
      committed: () => Promise.resolve([]),
      members: () => Promise.resolve([]),
    },
    positions: () => [{ topic: 'in', partition: 0, offset: 40 }],
    noteHighWatermark: () => undefined,
    live: () => true,
    ready: () => true,
    inputsPaused: () => false,
    busy: () => false,
    lastBatchAt: () => 1_000_000,
    outputsStuckMs: () => 0,
    log: createLogger('silent'),
    now: () => state.now,
    ...over,
  };
  const m = new HealthMonitor(inputs, { stallMs: 60_000, outputStallMs: 30_000, probeIntervalMs: 1_000 });
  return {
    m,
    later: (ms: number) => {
      now += ms;
      state.now = now;
    },
  };
}

describe('health verdicts', () => {
  it('a consumer with input waiting and no batch past the threshold is not live', async () => {
    const { m, later } = monitor();
    await m.probe();
    expect(m.verdict().live).toBe(true);
    later(61_000);
    await m.probe();
    expect(m.verdict()).toMatchObject({ live: false, ready: false });
    expect(m.verdict().reasons.join()).toContain('wedged');
  });

  it('no lag, our own work running, paused inputs, or a broker outage are not a wedge', async () => {
    for (const over of [
      { high: 40 },
      { busy: () => true },
      { inputsPaused: () => true },
      { reachable: false },
    ]) {
      const { m, later } = monitor(over);
      later(120_000);
      await m.probe();
      expect(m.verdict().live).toBe(true);
    }
  });

  it('outputs failing past their threshold make the instance not ready, but still live', async () => {
    const { m } = monitor({ outputsStuckMs: () => 31_000 });
    await m.probe();
    expect(m.verdict()).toMatchObject({ live: true, ready: false });
    expect(m.verdict().reasons.join()).toContain('outputs failing');
  });
});
