// The inspector's clock: every `intervalMs`, while anyone is watching, reads a cheap fingerprint of
// what the views depend on and runs `onChange` when it moved, one refresh at a time (a change
// during a refresh is seen at the next tick). The views are computed by the caller; a failing
// refresh is logged and retried at the next change, never thrown.
import { describeError } from '../../errors.js';
import type { Logger } from '../../log.js';

export interface Poller {
  /** Runs one tick now; resolves when its refresh (if any) is done (tests, benchmarks). */
  tick(): Promise<void>;
  stop(): void;
}

export function startPoller(opts: {
  readonly intervalMs: number;
  /** Whether anyone is watching (no streams: no work). */
  readonly active: () => boolean;
  readonly fingerprint: () => string;
  readonly onChange: () => void | Promise<void>;
  readonly log: Logger;
}): Poller {
  let last: string | undefined;
  let running: Promise<void> | undefined;
  const tick = (): Promise<void> => {
    if (running) return running;
    if (!opts.active()) return Promise.resolve();
    const fp = opts.fingerprint();
    if (fp === last) return Promise.resolve();
    last = fp;
    running = (async () => {
      try {
        await opts.onChange();
      } catch (e) {
        opts.log.warn({ err: describeError(e) }, 'inspector refresh failed');
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
  const timer = setInterval(() => void tick(), opts.intervalMs);
  timer.unref();
  return { tick, stop: () => clearInterval(timer) };
}
