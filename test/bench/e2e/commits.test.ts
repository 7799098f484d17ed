// The list-latency method of the end-to-end benchmark: an event counts as published at the first
// sample of the group's commits whose offset on its partition passed it; the poller resolves a wait
// at the first sample that covers every partition's end, and reports how far the commits trailed.
import { describe, expect, it } from 'vitest';
import type { Admin } from 'kafkajs';
import { CommitPoller, coverLatencies, endsOf, type CommitSample } from '../../../bench/e2e/commits.js';

describe('coverLatencies', () => {
  it('charges each event the time from its send to the first sample whose commit passed its offset', () => {
    // partition 0: offsets 0, 1, 2 sent at 100; partition 1: offsets 0, 1 sent at 110, 150.
    const partitionOf = Int32Array.from([0, 0, 1, 0, 1]);
    const offsetOf = Float64Array.from([0, 1, 0, 2, 1]);
    const sentAt = Float64Array.from([100, 100, 110, 100, 150]);
    const samples: CommitSample[] = [
      { at: 120, offsets: [-1, -1] },
      { at: 130, offsets: [2, 0] }, // covers p0 offsets 0 and 1
      { at: 160, offsets: [2, 1] }, // covers p1 offset 0
      { at: 200, offsets: [3, 1] }, // covers p0 offset 2; p1 offset 1 never
    ];
    const got = Array.from(coverLatencies(samples, sentAt, partitionOf, offsetOf));
    expect(got).toEqual([30, 30, 50, 100, NaN]);
  });

  it('does not depend on the order the events are listed in', () => {
    const samples: CommitSample[] = [{ at: 50, offsets: [5] }];
    const got = coverLatencies(
      samples,
      Float64Array.from([10, 20]),
      Int32Array.from([0, 0]),
      Float64Array.from([4, 3]),
    );
    expect(Array.from(got)).toEqual([40, 30]);
  });
});

describe('endsOf', () => {
  it('is one past the highest offset per partition, 0 for partitions without events', () => {
    expect(endsOf(Int32Array.from([0, 2, 0]), Float64Array.from([7, 3, 9]), 3)).toEqual([10, 0, 4]);
  });
});

/** An admin whose committed offsets follow a script, one entry per call (the last one repeats). */
function scriptedAdmin(committed: number[][], high: number[]): Admin {
  let call = 0;
  return {
    fetchOffsets: () => {
      const offsets = committed[Math.min(call++, committed.length - 1)]!;
      return Promise.resolve([
        {
          topic: 't',
          partitions: offsets.map((o, partition) => ({ partition, offset: String(o), metadata: null })),
        },
      ]);
    },
    fetchTopicOffsets: () =>
      Promise.resolve(
        high.map((h, partition) => ({ partition, offset: String(h), high: String(h), low: '0' })),
      ),
  } as unknown as Admin;
}

describe('CommitPoller', () => {
  it('resolves a wait at the first sample covering every partition, and measures the lag meanwhile', async () => {
    const poller = new CommitPoller(
      scriptedAdmin(
        [
          [-1, -1],
          [5, 0],
          [10, 3],
          [10, 4],
        ],
        [10, 4],
      ),
      'g',
      't',
      2,
      1,
      0,
    );
    poller.start();
    const at = await poller.covered([10, 4]);
    await poller.stop();
    const hit = poller.samples.find((s) => s.offsets[0] === 10 && s.offsets[1] === 4);
    expect(at).toBe(hit!.at);
    expect(poller.samples.filter((s) => s.at < at).every((s) => s.offsets[1]! < 4)).toBe(true);
    // lag = Σ high − committed: 14, 9, 1, 0 over the script
    expect(poller.lagSummary().maxEvents).toBe(14);
    expect(poller.lag.at(-1)!.events).toBe(0);
  });

  it('treats partitions whose end is 0 as covered', async () => {
    const poller = new CommitPoller(scriptedAdmin([[3, -1]], [3, 0]), 'g', 't', 2, 1);
    poller.start();
    await expect(poller.covered([3, 0])).resolves.toBeGreaterThan(0);
    await poller.stop();
  });
});
