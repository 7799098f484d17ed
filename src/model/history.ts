// One user's history H[u]: the item slots they hold, sorted (membership in O(log h), and the batch
// delta as a merge of sorted arrays), each with its arrival rank (the oldest interaction leaves first
// when a user reaches the per-user cap, and snapshots keep arrival order). 8 bytes per interaction.

const MAX_RANK = 0x7fffffff;

export class History {
  /** Item slots, ascending. */
  items: Int32Array;
  /** Arrival rank of items[p]: larger is newer; unique within the history. */
  private ranks: Int32Array;
  length = 0;
  private nextRank = 0;

  /** `firstRank` only for tests of the renumbering. */
  constructor(capacity = 4, firstRank = 0) {
    this.items = new Int32Array(capacity);
    this.ranks = new Int32Array(capacity);
    this.nextRank = firstRank;
  }

  /** A history holding `arrival` (item slots, oldest first, no repeats). */
  static fromArrival(arrival: Int32Array): History {
    const h = new History(Math.max(4, arrival.length));
    const order = Array.from(arrival.keys()).sort((a, b) => (arrival[a] as number) - (arrival[b] as number));
    for (let p = 0; p < order.length; p++) {
      const at = order[p] as number;
      h.items[p] = arrival[at] as number;
      h.ranks[p] = at;
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

  /** Adds x as the newest interaction; false if it was already there. */
  add(x: number): boolean {
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
    }
    if (this.nextRank === MAX_RANK) this.renumber();
    this.items.copyWithin(pos + 1, pos, this.length);
    this.ranks.copyWithin(pos + 1, pos, this.length);
    this.items[pos] = x;
    this.ranks[pos] = this.nextRank++;
    this.length++;
    return true;
  }

  /** Removes x; false if it was not there. */
  delete(x: number): boolean {
    const at = this.indexOf(x);
    if (at < 0) return false;
    this.items.copyWithin(at, at + 1, this.length);
    this.ranks.copyWithin(at, at + 1, this.length);
    this.length--;
    return true;
  }

  /** The item that arrived first among those held (O(h)); -1 when empty. */
  oldest(): number {
    let best = -1;
    let rank = Infinity;
    for (let p = 0; p < this.length; p++) {
      const r = this.ranks[p] as number;
      if (r < rank) [rank, best] = [r, this.items[p] as number];
    }
    return best;
  }

  /** A copy of the items, ascending. */
  sorted(): Int32Array {
    return this.items.slice(0, this.length);
  }

  /** A copy of the items, oldest first. */
  arrival(): Int32Array {
    const order = Array.from({ length: this.length }, (_, p) => p).sort(
      (a, b) => (this.ranks[a] as number) - (this.ranks[b] as number),
    );
    return Int32Array.from(order, (p) => this.items[p] as number);
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
