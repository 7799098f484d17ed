// The co-occurrence matrix C = HᵀH (off-diagonal), symmetric, stored in both directions so that a row
// is contiguous: row updates and row scans are what forgetting and top-K maintenance cost.
//
// Two representations behind one interface:
// - DenseCooccurrence (dense.ts): an N×N Uint16 square, counts ≥ 65535 kept exactly in an overflow map.
//   Fastest; used while the square fits the memory budget.
// - SparseCooccurrence (sparse.ts): one linear-probing hash per row in typed arrays, for catalogues
//   beyond that.
// Making room for more items can mean copying the whole square (or converting it to sparse rows):
// that work is a resumable Step, run in slices inside a flush.

import type { Step } from './slice.js';

/** What the top-K index may read of C. */
export interface CooccurrenceReader {
  get(i: number, j: number): number;
  /**
   * Copies the nonzero entries of row i with a column ≥ `from` (ascending column for dense, any order
   * for sparse); returns how many. outIdx and outCnt hold at least rowBound(i) entries: the dense
   * scan writes every cell it reads at the next free place and counts it only if it is nonzero.
   */
  row(i: number, outIdx: Int32Array, outCnt: Int32Array, from?: number): number;
  /** Upper bound of row i's nonzero count (for sizing scratch buffers). */
  rowBound(i: number): number;
}

export interface CooccurrenceStore extends CooccurrenceReader {
  readonly kind: 'dense' | 'sparse';
  /** Slots addressable now. */
  readonly capacity: number;
  /** Bytes that making slots [0, items) addressable would newly allocate (0 when they are). */
  growthBytes(items: number): number;
  /** Makes slots [0, items) addressable: undefined when they are, else the (sliceable) work. */
  grow(items: number): Step | undefined;
  /** C[i][c] += delta for every c of cols[0..len) except c === i. */
  addRow(i: number, cols: Int32Array, len: number, delta: 1 | -1): void;
  /** Directed nonzero cells (= 2 × unordered pairs). */
  readonly nonzeros: number;
  /** Bytes held (O(1): read on every metrics scrape). */
  bytes(): number;
  /** An upper bound of bytes() that holds however the cells come and go (budget checks). */
  boundBytes(): number;
}
