// The inspector's clock: every `intervalMs`, while anyone is watching, reads a cheap fingerprint of
// what the views depend on and calls `onChange` when it moved. The views themselves are computed
// by the caller; a failing refresh is logged and retried at the next change, never thrown.
import { describeError } from '../../errors.js';
import type { Logger } from '../../log.js';

export interface Poller {
  /** Runs one tick now (tests, and a stream opening between ticks needs none). */
  tick(): void;
  stop(): void;
}

export function startPoller(opts: {
  readonly intervalMs: number;
  /** Whether anyone is watching (no streams: no work). */
  readonly active: () => boolean;
  readonly fingerprint: () => string;
  readonly onChange: () => void;
  readonly log: Logger;
}): Poller {
  let last: string | undefined;
  const tick = () => {
    if (!opts.active()) return;
    const fp = opts.fingerprint();
    if (fp === last) return;
    last = fp;
    try {
      opts.onChange();
    } catch (e) {
      opts.log.warn({ err: describeError(e) }, 'inspector refresh failed');
    }
  };
  const timer = setInterval(tick, opts.intervalMs);
  timer.unref();
  return { tick, stop: () => clearInterval(timer) };
}
