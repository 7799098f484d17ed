// One task at a time: kafkajs batches, group-join transitions, timed flushes, snapshot captures and
// shutdown all run through this queue, so none of them ever sees the model half-way through another.
// A failed task does not block the ones after it.
//
// Tasks run in the order queued, with one exception: an `urgent` task (a deletion request read by
// the deletion lane) starts before the `deferrable` tasks waiting at the queue's tail (interaction
// batches and timed flushes, whose order among themselves is kept) — never before a `normal` task
// (a transition, a snapshot capture, shutdown) queued ahead of it, nor before the task running.
export type Lane = 'normal' | 'deferrable' | 'urgent';

interface Waiting {
  readonly lane: Lane;
  readonly start: () => void;
}

export class SerialQueue {
  private readonly waiting: Waiting[] = [];
  private running = false;
  private queued = 0;

  /** True while a task runs or waits. */
  get busy(): boolean {
    return this.queued > 0;
  }

  run<T>(task: () => Promise<T>, lane: Lane = 'normal'): Promise<T> {
    this.queued++;
    return new Promise<T>((resolve, reject) => {
      const start = (): void => {
        let p: Promise<T>;
        try {
          p = task();
        } catch (e) {
          p = Promise.reject(e instanceof Error ? e : new Error(String(e)));
        }
        p.then(resolve, reject).finally(() => this.next());
      };
      this.enter({ lane, start });
      this.kick();
    });
  }

  /** Resolves once every task queued so far has ended (an urgent one queued later may run first). */
  idle(): Promise<void> {
    if (this.queued === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.queued++;
      this.enter({
        lane: 'normal',
        start: () => {
          resolve();
          this.next();
        },
      });
      this.kick();
    });
  }

  private enter(w: Waiting): void {
    if (w.lane !== 'urgent') {
      this.waiting.push(w);
      return;
    }
    // Ahead of the deferrable tasks at the tail, behind everything else (earlier urgent ones too).
    let at = this.waiting.length;
    while (at > 0 && this.waiting[at - 1]!.lane === 'deferrable') at--;
    this.waiting.splice(at, 0, w);
  }

  /** An idle queue starts its first task on a microtask (never inside the caller's run()). */
  private kick(): void {
    if (this.running) return;
    this.running = true;
    queueMicrotask(() => this.next(false));
  }

  /** Starts the next waiting task (after the running one ended, when `ended`). */
  private next(ended = true): void {
    if (ended) this.queued--;
    const w = this.waiting.shift();
    this.running = w !== undefined;
    w?.start();
  }
}
