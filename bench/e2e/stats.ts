// Small numeric and machine helpers shared by the end-to-end benchmarks.
import os from 'node:os';

/** Hi-res epoch milliseconds: comparable across the bench's threads and its service child. */
export const now = (): number => performance.timeOrigin + performance.now();

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Nearest-rank quantile of an ascending array (NaN when empty). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

export function median(xs: readonly number[]): number {
  return quantile(
    [...xs].sort((a, b) => a - b),
    0.5,
  );
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** p50/p90/p99/max of latencies in ms (one decimal). */
export function latencySummary(values: ArrayLike<number>): {
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
} {
  const sorted = Float64Array.from(values)
    .filter((v) => !Number.isNaN(v))
    .sort();
  return {
    count: sorted.length,
    p50Ms: round(quantile(sorted, 0.5), 1),
    p90Ms: round(quantile(sorted, 0.9), 1),
    p99Ms: round(quantile(sorted, 0.99), 1),
    maxMs: round(quantile(sorted, 1), 1),
  };
}

/** The 1-minute load average, to print beside each figure (the cores are shared). */
export function load1(): number {
  return round(os.loadavg()[0] ?? NaN, 2);
}

export function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model,
    totalMemBytes: os.totalmem(),
    node: process.version,
    loadavg: os.loadavg().map((l) => round(l, 2)),
  };
}

/** Counts in `after` minus those in `before`, keeping only the ones that grew. */
export function countsSince(
  before: Readonly<Record<string, number>>,
  after: Readonly<Record<string, number>>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v > (before[k] ?? 0)) out[k] = v - (before[k] ?? 0);
  return out;
}
