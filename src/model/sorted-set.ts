// Growable sorted Int32 sets: a user's history H[u] as item slots, ascending, 4 bytes per entry.
// Sorted order makes row updates cache-friendly and the batch delta (added/removed/kept) a merge.

export class SortedIntSet {
  items: Int32Array;
  length = 0;

  constructor(capacity = 4) {
    this.items = new Int32Array(capacity);
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

  /** Adds x; false if it was already there. */
  add(x: number): boolean {
    const at = this.indexOf(x);
    if (at >= 0) return false;
    const pos = -at - 1;
    if (this.length === this.items.length) {
      const grown = new Int32Array(Math.max(4, this.items.length * 2));
      grown.set(this.items);
      this.items = grown;
    }
    this.items.copyWithin(pos + 1, pos, this.length);
    this.items[pos] = x;
    this.length++;
    return true;
  }

  /** Removes x; false if it was not there. */
  delete(x: number): boolean {
    const at = this.indexOf(x);
    if (at < 0) return false;
    this.items.copyWithin(at, at + 1, this.length);
    this.length--;
    return true;
  }

  /** A copy of the current contents (exact length). */
  snapshot(): Int32Array {
    return this.items.slice(0, this.length);
  }

  toArray(): number[] {
    return Array.from(this.items.subarray(0, this.length));
  }
}
