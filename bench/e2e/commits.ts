// When did the service's outputs cover an input record? The service commits its input offsets
// together with the outputs that reflect them (exactly_once: in the same transaction; at_least_once:
// after the outputs are acknowledged), never ahead of them. So the first time the group's committed
// offset of a partition passes a record's offset, the lists reflecting that record are published.
// CommitPoller samples the group's committed offsets (admin fetchOffsets, every few ms); each sample
// is stamped with the time its answer arrived (an upper bound, late by at most one interval).
import type { Admin } from 'kafkajs';
import { now, quantile, sleep } from './stats.js';

export interface CommitSample {
  /** Hi-res epoch ms when the answer arrived. */
  readonly at: number;
  /** Committed offset (the next record to read) per partition; -1 when none. */
  readonly offsets: readonly number[];
}

export class CommitPoller {
  readonly samples: CommitSample[] = [];
  /** Records not yet covered by the commits (Σ high-water mark − committed), every lagEveryMs. */
  readonly lag: { readonly at: number; readonly events: number }[] = [];
  private lastLagAt = 0;
  private running = false;
  private loop: Promise<void> | undefined;
  private waiters: { ends: readonly number[]; resolve: (at: number) => void }[] = [];

  constructor(
    private readonly admin: Admin,
    private readonly groupId: string,
    private readonly topic: string,
    private readonly partitions: number,
    private readonly intervalMs = 10,
    private readonly lagEveryMs = 100,
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** Resolves with the time of the first sample whose offsets reach `ends` (per partition). */
  covered(ends: readonly number[]): Promise<number> {
    const hit = this.samples.find((s) => reaches(s.offsets, ends));
    if (hit) return Promise.resolve(hit.at);
    return new Promise((resolve) => this.waiters.push({ ends, resolve }));
  }

  /** Median time between samples (the resolution of every figure derived from them). */
  medianIntervalMs(): number {
    const d = this.samples.slice(1).map((s, i) => s.at - this.samples[i]!.at);
    d.sort((a, b) => a - b);
    return d.length === 0 ? NaN : d[Math.floor(d.length / 2)]!;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const t0 = now();
      let res: Awaited<ReturnType<Admin['fetchOffsets']>>[number] | undefined;
      try {
        [res] = await this.admin.fetchOffsets({ groupId: this.groupId, topics: [this.topic] });
      } catch {
        await sleep(this.intervalMs); // a broker hiccup: the next sample tells
        continue;
      }
      const offsets = new Array<number>(this.partitions).fill(-1);
      for (const p of res?.partitions ?? []) offsets[p.partition] = Number(p.offset);
      const sample = { at: now(), offsets };
      this.samples.push(sample);
      this.waiters = this.waiters.filter((w) => {
        if (!reaches(offsets, w.ends)) return true;
        w.resolve(sample.at);
        return false;
      });
      if (sample.at - this.lastLagAt >= this.lagEveryMs) await this.sampleLag(offsets);
      await sleep(Math.max(0, this.intervalMs - (now() - t0)));
    }
  }

  private async sampleLag(committed: readonly number[]): Promise<void> {
    try {
      const marks = await this.admin.fetchTopicOffsets(this.topic);
      const events = marks.reduce((a, m) => a + Number(m.high) - Math.max(0, committed[m.partition] ?? 0), 0);
      this.lastLagAt = now();
      this.lag.push({ at: this.lastLagAt, events });
    } catch {
      // the next sample tells
    }
  }

  /** Median and largest lag seen (events); says whether the service kept up. */
  lagSummary(): { p50Events: number; maxEvents: number } {
    const sorted = this.lag.map((l) => l.events).sort((a, b) => a - b);
    return { p50Events: quantile(sorted, 0.5), maxEvents: quantile(sorted, 1) };
  }
}

function reaches(offsets: readonly number[], ends: readonly number[]): boolean {
  return ends.every((e, p) => e <= 0 || (offsets[p] ?? -1) >= e);
}

/** Per partition, one past the highest offset of the events given. */
export function endsOf(partitionOf: Int32Array, offsetOf: Float64Array, partitions: number): number[] {
  const ends = new Array<number>(partitions).fill(0);
  for (let k = 0; k < partitionOf.length; k++) {
    const p = partitionOf[k]!;
    ends[p] = Math.max(ends[p]!, offsetOf[k]! + 1);
  }
  return ends;
}

/**
 * For each event (partition, offset, send time), ms from its send to the first sample whose committed
 * offset passed it; NaN when no sample did.
 */
export function coverLatencies(
  samples: readonly CommitSample[],
  sentAt: Float64Array,
  partitionOf: Int32Array,
  offsetOf: Float64Array,
): Float64Array {
  const out = new Float64Array(sentAt.length).fill(NaN);
  const byPartition = new Map<number, number[]>();
  for (let k = 0; k < sentAt.length; k++) {
    const p = partitionOf[k]!;
    let list = byPartition.get(p);
    if (!list) byPartition.set(p, (list = []));
    list.push(k);
  }
  for (const [p, events] of byPartition) {
    events.sort((a, b) => offsetOf[a]! - offsetOf[b]!);
    let i = 0;
    for (const s of samples) {
      const committed = s.offsets[p] ?? -1;
      while (i < events.length && offsetOf[events[i]!]! < committed) {
        const k = events[i++]!;
        out[k] = s.at - sentAt[k]!;
      }
      if (i === events.length) break;
    }
  }
  return out;
}
