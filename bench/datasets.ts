// Event sources for benchmarks: a MovieLens-style CSV, or a seeded synthetic stream with
// Zipf-distributed items and heavy-tailed (Zipf) user activity.

import { readFileSync } from 'node:fs';

export interface EventStream {
  readonly name: string;
  /** Parallel arrays: user index, item index, event time (ms). */
  readonly users: Int32Array;
  readonly items: Int32Array;
  readonly times: Float64Array;
  readonly userNames: string[];
  readonly itemNames: string[];
}

/** Reads `userId,itemId[,rating][,timestamp]` rows (header optional); MovieLens timestamps are seconds. */
export function readCsv(path: string): EventStream {
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const userIdx = new Map<string, number>();
  const itemIdx = new Map<string, number>();
  const users: number[] = [];
  const items: number[] = [];
  const times: number[] = [];
  let start = 0;
  const first = lines[0] ?? '';
  if (/[a-zA-Z]/.test(first.split(',')[0] ?? '')) start = 1;
  const movieLens = /rating/i.test(first);
  for (let l = start; l < lines.length; l++) {
    const line = lines[l] as string;
    if (line.length === 0) continue;
    const f = line.split(',');
    const u = f[0] as string;
    const i = f[1] as string;
    const ts = movieLens ? Number(f[3]) * 1000 : f[2] !== undefined ? Number(f[2]) : l;
    let ui = userIdx.get(u);
    if (ui === undefined) userIdx.set(u, (ui = userIdx.size));
    let ii = itemIdx.get(i);
    if (ii === undefined) itemIdx.set(i, (ii = itemIdx.size));
    users.push(ui);
    items.push(ii);
    times.push(ts);
  }
  return {
    name: path,
    users: Int32Array.from(users),
    items: Int32Array.from(items),
    times: Float64Array.from(times),
    userNames: [...userIdx.keys()],
    itemNames: [...itemIdx.keys()],
  };
}

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function zipfSampler(n: number, s: number, rand: () => number): () => number {
  const cdf = new Float64Array(n);
  let acc = 0;
  for (let k = 0; k < n; k++) cdf[k] = acc += 1 / Math.pow(k + 1, s);
  for (let k = 0; k < n; k++) cdf[k] = (cdf[k] as number) / acc;
  return () => {
    const x = rand();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cdf[mid] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

export interface SyntheticShape {
  events: number;
  users: number;
  items: number;
  seed: number;
  itemSkew?: number;
  userSkew?: number;
}

export function synthetic(shape: SyntheticShape): EventStream {
  const rand = mulberry32(shape.seed);
  const item = zipfSampler(shape.items, shape.itemSkew ?? 0.9, rand);
  const user = zipfSampler(shape.users, shape.userSkew ?? 0.6, rand);
  const users = new Int32Array(shape.events);
  const items = new Int32Array(shape.events);
  const times = new Float64Array(shape.events);
  for (let e = 0; e < shape.events; e++) {
    users[e] = user();
    items[e] = item();
    times[e] = 1_500_000_000_000 + e;
  }
  return {
    name: `synthetic(events=${shape.events},users=${shape.users},items=${shape.items},seed=${shape.seed})`,
    users,
    items,
    times,
    userNames: Array.from({ length: shape.users }, (_, u) => `u${u}`),
    itemNames: Array.from({ length: shape.items }, (_, i) => `i${i}`),
  };
}
