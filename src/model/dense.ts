// C as a dense N×N Uint16 square, both directions, in tiles of 256 rows × 2048 columns (row-major
// inside a tile, so a row is 2048-cell runs, one per tile of its tile row); counts ≥ 65535 are kept
// exactly in an overflow map keyed by cell. Growing the square adds tile rows and tile columns and
// never moves a cell: no copy, and no capacity beyond the next multiples of 256 and 2048. Tiles are carved out of
// slabs that grow up to 33 MiB (above glibc's largest mmap threshold: mapped lazily, zero pages not
// resident until written, returned whole when the model goes).

import type { CooccurrenceStore } from './cooccurrence.js';
import type { Slice, Step } from './slice.js';

/** A cell holding this has its exact count (≥ 65535) in the overflow map. */
export const SAT = 0xffff;
/** Tiles are 256 rows × 2048 columns: a row is 4 KiB runs, long enough for the hardware prefetcher. */
const ROW_SHIFT = 8;
export const COL_SHIFT = 11;
const ROW_MASK = (1 << ROW_SHIFT) - 1;
const COL_MASK = (1 << COL_SHIFT) - 1;
const TILE_CELLS = 1 << (ROW_SHIFT + COL_SHIFT);
const MAX_SLAB_TILES = Math.floor((33 * 2 ** 20) / (TILE_CELLS * 2)) + 1;
/** Overflow keys: i * KEY + j. */
const KEY = 2 ** 26;
/** Without a memory budget, the square stays under this (then C becomes sparse rows). */
export const UNBUDGETED_DENSE_BYTES = 2 ** 31;

export class DenseCooccurrence implements CooccurrenceStore {
  readonly kind = 'dense' as const;
  /** tiles[ti][tj]: cells (ti·256 + r, tj·2048 + c) at r·2048 + c. */
  private tiles: Uint16Array[][] = [];
  /** Tile rows and tile columns allocated. */
  private rowTiles = 0;
  private colTiles = 0;
  /** Slots requested so far: row scans stop here. */
  private width = 0;
  private slab = new Uint16Array(0);
  private slabUsed = 0;
  private slabTiles = 1;
  private overflow = new Map<number, number>();
  nonzeros = 0;

  /** `maxBytes`: the largest square this store may grow to (beyond it, growthBytes is Infinity). */
  constructor(private readonly maxBytes = Infinity) {}

  get capacity(): number {
    return Math.min(this.rowTiles << ROW_SHIFT, this.colTiles << COL_SHIFT);
  }

  /** Tiles a square of `items` slots needs (tile rows × tile columns). */
  private static tilesFor(items: number): [number, number] {
    return [Math.ceil(items / (1 << ROW_SHIFT)), Math.ceil(items / (1 << COL_SHIFT))];
  }

  growthBytes(items: number): number {
    if (items <= this.capacity) return 0;
    const [rt, ct] = DenseCooccurrence.tilesFor(items);
    const r = Math.max(rt, this.rowTiles);
    const c = Math.max(ct, this.colTiles);
    if (r * c * TILE_CELLS * 2 > this.maxBytes) return Infinity;
    return (r * c - this.rowTiles * this.colTiles) * TILE_CELLS * 2;
  }

  grow(items: number): Step | undefined {
    if (items <= this.capacity) {
      this.width = Math.max(this.width, items);
      return undefined;
    }
    const [rt, ct] = DenseCooccurrence.tilesFor(items);
    const rows = Math.max(rt, this.rowTiles);
    const cols = Math.max(ct, this.colTiles);
    let ti = 0;
    return (slice: Slice) => {
      // New tiles: columns [colTiles, cols) of the existing tile rows, then whole new tile rows.
      while (ti < rows) {
        const row = (this.tiles[ti] ??= []);
        for (let tj = ti < this.rowTiles ? this.colTiles : 0; tj < cols; tj++) row[tj] = this.tile();
        ti++;
        if (slice.spend(1 << ROW_SHIFT)) return false;
      }
      this.rowTiles = rows;
      this.colTiles = cols;
      this.width = Math.max(this.width, items);
      return true;
    };
  }

  /** A zeroed tile, carved from the current slab (slabs double up to ~33 MiB). */
  private tile(): Uint16Array {
    if (this.slabUsed === this.slab.length) {
      this.slab = new Uint16Array(this.slabTiles * TILE_CELLS);
      this.slabUsed = 0;
      this.slabTiles = Math.min(MAX_SLAB_TILES, this.slabTiles * 2);
    }
    const t = this.slab.subarray(this.slabUsed, this.slabUsed + TILE_CELLS);
    this.slabUsed += TILE_CELLS;
    return t;
  }

  /** The tiles of row i's tile row and the offset of row i inside each of them. */
  tileRow(i: number): {
    readonly tiles: readonly Uint16Array[];
    readonly offset: number;
    readonly width: number;
  } {
    return {
      tiles: this.tiles[i >>> ROW_SHIFT] as Uint16Array[],
      offset: (i & ROW_MASK) << COL_SHIFT,
      width: this.width,
    };
  }

  get(i: number, j: number): number {
    const t = (this.tiles[i >>> ROW_SHIFT] as Uint16Array[])[j >>> COL_SHIFT] as Uint16Array;
    const v = t[((i & ROW_MASK) << COL_SHIFT) | (j & COL_MASK)] as number;
    return v === SAT ? (this.overflow.get(i * KEY + j) as number) : v;
  }

  addRow(i: number, cols: Int32Array, len: number, delta: 1 | -1): void {
    const row = this.tiles[i >>> ROW_SHIFT] as Uint16Array[];
    const off = (i & ROW_MASK) << COL_SHIFT;
    // Fast path, without a branch on the data: a count that stays within [0, SAT − 1] on both
    // sides of the change (v in [lo, lo + SAT − 2], one unsigned comparison); a cell created (0 → 1)
    // or emptied (1 → 0) counts as (v − lo − 1) >>> 31 (1 exactly when v = lo). The rest goes
    // through the overflow map: a count at or beyond 65535 — or going negative (it throws). The
    // diagonal is skipped (its cell always holds 0).
    const lo = delta === 1 ? 0 : 1;
    let nz = 0;
    // Columns come ascending (any order works): a tile is looked up when they move into another.
    for (let k = 0; k < len;) {
      const tj = (cols[k] as number) >>> COL_SHIFT;
      const t = row[tj] as Uint16Array;
      for (; k < len; k++) {
        const c = cols[k] as number;
        if (c >>> COL_SHIFT !== tj) break;
        if (c === i) continue;
        const at = off | (c & COL_MASK);
        const v = t[at] as number;
        if ((v - lo) >>> 0 < SAT - 1) {
          t[at] = v + delta;
          nz += (v - lo - 1) >>> 31;
        } else this.addRare(t, at, i, c, v, delta);
      }
    }
    nz *= delta;
    this.nonzeros += nz;
  }

  /** A cell off the fast path: at or near 65535, or (v = 0, delta −1) going negative. */
  private addRare(t: Uint16Array, at: number, i: number, c: number, v: number, delta: 1 | -1): void {
    if (v === 0) throw new RangeError(`co-occurrence of ${i},${c} would go negative`);
    this.bumpOverflow(t, at, i * KEY + c, v, delta);
  }

  /** A count at or beyond 65535: the cell holds SAT and the map the exact count. */
  private bumpOverflow(t: Uint16Array, at: number, key: number, v: number, delta: 1 | -1): void {
    const exact = (v === SAT ? (this.overflow.get(key) as number) : v) + delta;
    if (exact >= SAT) {
      t[at] = SAT;
      this.overflow.set(key, exact);
    } else {
      t[at] = exact;
      this.overflow.delete(key);
    }
  }

  row(i: number, outIdx: Int32Array, outCnt: Int32Array, from = 0): number {
    const row = this.tiles[i >>> ROW_SHIFT] as Uint16Array[];
    const off = (i & ROW_MASK) << COL_SHIFT;
    const width = this.width;
    let n = 0;
    for (let tj = from >>> COL_SHIFT; tj << COL_SHIFT < width; tj++) {
      const t = row[tj] as Uint16Array;
      // Cell p of the tile is column p - shift.
      const shift = off - (tj << COL_SHIFT);
      const start = off + Math.max(0, from - (tj << COL_SHIFT));
      const end = off + Math.min(1 << COL_SHIFT, width - (tj << COL_SHIFT));
      // Without a branch on the data (rows of heavy users' items are half full: a branch would be
      // mispredicted every other cell): each cell is written at the next free place, which advances
      // only past a nonzero one ((v + 0xffff) >>> 16 is 1 exactly when v ≠ 0, v < 2^16).
      for (let p = start; p < end; p++) {
        const v = t[p] as number;
        outIdx[n] = p - shift;
        outCnt[n] = v;
        n += (v + 0xffff) >>> 16;
      }
    }
    if (this.overflow.size > 0)
      for (let e = 0; e < n; e++)
        if (outCnt[e] === SAT) outCnt[e] = this.overflow.get(i * KEY + (outIdx[e] as number)) as number;
    return n;
  }

  rowBound(): number {
    return this.width;
  }

  /** Bytes of the tiles (slab space not yet carved is not counted: it is never touched). */
  bytes(): number {
    return this.rowTiles * this.colTiles * TILE_CELLS * 2 + this.overflow.size * 48;
  }

  boundBytes(): number {
    return this.bytes();
  }
}
