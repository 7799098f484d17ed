// A one-line progress bar on stderr (only when stderr is a terminal, else a line every few seconds):
// records done, their rate and, when the share done is known, the percentage and the time left.
import { etaSeconds } from '../telemetry/progress.js';

/** Where the bar goes: stderr, or a test's collector. */
export interface ProgressStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

export class Progress {
  private last = 0;
  private readonly started = performance.now();
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private readonly unit = 'events',
    private readonly stream: ProgressStream = process.stderr,
  ) {
    this.tty = stream.isTTY === true;
  }

  update(done: number, fraction?: number, force = false): void {
    const now = performance.now();
    if (!force && now - this.last < (this.tty ? 200 : 5_000)) return;
    this.last = now;
    const secs = (now - this.started) / 1000;
    const rate = secs > 0 ? Math.round(done / secs) : 0;
    let bar = '';
    let eta = '';
    if (fraction !== undefined) {
      const f = Math.min(1, Math.max(0, fraction));
      const width = 30;
      const full = Math.round(f * width);
      const percent = `${(f * 100).toFixed(1).padStart(5)}%`;
      bar = this.tty ? `[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${percent} ` : `${percent} `;
      const left = etaSeconds(f, now - this.started);
      if (left !== undefined && f < 1) eta = `, ETA ${formatSeconds(left)}`;
    }
    const line = `${this.label} ${bar}${done.toLocaleString('en')} ${this.unit}, ${rate.toLocaleString('en')} ${this.unit}/s${eta}`;
    this.stream.write(this.tty ? `\r${line}\x1b[K` : `${line}\n`);
  }

  done(total: number): { seconds: number; rate: number } {
    this.update(total, 1, true);
    if (this.tty) this.stream.write('\n');
    const seconds = (performance.now() - this.started) / 1000;
    return { seconds, rate: seconds > 0 ? total / seconds : 0 };
  }
}

/** 75 → "1m15s", 3725 → "1h02m". */
export function formatSeconds(s: number): string {
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
