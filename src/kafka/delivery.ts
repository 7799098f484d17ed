// Delivering outputs, the one way both modes do it: a delivery (records and the input offsets they
// reflect, one transaction or one acked send) is retried with the service's retry policy while the
// failure is retriable; while it keeps failing, `stuckMs` says for how long (health checks and the
// metrics read it) and every failed attempt is counted and logged once.
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../telemetry/metrics.js';
import { isRetriable, retry } from './retry.js';

export interface DeliveryContext {
  /** True once the service is stopping: the last failure is thrown instead of retried. */
  readonly stopping: () => boolean;
  /** Keeps the group membership during long retries. */
  readonly beforeWait?: (() => Promise<void>) | undefined;
}

export interface DeliveryOptions {
  /** Beyond the retry policy's own classification (e.g. a refused DLQ copy that can be cut down). */
  readonly alsoRetriable?: (e: unknown) => boolean;
  /** What is waiting to go out, for the log line of a failed attempt. */
  readonly pending?: () => number;
}

export class Delivery {
  private failingSince: number | undefined;

  constructor(
    private readonly log: Logger,
    private readonly metrics: Pick<Metrics, 'publishFailures'>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds the current delivery has been failing (0 while outputs flow). */
  stuckMs(): number {
    return this.failingSince === undefined ? 0 : this.now() - this.failingSince;
  }

  /** Runs `attempt` until it succeeds, the failure is not retriable, or the service stops. */
  async run(
    attempt: () => Promise<void>,
    ctx: DeliveryContext,
    options: DeliveryOptions = {},
  ): Promise<void> {
    const { alsoRetriable, pending } = options;
    await retry(attempt, {
      stopping: ctx.stopping,
      beforeWait: ctx.beforeWait,
      retriable: (e) => isRetriable(e) || (alsoRetriable?.(e) ?? false),
      onRetry: (e, n, delayMs) => {
        this.failingSince ??= this.now();
        this.metrics.publishFailures.inc();
        const cause = (e as { cause?: unknown }).cause ?? e;
        this.log.error(
          {
            err: describeError(cause),
            attempt: n,
            retryInMs: delayMs,
            ...(pending ? { pending: pending() } : {}),
          },
          'delivery failed, retrying',
        );
      },
    }).catch((e: unknown) => {
      this.metrics.publishFailures.inc();
      throw e;
    });
    this.failingSince = undefined;
  }
}
