// Health verdicts an orchestrator can act on:
// - not live (restart me) when the consumer is wedged: input is waiting (lag > 0 by a fresh probe of
//   the high-water marks), the broker answers, nothing of ours is running, inputs are not paused on
//   purpose, and yet no batch has arrived for LIVENESS_STALL_MS. A broker outage is NOT a reason:
//   a restart cannot fix the broker and costs a full restore.
// - not ready (take me out of rotation, alert) when the state is not live, or when outputs have
//   failed to go out for longer than READINESS_OUTPUT_STALL_MS.
// The probe also refreshes the high-water marks, so the lag metric stays true when no batch comes.
import type { Logger } from '../log.js';
import type { OffsetsPort } from './ports.js';

export interface HealthInputs {
  readonly offsets: OffsetsPort;
  /** Input partitions held, with the engine's next offset to apply. */
  readonly positions: () => readonly { topic: string; partition: number; offset: number }[];
  readonly noteHighWatermark: (tp: { topic: string; partition: number }, offset: number) => void;
  readonly live: () => boolean;
  readonly ready: () => boolean;
  /** Why the state is not ready (e.g. the phase), for /readyz. */
  readonly notReadyReason?: () => string;
  readonly inputsPaused: () => boolean;
  /** True while a batch or a flush of ours is running (busy is not wedged). */
  readonly busy: () => boolean;
  readonly lastBatchAt: () => number;
  readonly outputsStuckMs: () => number;
  readonly log: Logger;
  readonly now?: () => number;
}

export interface HealthThresholds {
  readonly stallMs: number;
  readonly outputStallMs: number;
  readonly probeIntervalMs: number;
}

export interface HealthVerdict {
  readonly live: boolean;
  readonly ready: boolean;
  readonly reasons: readonly string[];
}

export class HealthMonitor {
  private timer: ReturnType<typeof setInterval> | undefined;
  private probedLag = 0;
  private brokerAnswered = false;
  private wedged = false;

  constructor(
    private readonly inputs: HealthInputs,
    private readonly thresholds: HealthThresholds,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.probe(), this.thresholds.probeIntervalMs);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Milliseconds since the last batch arrived. */
  idleMs(): number {
    return (this.inputs.now ?? Date.now)() - this.inputs.lastBatchAt();
  }

  /** Reads the high-water marks of the held input partitions; decides whether the consumer is wedged. */
  async probe(): Promise<void> {
    const held = this.inputs.positions();
    if (!this.inputs.live() || held.length === 0) {
      this.wedged = false;
      return;
    }
    let lag = 0;
    try {
      for (const topic of new Set(held.map((p) => p.topic))) {
        for (const w of await this.inputs.offsets.watermarks(topic)) {
          const mine = held.find((p) => p.topic === topic && p.partition === w.partition);
          if (!mine) continue;
          this.inputs.noteHighWatermark(w, w.high);
          lag += Math.max(0, w.high - mine.offset);
        }
      }
      this.brokerAnswered = true;
    } catch {
      this.brokerAnswered = false;
    }
    this.probedLag = lag;
    const wasWedged = this.wedged;
    this.wedged =
      this.brokerAnswered &&
      lag > 0 &&
      !this.inputs.busy() &&
      !this.inputs.inputsPaused() &&
      this.idleMs() > this.thresholds.stallMs;
    if (this.wedged && !wasWedged)
      this.inputs.log.error(
        { lag, idleMs: this.idleMs() },
        'consumer wedged: input waiting, no batch arrives',
      );
  }

  verdict(): HealthVerdict {
    const reasons: string[] = [];
    if (this.wedged)
      reasons.push(
        `consumer wedged: lag ${this.probedLag}, no batch for ${Math.round(this.idleMs() / 1000)} s`,
      );
    const stuck = this.inputs.outputsStuckMs();
    const outputsStuck = stuck > this.thresholds.outputStallMs;
    if (outputsStuck) reasons.push(`outputs failing for ${Math.round(stuck / 1000)} s`);
    if (!this.inputs.ready()) reasons.push(this.inputs.notReadyReason?.() ?? 'state not live');
    return { live: !this.wedged, ready: this.inputs.ready() && !outputsStuck && !this.wedged, reasons };
  }
}
