// The service's one retry policy: exponential backoff with jitter and a cap, a bounded or unbounded
// number of attempts, and a classification of what is worth retrying. Programming errors (TypeError
// and friends) and AmnesiaErrors marked non-retriable are rethrown at once; a caller that is stopping
// stops retrying. Used for start-up steps, publishing, the registry and offset queries alike.
import { AmnesiaError } from '../errors.js';

export interface RetryOptions {
  /** First delay (default 200 ms); doubles per attempt up to maxDelayMs (default 5 s). */
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Attempts in all, the first included (default: unbounded). */
  readonly attempts?: number;
  /** Whether an error is worth another attempt (default: `isRetriable`). */
  readonly retriable?: (e: unknown) => boolean;
  /** Called before each wait (logging, metrics). */
  readonly onRetry?: (e: unknown, attempt: number, delayMs: number) => void;
  /** True once the caller is stopping: the last error is rethrown instead of waiting. */
  readonly stopping?: () => boolean;
  /** Runs before each wait (e.g. a consumer heartbeat, so a long outage keeps the group membership). */
  readonly beforeWait?: (() => Promise<void>) | undefined;
  /** Source of jitter in [0, 1) (tests). */
  readonly random?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const PROGRAMMING_ERRORS = [TypeError, RangeError, ReferenceError, SyntaxError];

/** Default classification: AmnesiaErrors say so themselves; programming errors never; others yes. */
export function isRetriable(e: unknown): boolean {
  if (e instanceof AmnesiaError) return e.retriable;
  if (PROGRAMMING_ERRORS.some((t) => e instanceof t)) return false;
  return true;
}

/** Delay before attempt `attempt + 1`: base·2^(attempt−1) capped, jittered into [½, 1] of it. */
export function backoffDelay(
  attempt: number,
  initialDelayMs: number,
  maxDelayMs: number,
  random: () => number,
): number {
  const base = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(base / 2 + (base / 2) * random());
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const {
    initialDelayMs = 200,
    maxDelayMs = 5_000,
    attempts = Infinity,
    retriable = isRetriable,
    random = Math.random,
  } = options;
  const wait = options.sleep ?? sleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (attempt >= attempts || !retriable(e) || options.stopping?.()) throw e;
      const delay = backoffDelay(attempt, initialDelayMs, maxDelayMs, random);
      options.onRetry?.(e, attempt, delay);
      await options.beforeWait?.();
      await wait(delay);
    }
  }
}
