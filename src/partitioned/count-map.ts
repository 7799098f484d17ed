// A map from int keys (item slots: small, dense, ≥ 0) to positive int counts in typed arrays, in one
// of two layouts chosen by what takes less memory:
// - sparse: linear probing over a power-of-two table (load ≤ 0.75), backward-shift deletion so that
//   a count returning to 0 frees its cell — ≈ 10–21 bytes per entry, where a JS Map takes 40–80;
// - dense: one Uint32 per key up to the largest key seen (4 bytes per key of the span), taken when
//   the sparse table would grow to nearly that size (DENSE_SLACK) (a C row holding a good share of the items:
//   on MovieLens most of the cells) and left when fewer than one key in eight is present. A dense
//   update is an array increment instead of a probe, and a dense map never resizes by rehashing.
// The item stage keeps one per owned C row (item slot → c_ij) and one per column of its index (item
// slot → owned rows containing it).

const EMPTY = -1;
/** The arrays of a dense map's unused sparse layout (shared: never written). */
const NO_KEYS = new Int32Array(0);
const NO_VALS = new Uint32Array(0);
/**
 * V8's cost of the objects themselves, measured (Node 20, x64; test/partitioned/count-map.test.ts
 * holds the estimate to the heap): a CountMap ≈ 80 bytes, a typed array with its ArrayBuffer ≈ 185
 * besides its elements. Small maps are mostly this: a column naming 1–3 rows takes ≈ 460 bytes, not 32.
 */
export const MAP_OBJECT_BYTES = 80;
export const TYPED_ARRAY_BYTES = 185;
/** A dense map goes back to sparse below one present key in this many of its span. */
const SPARSE_BELOW = 8;
/**
 * A growing sparse table turns dense when the dense layout takes at most this much more than the
 * table it would grow to (the next doubling would take more still; counting on slots is faster).
 */
const DENSE_SLACK = 1.25;

export class CountMap {
  private keys: Int32Array;
  private vals: Uint32Array;
  private mask: number;
  /** The dense layout's counts by key (undefined: sparse). */
  private dense: Uint32Array | undefined;
  size = 0;

  constructor(capacity = 4) {
    this.keys = new Int32Array(capacity).fill(EMPTY);
    this.vals = new Uint32Array(capacity);
    this.mask = capacity - 1;
  }

  private home(key: number): number {
    return (Math.imul(key, 0x9e3779b1) >>> 0) & this.mask;
  }

  /**
   * Bytes held: the object and its arrays (sparse: two, 4 + 4 bytes per slot; dense: one, 4 bytes
   * per key of the span). O(1): read on every row change.
   */
  get bytes(): number {
    return this.dense
      ? MAP_OBJECT_BYTES + TYPED_ARRAY_BYTES + this.dense.length * 4
      : MAP_OBJECT_BYTES + 2 * TYPED_ARRAY_BYTES + (this.mask + 1) * 8;
  }

  get(key: number): number {
    if (this.dense) return this.dense[key] ?? 0;
    for (let s = this.home(key); ; s = (s + 1) & this.mask) {
      const k = this.keys[s]!;
      if (k === key) return this.vals[s]!;
      if (k === EMPTY) return 0;
    }
  }

  /** Adds delta (±1) to key's count; +1 when a cell was created, −1 when one was freed, else 0. */
  add(key: number, delta: number): number {
    const dense = this.dense;
    if (dense) {
      if (key < dense.length) {
        const was = dense[key]!;
        const v = was + delta;
        if (v < 0) throw new RangeError(`count of ${key} would go negative`);
        dense[key] = v;
        if (v === 0) return this.removedDense();
        if (was > 0) return 0;
        this.size++;
        return 1;
      }
      if (delta < 0) throw new RangeError(`count of ${key} would go negative`);
      this.growDense(key);
      this.dense![key] = delta;
      this.size++;
      return 1;
    }
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
    if (this.dense) {
      const d = this.dense;
      for (let k = 0; k < d.length; k++) if (d[k] !== 0) fn(k, d[k]!);
      return;
    }
    const { keys, vals } = this;
    for (let s = 0; s < keys.length; s++) {
      const k = keys[s]!;
      if (k !== EMPTY) fn(k, vals[s]!);
    }
  }

  /** Whether the map is in its dense layout (tests). */
  get isDense(): boolean {
    return this.dense !== undefined;
  }

  private removedDense(): number {
    this.size--;
    if (this.size * SPARSE_BELOW < this.dense!.length) this.toSparse();
    return -1;
  }

  private growDense(key: number): void {
    const old = this.dense!;
    const d = new Uint32Array(Math.max(key + 1, Math.ceil(old.length * 1.5)));
    d.set(old);
    this.dense = d;
  }

  private toSparse(): void {
    const d = this.dense!;
    this.dense = undefined;
    let capacity = 16;
    while (capacity * 3 < this.size * 4 * 2) capacity *= 2;
    this.fill(capacity, (put) => {
      for (let k = 0; k < d.length; k++) if (d[k] !== 0) put(k, d[k]!);
    });
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

  /**
   * A new sparse table of `capacity`, or the dense layout when that takes little more bytes and
   * enough keys are present not to leave it again soon (SPARSE_BELOW: 1.5 against 1, hysteresis).
   */
  private resize(capacity: number): void {
    const { keys, vals } = this;
    let span = 0;
    for (let s = 0; s < keys.length; s++) if (keys[s]! >= span) span = keys[s]! + 1;
    if (span * 4 <= capacity * 8 * DENSE_SLACK && this.size * SPARSE_BELOW >= span * 1.5) {
      const d = new Uint32Array(span);
      for (let s = 0; s < keys.length; s++) if (keys[s] !== EMPTY) d[keys[s]!] = vals[s]!;
      this.dense = d;
      this.keys = NO_KEYS;
      this.vals = NO_VALS;
      this.mask = 0;
      return;
    }
    this.fill(capacity, (put) => {
      for (let s = 0; s < keys.length; s++) if (keys[s] !== EMPTY) put(keys[s]!, vals[s]!);
    });
  }

  private fill(capacity: number, each: (put: (key: number, count: number) => void) => void): void {
    this.keys = new Int32Array(capacity).fill(EMPTY);
    this.vals = new Uint32Array(capacity);
    this.mask = capacity - 1;
    each((k, v) => {
      let t = this.home(k);
      while (this.keys[t] !== EMPTY) t = (t + 1) & this.mask;
      this.keys[t] = k;
      this.vals[t] = v;
    });
  }
}
