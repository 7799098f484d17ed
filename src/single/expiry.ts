// INTERACTION_TTL_MS in the single mode: every TTL_CHECK_MS, in the engine's serial queue and only
// while live, the model forgets what is older than now − TTL (model-factory.ts expireDue) and, if
// anything went, the change is flushed and published like a chunk. So an interaction is gone from
// H, n, C and the published lists at most TTL_CHECK_MS plus one flush after it expired; the next
// snapshot no longer holds it and deletes the older files (snapshotter.ts noteExpired). A rebuild
// expires its model as it is made (model-factory.ts, engine-parts.ts).
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Model } from '../model/index.js';
import type { Snapshotter } from '../state/snapshotter.js';
import type { Metrics } from '../telemetry/metrics.js';
import { expireDue } from './model-factory.js';

export interface ExpiryDeps {
  readonly config: Config;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** The next snapshot then deletes the older files, which hold what expired. */
  readonly snapshots?: Snapshotter | undefined;
  readonly model: () => Model;
  readonly live: () => boolean;
  /** Runs a task in the engine's serial queue (guarded). */
  readonly enqueue: (task: () => Promise<void>) => Promise<void>;
  /** Flushes the model and delivers its outputs with the positions. */
  readonly flush: () => Promise<void>;
}

/**
 * Expires what is due in `model` (model-factory.ts expireDue), counts it, and tells the snapshots
 * (the next one deletes the older files, which hold it). The expired interactions (0 when off).
 */
export function expireCounted(
  model: Model,
  deps: Pick<ExpiryDeps, 'config' | 'metrics' | 'snapshots'>,
): number {
  const expired = expireDue(model, deps.config);
  if (expired === 0) return 0;
  deps.metrics.interactionsExpired.inc(expired);
  deps.snapshots?.noteExpired();
  return expired;
}

export class TtlExpiry {
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly deps: ExpiryDeps) {
    const { interactionTtlMs, ttlCheckMs } = deps.config.model;
    if (interactionTtlMs === 0) return;
    this.timer = setInterval(() => {
      deps
        .enqueue(() => this.check())
        .catch((e: unknown) =>
          deps.log.error({ err: e instanceof Error ? e.message : String(e) }, 'interaction expiry failed'),
        );
    }, ttlCheckMs);
    this.timer.unref();
  }

  private async check(): Promise<void> {
    if (!this.deps.live()) return;
    const expired = expireCounted(this.deps.model(), this.deps);
    if (expired === 0) return;
    this.deps.log.info({ interactions: expired }, 'interactions expired (INTERACTION_TTL_MS)');
    await this.deps.flush();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
