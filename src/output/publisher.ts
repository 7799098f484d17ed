// Publishing a flush: the outbox's records and the input positions they reflect go to the output
// sink together, retried with the service's retry policy while the failure is retriable. Offsets are
// never committed ahead of the outputs that reflect them. While a delivery keeps failing, `stuckMs`
// says for how long (health checks and metrics read it). A record the broker refuses as too large
// is a dead-letter copy over the DLQ topic's limit: the copies are bounded tighter and sent again.
import { describeError, isAmnesiaError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { Outbox } from './outbox.js';
import type { PartitionOffset } from '../kafka/partitions.js';
import type { OutputSink } from '../kafka/ports.js';
import type { Positions } from '../kafka/positions.js';
import { isRetriable, retry } from '../kafka/retry.js';

export interface PublishContext {
  /** Keeps the group membership during long retries. */
  readonly heartbeat?: (() => Promise<void>) | undefined;
  /** True once the engine is stopping: the last failure is thrown instead of retried. */
  readonly stopping: () => boolean;
}

export interface PublisherDeps {
  readonly outbox: Outbox;
  readonly sink: OutputSink;
  readonly positions: Positions;
  readonly isInput: (topic: string) => boolean;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly now?: () => number;
}

export class Publisher {
  private failingSince: number | undefined;

  constructor(private readonly deps: PublisherDeps) {}

  /** Milliseconds the current delivery has been failing (0 when outputs flow). */
  stuckMs(): number {
    const since = this.failingSince;
    return since === undefined ? 0 : (this.deps.now ?? Date.now)() - since;
  }

  /**
   * Delivers the outbox and commits input offsets (default: every position), the ones not committed
   * yet; resolves once both are done.
   */
  async publish(ctx: PublishContext, upTo?: readonly PartitionOffset[]): Promise<void> {
    const { outbox, sink, positions, isInput, log, metrics } = this.deps;
    const offsets = positions.notCommitted(upTo ?? positions.offsets(isInput));
    if (outbox.size === 0 && offsets.length === 0) return;
    await retry(() => outbox.drain((records) => sink.deliver(records, offsets)), {
      stopping: ctx.stopping,
      beforeWait: ctx.heartbeat,
      retriable: (e) => isRetriable(e) || (isAmnesiaError(e, 'RECORD_REJECTED') && outbox.tightenDlqBound()),
      onRetry: (e, attempt, delayMs) => {
        this.failingSince ??= (this.deps.now ?? Date.now)();
        metrics.publishFailures.inc();
        const cause = (e as { cause?: unknown }).cause ?? e;
        log.error(
          { err: describeError(cause), pending: outbox.size, attempt, retryInMs: delayMs },
          'publishing failed, retrying',
        );
      },
    }).catch((e: unknown) => {
      metrics.publishFailures.inc();
      throw e;
    });
    this.failingSince = undefined;
    positions.markCommitted(offsets);
  }
}
