// A map from int keys to positive int counts in typed arrays: linear probing over a power-of-two
// table (load ≤ 0.75), backward-shift deletion so that a count returning to 0 frees its cell. The
// item stage keeps one per owned C row (item slot → c_ij) and one per column of its index (item
// slot → owned rows containing it): ≈ 10–13 bytes per entry, where a JS Map takes 40–80.

const EMPTY = -1;

export class CountMap {
  private keys: Int32Array;
  private vals: Uint32Array;
  private mask: number;
  size = 0;

  constructor(capacity = 4) {
    this.keys = new Int32Array(capacity).fill(EMPTY);
    this.vals = new Uint32Array(capacity);
    this.mask = capacity - 1;
  }

  private home(key: number): number {
    return (Math.imul(key, 0x9e3779b1) >>> 0) & this.mask;
  }

  /** Bytes of the two arrays (4 + 4 per slot); from the mask, a plain field (read on every row change). */
  get bytes(): number {
    return (this.mask + 1) * 8;
  }

  get(key: number): number {
    for (let s = this.home(key); ; s = (s + 1) & this.mask) {
      const k = this.keys[s]!;
      if (k === key) return this.vals[s]!;
      if (k === EMPTY) return 0;
    }
  }

  /** Adds delta (±1) to key's count; +1 when a cell was created, −1 when one was freed, else 0. */
  add(key: number, delta: number): number {
    const keys = this.keys;
    let s = this.home(key);
    for (; ; s = (s + 1) & this.mask) {
      const k = keys[s]!;
      if (k === key) break;
      if (k === EMPTY) {
        if (delta < 0) throw new RangeError(`count of ${key} would go negative`);
        keys[s] = key;
        this.vals[s] = delta;
        if (++this.size * 4 > keys.length * 3) this.resize(keys.length * 2);
        return 1;
      }
    }
    const v = this.vals[s]! + delta;
    if (v < 0) throw new RangeError(`count of ${key} would go negative`);
    if (v > 0) {
      this.vals[s] = v;
      return 0;
    }
    this.removeAt(s);
    return -1;
  }

  /** Calls fn(key, count) for every entry (the map must not change meanwhile). */
  forEach(fn: (key: number, count: number) => void): void {
    const { keys, vals } = this;
    for (let s = 0; s < keys.length; s++) {
      const k = keys[s]!;
      if (k !== EMPTY) fn(k, vals[s]!);
    }
  }

  private removeAt(slot: number): void {
    const { keys, vals, mask } = this;
    let hole = slot;
    for (let s = (slot + 1) & mask; keys[s] !== EMPTY; s = (s + 1) & mask) {
      const h = this.home(keys[s]!);
      // Move s into the hole unless its home lies cyclically in (hole, s].
      if (hole <= s ? h <= hole || h > s : h <= hole && h > s) {
        keys[hole] = keys[s]!;
        vals[hole] = vals[s]!;
        hole = s;
      }
    }
    keys[hole] = EMPTY;
    vals[hole] = 0;
    this.size--;
    if (this.keys.length > 16 && this.size * 8 < this.keys.length) this.resize(this.keys.length / 2);
  }

  private resize(capacity: number): void {
    const { keys, vals } = this;
    this.keys = new Int32Array(capacity).fill(EMPTY);
    this.vals = new Uint32Array(capacity);
    this.mask = capacity - 1;
    for (let s = 0; s < keys.length; s++) {
      const k = keys[s]!;
      if (k === EMPTY) continue;
      let t = this.home(k);
      while (this.keys[t] !== EMPTY) t = (t + 1) & this.mask;
      this.keys[t] = k;
      this.vals[t] = vals[s]!;
    }
  }
}
