// Running a model flush without blocking the event loop: the flush proceeds in slices of at most
// SLICE_MS, and between slices the consumer heartbeats and HTTP requests get their turn. A flush
// after a big chunk (a catch-up) or of a user with a long history can take seconds in all; no
// single slice does.
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ChangeReport, Model } from '../model/index.js';
import type { PublishContext } from '../output/publisher.js';

const SLICE_MS = 20;

export class FlushRunner {
  /** Longest slice seen (ms), for the metrics. */
  longestSliceMs = 0;

  constructor(private readonly sliceMs = SLICE_MS) {}

  async run(
    model: Model,
    now: number,
    ctx: Pick<PublishContext, 'heartbeat'>,
    opts: { readonly previous?: boolean } = {},
  ): Promise<ChangeReport> {
    const job = model.beginFlush(now, opts);
    for (;;) {
      const t0 = performance.now();
      const done = job.step(() => performance.now() - t0 >= this.sliceMs);
      this.longestSliceMs = Math.max(this.longestSliceMs, performance.now() - t0);
      if (done) return job.result();
      await ctx.heartbeat?.();
      await nextTurn();
    }
  }
}
