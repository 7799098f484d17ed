import { describe, expect, it } from 'vitest';
import { AmnesiaError } from '../../src/errors.js';
import { backoffDelay, isRetriable, retry } from '../../src/kafka/retry.js';

const noSleep = () => Promise.resolve();

describe('the retry policy', () => {
  it('backs off exponentially with jitter, up to a cap', () => {
    expect(backoffDelay(1, 100, 1000, () => 0)).toBe(50);
    expect(backoffDelay(1, 100, 1000, () => 0.999)).toBe(100);
    expect(backoffDelay(3, 100, 1000, () => 0.999)).toBe(400);
    expect(backoffDelay(10, 100, 1000, () => 0.999)).toBe(1000);
  });

  it('never retries programming errors or errors that say they cannot succeed', () => {
    expect(isRetriable(new TypeError('x'))).toBe(false);
    expect(isRetriable(new AmnesiaError('PUBLISH_FAILED', 'x', { retriable: true }))).toBe(true);
    expect(isRetriable(new AmnesiaError('SNAPSHOT_INVALID', 'x'))).toBe(false);
    expect(isRetriable(new Error('socket hang up'))).toBe(true);
  });

  it('retries until success, heartbeating before each wait', async () => {
    let beats = 0;
    const delays: number[] = [];
    const r = await retry(
      (attempt) => (attempt < 4 ? Promise.reject(new Error('away')) : Promise.resolve(attempt)),
      {
        sleep: noSleep,
        beforeWait: () => Promise.resolve(void beats++),
        onRetry: (_e, _a, d) => delays.push(d),
        random: () => 0.5,
      },
    );
    expect(r).toBe(4);
    expect(beats).toBe(3);
    expect(delays).toEqual([150, 300, 600]);
  });

  it('gives up after the attempts, at once on a fatal error, and when the caller stops', async () => {
    let calls = 0;
    const failing = () => {
      calls++;
      return Promise.reject(new Error('away'));
    };
    await expect(retry(failing, { attempts: 3, sleep: noSleep })).rejects.toThrow('away');
    expect(calls).toBe(3);
    calls = 0;
    await expect(retry(() => Promise.reject(new RangeError('bug')), { sleep: noSleep })).rejects.toThrow(
      'bug',
    );
    await expect(retry(failing, { stopping: () => calls >= 2, sleep: noSleep })).rejects.toThrow('away');
    expect(calls).toBe(2);
  });
});
