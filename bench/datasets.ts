// Event sources for benchmarks: a MovieLens-style CSV, or a seeded synthetic stream with
// Zipf-distributed items and heavy-tailed (Zipf) user activity.

import { readFileSync } from 'node:fs';
import type { InteractionEvent } from '../src/model/index.js';

export interface EventStream {
  readonly name: string;
  /** Parallel arrays: user index, item index, event time (ms). */
  readonly users: Int32Array;
  readonly items: Int32Array;
  readonly times: Float64Array;
  readonly userNames: string[];
  readonly itemNames: string[];
}

/** Event e of the stream as the ADD the model takes. */
export function addOf(s: EventStream, e: number): InteractionEvent {
  return {
    userId: s.userNames[s.users[e] as number] as string,
    itemId: s.itemNames[s.items[e] as number] as string,
    action: 'ADD',
    occurredAt: s.times[e] as number,
  };
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

/** The events in event-time order (stable): the order a live system would have seen them in. */
export function byTime(s: EventStream): EventStream {
  const order = Array.from(s.users.keys()).sort((a, b) => s.times[a]! - s.times[b]! || a - b);
  return {
    name: s.name,
    users: Int32Array.from(order, (k) => s.users[k]!),
    items: Int32Array.from(order, (k) => s.items[k]!),
    times: Float64Array.from(order, (k) => s.times[k]!),
    userNames: s.userNames,
    itemNames: s.itemNames,
  };
}

/** Each user's item ids, in stream order. */
export function itemsByUser(s: EventStream): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (let e = 0; e < s.users.length; e++) {
    const u = s.users[e] as number;
    let list = out.get(u);
    if (list === undefined) out.set(u, (list = []));
    list.push(s.itemNames[s.items[e] as number] as string);
  }
  return out;
}

/** The forget benchmarks' users: the heaviest, and the others in a seeded shuffle (seed 7). */
export function forgetOrder(userItems: ReadonlyMap<number, readonly string[]>): {
  heaviest: number;
  others: number[];
} {
  const heaviest = [...userItems].sort((a, b) => b[1].length - a[1].length)[0]?.[0] as number;
  const others = [...userItems.keys()].filter((u) => u !== heaviest);
  const rand = mulberry32(7);
  for (let i = others.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [others[i], others[j]] = [others[j] as number, others[i] as number];
  }
  return { heaviest, others };
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

/** MovieLens 20M: 20,000,263 ratings by 138,493 users of 26,744 movies (max 9,254 per user). */
export const ML20M = { events: 20_000_263, users: 138_493, items: 26_744, maxPerUser: 9_254, minPerUser: 20 };

/**
 * A stream shaped like MovieLens 20M: per-user activity 20 + A·r^-0.41 for the user of rank r (mean
 * ≈ 144, max ≈ 9,254, as in ML-20M), items Zipf(0.9) without repeats within a user, users active in
 * sessions of 10–200 events interleaved at random. `events` < the full size keeps the first ones.
 */
export function syntheticMl20m(seed = 42, events = ML20M.events): EventStream {
  const rand = mulberry32(seed);
  const { users: U, items: I, maxPerUser, minPerUser } = ML20M;
  const alpha = 0.41;
  const perUser = new Int32Array(U);
  let total = 0;
  for (let r = 0; r < U; r++) total += Math.pow(r + 1, -alpha);
  const scale = (ML20M.events - U * minPerUser) / total;
  for (let r = 0; r < U; r++)
    perUser[r] = Math.min(maxPerUser, minPerUser + Math.round(scale * Math.pow(r + 1, -alpha)));
  // Sessions: (user, length) blocks, shuffled.
  const sessionUser: number[] = [];
  const sessionLen: number[] = [];
  for (let u = 0; u < U; u++) {
    for (let left = perUser[u] as number; left > 0;) {
      const len = Math.min(left, 10 + Math.floor(rand() * 190));
      sessionUser.push(u);
      sessionLen.push(len);
      left -= len;
    }
  }
  for (let s = sessionUser.length - 1; s > 0; s--) {
    const t = Math.floor(rand() * (s + 1));
    [sessionUser[s], sessionUser[t]] = [sessionUser[t] as number, sessionUser[s] as number];
    [sessionLen[s], sessionLen[t]] = [sessionLen[t] as number, sessionLen[s] as number];
  }
  const item = zipfSampler(I, 0.9, rand);
  const held = new Map<number, Set<number>>();
  const n = Math.min(events, ML20M.events);
  const users = new Int32Array(n);
  const items = new Int32Array(n);
  const times = new Float64Array(n);
  let e = 0;
  for (let s = 0; s < sessionUser.length && e < n; s++) {
    const u = sessionUser[s] as number;
    let mine = held.get(u);
    if (mine === undefined) held.set(u, (mine = new Set()));
    for (let k = 0; k < (sessionLen[s] as number) && e < n; k++) {
      let i = item();
      // A repeat of a popular item: any item the user does not hold yet, uniformly.
      while (mine.has(i)) i = Math.floor(rand() * I);
      mine.add(i);
      users[e] = u;
      items[e] = i;
      times[e] = 1_500_000_000_000 + e;
      e++;
    }
  }
  return {
    name: `synthetic-ml20m(events=${n},users=${U},items=${I},seed=${seed})`,
    users: users.subarray(0, e),
    items: items.subarray(0, e),
    times: times.subarray(0, e),
    userNames: Array.from({ length: U }, (_, u) => `u${u}`),
    itemNames: Array.from({ length: I }, (_, i) => `i${i}`),
  };
}
