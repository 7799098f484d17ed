// Reverse membership of the candidate buffers: watched(i, k) ⇔ item i is in item k's buffer. When n_i
// changes, every row that holds i as a candidate must be re-ranked, and only those: the rows of i's
// watchers. Dense catalogues use an N×N bit matrix (N = 10k: 12 MB; row i is contiguous, so a row
// scan of C reads it sequentially); sparse ones a set per item.

export interface Watchers {
  ensureCapacity(items: number): void;
  has(i: number, k: number): boolean;
  add(i: number, k: number): void;
  delete(i: number, k: number): void;
  /** Calls f(k) for every k watching i. */
  forEach(i: number, f: (k: number) => void): void;
  bytes(): number;
}

export class BitWatchers implements Watchers {
  private cap = 0;
  private words = 0;
  private bits = new Uint32Array(0);

  ensureCapacity(items: number): void {
    if (items <= this.cap) return;
    const cap = Math.ceil(Math.max(items, this.cap * 1.25, 64) / 32) * 32;
    const words = cap >>> 5;
    const bits = new Uint32Array(cap * words);
    for (let i = 0; i < this.cap; i++)
      bits.set(this.bits.subarray(i * this.words, (i + 1) * this.words), i * words);
    this.cap = cap;
    this.words = words;
    this.bits = bits;
  }

  has(i: number, k: number): boolean {
    return ((this.bits[i * this.words + (k >>> 5)] as number) & (1 << (k & 31))) !== 0;
  }

  add(i: number, k: number): void {
    this.bits[i * this.words + (k >>> 5)] =
      (this.bits[i * this.words + (k >>> 5)] as number) | (1 << (k & 31));
  }

  delete(i: number, k: number): void {
    this.bits[i * this.words + (k >>> 5)] =
      (this.bits[i * this.words + (k >>> 5)] as number) & ~(1 << (k & 31));
  }

  forEach(i: number, f: (k: number) => void): void {
    const base = i * this.words;
    for (let w = 0; w < this.words; w++) {
      let x = this.bits[base + w] as number;
      while (x !== 0) {
        const low = x & -x;
        f((w << 5) + 31 - Math.clz32(low));
        x ^= low;
      }
    }
  }

  /** The raw row of i (for scans that walk C's row i in step). */
  row(i: number): { bits: Uint32Array; base: number } {
    return { bits: this.bits, base: i * this.words };
  }

  bytes(): number {
    return this.bits.byteLength;
  }
}

export class SetWatchers implements Watchers {
  private sets: (Set<number> | undefined)[] = [];
  /** Non-empty sets and their entries, for an O(1) size estimate. */
  private live = 0;
  private entries = 0;

  ensureCapacity(items: number): void {
    while (this.sets.length < items) this.sets.push(undefined);
  }

  has(i: number, k: number): boolean {
    return this.sets[i]?.has(k) ?? false;
  }

  add(i: number, k: number): void {
    let s = this.sets[i];
    if (s === undefined) {
      s = this.sets[i] = new Set();
      this.live++;
    }
    const size = s.size;
    s.add(k);
    this.entries += s.size - size;
  }

  delete(i: number, k: number): void {
    const s = this.sets[i];
    if (s === undefined || !s.delete(k)) return;
    this.entries--;
    if (s.size === 0) {
      this.sets[i] = undefined;
      this.live--;
    }
  }

  forEach(i: number, f: (k: number) => void): void {
    this.sets[i]?.forEach((k) => f(k));
  }

  bytes(): number {
    return this.sets.length * 8 + this.live * 40 + this.entries * 16;
  }
}
