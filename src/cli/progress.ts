// A one-line progress bar on stderr (only when stderr is a terminal, else a line every few seconds).

export class Progress {
  private last = 0;
  private readonly started = performance.now();
  private readonly tty = process.stderr.isTTY === true;

  constructor(private readonly label: string) {}

  update(done: number, fraction?: number, force = false): void {
    const now = performance.now();
    if (!force && now - this.last < (this.tty ? 200 : 5_000)) return;
    this.last = now;
    const secs = (now - this.started) / 1000;
    const rate = secs > 0 ? Math.round(done / secs) : 0;
    let bar = '';
    if (fraction !== undefined) {
      const f = Math.min(1, Math.max(0, fraction));
      const width = 30;
      const full = Math.round(f * width);
      bar = `[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${(f * 100).toFixed(1).padStart(5)}% `;
    }
    const line = `${this.label} ${bar}${done.toLocaleString('en')} events, ${rate.toLocaleString('en')} events/s`;
    process.stderr.write(this.tty ? `\r${line}\x1b[K` : `${line}\n`);
  }

  done(total: number): { seconds: number; rate: number } {
    this.update(total, 1, true);
    if (this.tty) process.stderr.write('\n');
    const seconds = (performance.now() - this.started) / 1000;
    return { seconds, rate: seconds > 0 ? total / seconds : 0 };
  }
}
