// Reverse membership of the candidate buffers: watched(i, k) ⇔ item i is in item k's buffer. When n_i
// changes, every row that holds i as a candidate must be re-ranked, and only those: the rows of i's
// watchers. Dense catalogues use an N×N bit matrix (N = 10k: 12 MB; row i is contiguous, so a row
// scan of C reads it sequentially); sparse ones a set per item.

import { SET_BYTES, SET_ENTRY_BYTES } from './memory.js';
import type { Slice, Step } from './slice.js';

export interface Watchers {
  /** Bytes that making slots [0, items) addressable would newly allocate. */
  growthBytes(items: number): number;
  /** Makes slots [0, items) addressable: undefined when they are, else the (sliceable) work. */
  grow(items: number): Step | undefined;
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

  private nextCap(items: number): number {
    return Math.ceil(Math.max(items, this.cap * 1.25, 64) / 32) * 32;
  }

  growthBytes(items: number): number {
    if (items <= this.cap) return 0;
    const cap = this.nextCap(items);
    return cap * (cap >>> 5) * 4;
  }

  grow(items: number): Step | undefined {
    if (items <= this.cap) return undefined;
    const cap = this.nextCap(items);
    const words = cap >>> 5;
    const bits = new Uint32Array(cap * words);
    let i = 0;
    return (slice: Slice) => {
      while (i < this.cap) {
        bits.set(this.bits.subarray(i * this.words, (i + 1) * this.words), i * words);
        i++;
        if (slice.spend(this.words)) return false;
      }
      this.cap = cap;
      this.words = words;
      this.bits = bits;
      return true;
    };
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

  growthBytes(items: number): number {
    return Math.max(0, items - this.sets.length) * 8;
  }

  grow(items: number): Step | undefined {
    while (this.sets.length < items) this.sets.push(undefined);
    return undefined;
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
    return this.sets.length * 8 + this.live * SET_BYTES + this.entries * SET_ENTRY_BYTES;
  }
}
