// One task at a time: kafkajs batches, group-join transitions, timed flushes, snapshot captures and
// shutdown all run through this queue, so none of them ever sees the model half-way through another.
// A failed task does not block the ones after it.
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private queued = 0;

  /** True while a task runs or waits. */
  get busy(): boolean {
    return this.queued > 0;
  }

  run<T>(task: () => Promise<T>): Promise<T> {
    this.queued++;
    const result = this.tail.then(task, task).finally(() => {
      this.queued--;
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once every task queued so far has ended. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}
