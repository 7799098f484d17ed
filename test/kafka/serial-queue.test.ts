import { describe, expect, it } from 'vitest';
import { SerialQueue, type Lane } from '../../src/kafka/serial-queue.js';

/** A task that records its start and ends when released. */
function gate(log: string[], name: string) {
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  return {
    task: async () => {
      log.push(`start ${name}`);
      await done;
      log.push(`end ${name}`);
    },
    release: () => release(),
  };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('SerialQueue', () => {
  it('runs one task at a time, in order, and a failure does not block the next', async () => {
    const q = new SerialQueue();
    const log: string[] = [];
    let concurrent = 0;
    let most = 0;
    const tasks = Array.from({ length: 5 }, (_, k) =>
      q.run(async () => {
        concurrent++;
        most = Math.max(most, concurrent);
        await tick();
        log.push(String(k));
        concurrent--;
        if (k === 2) throw new Error('boom');
        return k;
      }),
    );
    const results = await Promise.allSettled(tasks);
    expect(log).toEqual(['0', '1', '2', '3', '4']);
    expect(most).toBe(1);
    expect(results[2]!.status).toBe('rejected');
    expect(results[4]).toEqual({ status: 'fulfilled', value: 4 });
    expect(q.busy).toBe(false);
  });

  it('never starts a task inside the caller of run()', () => {
    const q = new SerialQueue();
    let started = false;
    void q.run(() => {
      started = true;
      return Promise.resolve();
    });
    expect(started).toBe(false);
  });

  it('an urgent task starts before the deferrable ones waiting, never before the running one or a normal one', async () => {
    const q = new SerialQueue();
    const log: string[] = [];
    const running = gate(log, 'batch-1');
    const all: Promise<void>[] = [q.run(running.task, 'deferrable')];
    const queue = (name: string, lane: Lane) =>
      all.push(
        q.run(() => {
          log.push(name);
          return Promise.resolve();
        }, lane),
      );
    queue('batch-2', 'deferrable');
    queue('transition', 'normal');
    queue('batch-3', 'deferrable');
    queue('flush', 'deferrable');
    await tick();
    queue('deletion-1', 'urgent');
    queue('deletion-2', 'urgent');
    running.release();
    await Promise.all(all);
    expect(log).toEqual([
      'start batch-1',
      'end batch-1',
      'batch-2',
      'transition',
      'deletion-1',
      'deletion-2',
      'batch-3',
      'flush',
    ]);
  });

  it('idle() waits for the tasks queued before it', async () => {
    const q = new SerialQueue();
    const log: string[] = [];
    const a = gate(log, 'a');
    void q.run(a.task, 'deferrable');
    let idle = false;
    const p = q.idle().then(() => (idle = true));
    await tick();
    expect(idle).toBe(false);
    a.release();
    await p;
    expect(log).toEqual(['start a', 'end a']);
    await q.idle();
    expect(q.busy).toBe(false);
  });
});
