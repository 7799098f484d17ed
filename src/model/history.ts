// One user's history H[u]: the item slots they hold, sorted (membership in O(log h), and the batch
// delta as a merge of sorted arrays), each with its arrival rank (the oldest interaction leaves first
// when a user reaches the per-user cap, and snapshots keep arrival order). 8 bytes per interaction;
// with INTERACTION_TTL_MS, 8 more: each interaction's time (occurredAt, epoch ms, exact in a float64),
// and the cap's "oldest" is then the one with the smallest (time, rank) — see ttl.ts.

const MAX_RANK = 0x7fffffff;

export class History {
  /** Item slots, ascending. */
  items: Int32Array;
  /** Arrival rank of items[p]: larger is newer; unique within the history. */
  private ranks: Int32Array;
  /** Time of items[p] (epoch ms), only when the model keeps times (INTERACTION_TTL_MS). */
  times: Float64Array | undefined;
  /** No time held is smaller (a lower bound: a delete leaves it as it was). Infinity: none. */
  minTime = Infinity;
  length = 0;
  private nextRank = 0;

  /** `firstRank` only for tests of the renumbering. */
  constructor(capacity = 4, firstRank = 0, timed = false) {
    this.items = new Int32Array(capacity);
    this.ranks = new Int32Array(capacity);
    this.times = timed ? new Float64Array(capacity) : undefined;
    this.nextRank = firstRank;
  }

  /** A history holding `arrival` (item slots, oldest first, no repeats), with their times if timed. */
  static fromArrival(arrival: Int32Array, times?: Float64Array): History {
    const h = new History(Math.max(4, arrival.length), 0, times !== undefined);
    const order = Array.from(arrival.keys()).sort((a, b) => (arrival[a] as number) - (arrival[b] as number));
    for (let p = 0; p < order.length; p++) {
      const at = order[p] as number;
      h.items[p] = arrival[at] as number;
      h.ranks[p] = at;
      if (h.times !== undefined && times !== undefined) {
        const t = times[at] as number;
        h.times[p] = t;
        if (t < h.minTime) h.minTime = t;
      }
      if (p > 0 && h.items[p] === h.items[p - 1]) throw new RangeError('history repeats an item');
    }
    h.length = arrival.length;
    h.nextRank = arrival.length;
    return h;
  }

  /** Index of x, or -(insertion point) - 1. */
  indexOf(x: number): number {
    const a = this.items;
    let lo = 0;
    let hi = this.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = a[mid] as number;
      if (v < x) lo = mid + 1;
      else if (v > x) hi = mid - 1;
      else return mid;
    }
    return -lo - 1;
  }

  has(x: number): boolean {
    return this.indexOf(x) >= 0;
  }

  /** Adds x as the newest interaction (at `time`, kept if timed); false if it was already there. */
  add(x: number, time = 0): boolean {
    const at = this.indexOf(x);
    if (at >= 0) return false;
    const pos = -at - 1;
    if (this.length === this.items.length) {
      const size = Math.max(4, this.items.length * 2);
      const items = new Int32Array(size);
      const ranks = new Int32Array(size);
      items.set(this.items);
      ranks.set(this.ranks);
      this.items = items;
      this.ranks = ranks;
      if (this.times !== undefined) {
        const times = new Float64Array(size);
        times.set(this.times);
        this.times = times;
      }
    }
    if (this.nextRank === MAX_RANK) this.renumber();
    this.items.copyWithin(pos + 1, pos, this.length);
    this.ranks.copyWithin(pos + 1, pos, this.length);
    this.items[pos] = x;
    this.ranks[pos] = this.nextRank++;
    if (this.times !== undefined) {
      this.times.copyWithin(pos + 1, pos, this.length);
      this.times[pos] = time;
      if (time < this.minTime) this.minTime = time;
    }
    this.length++;
    return true;
  }

  /** Removes x; false if it was not there. */
  delete(x: number): boolean {
    const at = this.indexOf(x);
    if (at < 0) return false;
    this.items.copyWithin(at, at + 1, this.length);
    this.ranks.copyWithin(at, at + 1, this.length);
    this.times?.copyWithin(at, at + 1, this.length);
    this.length--;
    return true;
  }

  /** Time of the held item x (timed histories; undefined when not held). */
  timeOf(x: number): number | undefined {
    const at = this.indexOf(x);
    return at < 0 || this.times === undefined ? undefined : this.times[at];
  }

  /**
   * A re-ADD of the held x at `time`: if it is later than the time held, x takes it and becomes the
   * newest arrival (true); otherwise nothing changes (false). Timed histories only.
   */
  refresh(x: number, time: number): boolean {
    const at = this.indexOf(x);
    if (at < 0 || this.times === undefined || !(time > (this.times[at] as number))) return false;
    if (this.nextRank === MAX_RANK) this.renumber();
    this.times[at] = time;
    this.ranks[at] = this.nextRank++;
    return true;
  }

  /**
   * The item that leaves first at the cap (O(h)); -1 when empty: the first to arrive, or, timed, the
   * one with the smallest time (ties: the first to arrive).
   */
  oldest(): number {
    let best = -1;
    let rank = Infinity;
    let time = Infinity;
    const times = this.times;
    for (let p = 0; p < this.length; p++) {
      const r = this.ranks[p] as number;
      const t = times === undefined ? 0 : (times[p] as number);
      if (t < time || (t === time && r < rank)) [time, rank, best] = [t, r, this.items[p] as number];
    }
    return best;
  }

  /** Held items with a time before `cutoff` (timed), ascending; minTime becomes exact. */
  before(cutoff: number): number[] {
    const out: number[] = [];
    const times = this.times;
    if (times === undefined || !(this.minTime < cutoff)) return out;
    let min = Infinity;
    for (let p = 0; p < this.length; p++) {
      const t = times[p] as number;
      if (t < cutoff) out.push(this.items[p] as number);
      else if (t < min) min = t;
    }
    this.minTime = min;
    return out;
  }

  /** A copy of the items, ascending. */
  sorted(): Int32Array {
    return this.items.slice(0, this.length);
  }

  /** A copy of the items, oldest first. */
  arrival(): Int32Array {
    return Int32Array.from(this.arrivalOrder(), (p) => this.items[p] as number);
  }

  /** The times of arrival()'s items, in its order (timed histories). */
  arrivalTimes(): Float64Array {
    const times = this.times;
    return Float64Array.from(this.arrivalOrder(), (p) => (times === undefined ? NaN : (times[p] as number)));
  }

  private arrivalOrder(): number[] {
    return Array.from({ length: this.length }, (_, p) => p).sort(
      (a, b) => (this.ranks[a] as number) - (this.ranks[b] as number),
    );
  }

  /** Ranks 0..h-1 in the same order: an add after 2³¹ arrivals must not overflow. */
  private renumber(): void {
    const order = Array.from({ length: this.length }, (_, p) => p).sort(
      (a, b) => (this.ranks[a] as number) - (this.ranks[b] as number),
    );
    order.forEach((p, rank) => (this.ranks[p] = rank));
    this.nextRank = this.length;
  }
}
