// The default MODEL_MEMORY_BYTES: 60% of the memory this process may use — the cgroup's limit
// (cgroup v2 memory.max, v1 memory.limit_in_bytes) when one is set, else the machine's memory. The
// rest is for Node's heap (decoded batches, HTTP, encoding), kafkajs's buffers and a snapshot being
// encoded, which together stay well under 40% at the model sizes this service runs. Past the budget
// the model refuses to grow (MODEL_MEMORY_EXCEEDED) instead of the process being OOM-killed in a loop.
import { readFileSync } from 'node:fs';
import os from 'node:os';

const SHARE = 0.6;
const CGROUP_FILES = ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes'];

/** The cgroup memory limit in bytes, or undefined when there is none (or it cannot be read). */
export function cgroupMemoryLimit(
  read: (file: string) => string = (f) => readFileSync(f, 'utf8'),
): number | undefined {
  for (const file of CGROUP_FILES) {
    try {
      const v = read(file).trim();
      if (v === 'max') return undefined;
      const n = Number(v);
      // cgroup v1 reports "no limit" as a number near 2^63.
      if (Number.isFinite(n) && n > 0 && n < 2 ** 60) return n;
    } catch {
      // not this cgroup version
    }
  }
  return undefined;
}

export function defaultModelMemoryBytes(): number {
  const limit = Math.min(cgroupMemoryLimit() ?? Infinity, os.totalmem());
  return Math.floor(limit * SHARE);
}

/**
 * Bytes of the eventId window per user remembered (src/input/dedup.ts): two map entries, the user's
 * token and id, a ring of `window` 8-byte hashes. Measured with Node 20 (heap and array buffers
 * after a full GC, 200,000 users with UUID ids): 483 B at a window of 1, 538 at 8, 971 at 64 —
 * about 475 + 8 × window; 560 + 8 × window leaves room for ids of up to ~80 characters.
 */
export function dedupBytesPerUser(window: number): number {
  return window === 0 ? 0 : 560 + 8 * window;
}

/** EVENT_DEDUP_MAX_USERS when unset: 100,000, or as many as a tenth of the memory budget holds. */
export function defaultDedupMaxUsers(window: number, budgetBytes: number): number {
  if (window === 0) return DEFAULT_DEDUP_MAX_USERS;
  return Math.max(
    1,
    Math.min(DEFAULT_DEDUP_MAX_USERS, Math.floor(budgetBytes / 10 / dedupBytesPerUser(window))),
  );
}

export const DEFAULT_DEDUP_MAX_USERS = 100_000;
