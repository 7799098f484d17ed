// Publishing a flush: the outbox's records and the input positions they reflect go to the output
// sink together, retried with the service's retry policy while the failure is retriable. Offsets are
// never committed ahead of the outputs that reflect them. While a delivery keeps failing, `stuckMs`
// says for how long (health checks and metrics read it). A record the broker refuses as too large
// is a dead-letter copy over the DLQ topic's limit: the copies are bounded tighter and sent again.
import { isAmnesiaError } from '../errors.js';
import { Delivery } from '../kafka/delivery.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { Outbox } from './outbox.js';
import type { PartitionOffset } from '../kafka/partitions.js';
import type { OutputSink } from '../kafka/ports.js';
import type { Positions } from '../kafka/positions.js';

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
  private readonly delivery: Delivery;

  constructor(private readonly deps: PublisherDeps) {
    this.delivery = new Delivery(deps.log, deps.metrics, deps.now);
  }

  /** Milliseconds the current delivery has been failing (0 when outputs flow). */
  stuckMs(): number {
    return this.delivery.stuckMs();
  }

  /**
   * The next publish will commit these input positions (default: every position): the sink may
   * start on its delivery while the caller computes the outputs (OutputSink.prepare).
   */
  prepare(upTo?: readonly PartitionOffset[]): void {
    this.deps.sink.prepare?.(this.offsetsFor(upTo));
  }

  /** The input positions a publish up to `upTo` (default: every position) commits: those not committed yet. */
  private offsetsFor(upTo: readonly PartitionOffset[] | undefined): PartitionOffset[] {
    const { positions, isInput } = this.deps;
    return positions.notCommitted(upTo ?? positions.offsets(isInput));
  }

  /**
   * Delivers the outbox and commits input offsets (default: every position), the ones not committed
   * yet; resolves once both are done.
   */
  async publish(ctx: PublishContext, upTo?: readonly PartitionOffset[]): Promise<void> {
    const { outbox, sink, positions } = this.deps;
    const offsets = this.offsetsFor(upTo);
    if (outbox.size === 0 && offsets.length === 0) return;
    await this.delivery.run(
      () => outbox.drain((records) => sink.deliver(records, offsets)),
      { stopping: ctx.stopping, beforeWait: ctx.heartbeat },
      {
        alsoRetriable: (e) => isAmnesiaError(e, 'RECORD_REJECTED') && outbox.tightenDlqBound(),
        pending: () => outbox.size,
      },
    );
    positions.markCommitted(offsets);
  }
}
