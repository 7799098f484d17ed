// The storage behind the top-K index: per item, a buffer of up to B candidate slots with the C each
// had when last read (rows whose C changed since are stale and read C again), the reverse index of
// who holds whom as a candidate (watchers), and each row's last computed top K (to tell whether a
// changed candidate can reach it).

import { SET_BYTES, SET_ENTRY_BYTES } from './memory.js';
import type { Slice, Step } from './slice.js';
import { BitWatchers, SetWatchers, type Watchers } from './watchers.js';

export class CandidateBuffers {
  private cap = 0;
  /** Row k's candidates: buf[k·B .. k·B + len[k]), their C in bufC alike. */
  buf = new Int32Array(0);
  bufC = new Int32Array(0);
  len = new Uint16Array(0);
  /** Row k's C changed since its bufC was recorded. */
  private stale = new Uint8Array(0);
  watchers: Watchers = new BitWatchers();
  /** Per slot, the last keepOnly() that kept it (stamp). */
  private kept = new Uint32Array(0);
  private stamp = 0;
  /** Per row, its last computed top K: slots, count, and the K-th entry's similarity. */
  private topIds = new Int32Array(0);
  private topCount = new Uint16Array(0);
  private kthV = new Float64Array(0);

  constructor(
    readonly B: number,
    readonly K: number,
  ) {}

  /** The work of switching the watcher index to sets (for sparse catalogues), keeping its contents. */
  useSparseWatchers(): Step | undefined {
    if (this.watchers instanceof SetWatchers) return undefined;
    const sets = new SetWatchers();
    sets.grow(this.cap);
    let k = 0;
    return (slice: Slice) => {
      while (k < this.cap) {
        const len = this.len[k] as number;
        for (let p = 0; p < len; p++) sets.add(this.buf[k * this.B + p] as number, k);
        k++;
        if (slice.spend(len * 8)) return false;
      }
      this.watchers = sets;
      return true;
    };
  }

  /** Bytes of the watcher index as sets for `slots` slots (at most B candidates each). */
  setWatcherBytes(slots: number): number {
    return slots * (SET_BYTES + this.B * SET_ENTRY_BYTES);
  }

  /** Per-slot bytes of these arrays, for growth estimates. */
  get slotBytes(): number {
    return this.B * 8 + this.K * 4 + 19;
  }

  /** Makes slots [0, next) addressable (next ≥ the current capacity); returns the watcher index's growth. */
  grow(next: number): Step | undefined {
    if (next > this.cap) {
      const B = this.B;
      const widen = <T extends Int32Array | Uint16Array | Uint8Array | Float64Array>(
        a: T,
        make: new (n: number) => T,
        per: number,
      ): T => {
        const b = new make(next * per);
        b.set(a);
        return b;
      };
      this.buf = widen(this.buf, Int32Array, B);
      this.bufC = widen(this.bufC, Int32Array, B);
      this.len = widen(this.len, Uint16Array, 1);
      this.stale = widen(this.stale, Uint8Array, 1);
      this.kept = new Uint32Array(next);
      this.topIds = widen(this.topIds, Int32Array, this.K);
      this.topCount = widen(this.topCount, Uint16Array, 1);
      this.kthV = widen(this.kthV, Float64Array, 1);
      this.cap = next;
    }
    return this.watchers.grow(next);
  }

  /** Row i's candidates become ids[0..count) with counts cs[0..count). */
  set(i: number, ids: Int32Array, cs: Int32Array, count: number): void {
    const base = i * this.B;
    const w = this.watchers;
    for (let p = 0; p < (this.len[i] as number); p++) w.delete(this.buf[base + p] as number, i);
    this.buf.set(ids.subarray(0, count), base);
    this.bufC.set(cs.subarray(0, count), base);
    this.stale[i] = 0;
    this.len[i] = count;
    for (let p = 0; p < count; p++) w.add(ids[p] as number, i);
  }

  /** Appends j (C = c) to row k's candidates (not full, j not among them). */
  append(k: number, j: number, c: number): void {
    const len = this.len[k] as number;
    this.buf[k * this.B + len] = j;
    this.bufC[k * this.B + len] = c;
    this.len[k] = len + 1;
    this.watchers.add(j, k);
  }

  /** Row k keeps only ids[0..count) (a subset of its candidates, best first). */
  keepOnly(k: number, ids: Int32Array, cs: Int32Array, count: number): void {
    const base = k * this.B;
    const stamp = ++this.stamp;
    for (let p = 0; p < count; p++) this.kept[ids[p] as number] = stamp;
    for (let p = 0; p < (this.len[k] as number); p++) {
      const j = this.buf[base + p] as number;
      if (this.kept[j] !== stamp) this.watchers.delete(j, k);
    }
    this.buf.set(ids.subarray(0, count), base);
    this.bufC.set(cs.subarray(0, count), base);
    this.stale[k] = 0;
    this.len[k] = count;
  }

  /** Whether the last keepOnly(k) dropped a member of row k's last top K (then its list changed). */
  droppedTop(k: number): boolean {
    const base = k * this.K;
    for (let p = 0; p < (this.topCount[k] as number); p++)
      if (this.kept[this.topIds[base + p] as number] !== this.stamp) return true;
    return false;
  }

  markStale(i: number): void {
    this.stale[i] = 1;
  }

  isStale(i: number): boolean {
    return this.stale[i] === 1;
  }

  /** Row k's top K as just computed, for mayChange. */
  noteTop(k: number, ids: Int32Array, values: Float64Array, m: number): void {
    this.topIds.set(ids.subarray(0, m), k * this.K);
    this.topCount[k] = m;
    if (m > 0) this.kthV[k] = values[m - 1] as number;
  }

  /** Row k's last top K changes if i is in it or (v, i) now ranks before its K-th entry (v < 0: not eligible). */
  mayChange(k: number, i: number, v: number, names: readonly (string | undefined)[]): boolean {
    const K = this.K;
    const count = this.topCount[k] as number;
    const base = k * K;
    for (let p = 0; p < count; p++) if (this.topIds[base + p] === i) return true;
    if (v < 0) return false;
    if (count < K) return true;
    const kv = this.kthV[k] as number;
    return (
      v > kv || (v === kv && (names[i] as string) < (names[this.topIds[base + K - 1] as number] as string))
    );
  }

  /** Row i is gone: no candidates, no top. */
  clear(i: number): void {
    this.topCount[i] = 0;
    this.set(i, this.buf, this.bufC, 0);
  }

  bytes(): number {
    return (
      this.buf.byteLength +
      this.bufC.byteLength +
      this.len.byteLength +
      this.topIds.byteLength +
      this.kthV.byteLength +
      this.watchers.bytes()
    );
  }
}
