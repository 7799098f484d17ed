// One user of the user stage's table (user-table.ts): their record, the pair that leaves first at
// the cap, and their eventId ring resized to the window configured now.

export interface UserRecord {
  /** item → arrival rank (larger is newer). */
  readonly items: Map<string, number>;
  /** item → time (epoch ms), with INTERACTION_TTL_MS only. */
  readonly times: Map<string, number> | undefined;
  /** No time held is smaller (a lower bound). */
  minTime: number;
  nextRank: number;
  /** The last eventIds (53-bit hashes) in a ring; undefined while none. */
  ring: number[] | undefined;
  ringNext: number;
}

/** The pair that leaves first at the cap: the first to arrive, or, timed, the smallest (time, rank). */
export function oldest(u: UserRecord): string {
  let best = '';
  let rank = Infinity;
  let time = Infinity;
  for (const [item, r] of u.items) {
    const t = u.times?.get(item) ?? 0;
    if (t < time || (t === time && r < rank)) [time, rank, best] = [t, r, item];
  }
  return best;
}

/** A stored eventId ring and its next slot under the current window size (newest entries kept). */
export function resizeRing(ring: number[], next: number, window: number): [number[] | undefined, number] {
  if (window === 0) return [undefined, 0];
  if (ring.length === window) return [ring, next % window];
  const ordered = ring.map((_, k) => ring[(next + k) % ring.length]!).filter((h) => h >= 0);
  const kept = ordered.slice(-window);
  return [[...kept, ...new Array<number>(window - kept.length).fill(-1)], kept.length % window];
}
