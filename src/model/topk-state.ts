// The top-K index's part of the durable state (see state.ts): candidates and bounds out of an index,
// and into an empty one. Offer counters and pending rescans are not part of it: they start afresh.

import { runToEnd } from './slice.js';
import type { TopKState } from './state.js';
import { BOTTOM } from './bounds.js';
import type { NeighborIndex } from './topk.js';

/**
 * The candidates and bounds of slots [0, slots), copied (snapshots): restoring them spares a scan
 * of every row. Bounds are first brought up to the current n, so that they hold on their own.
 */
export function exportTopK(
  index: NeighborIndex,
  slots: number,
  slotOf: (name: string) => number | undefined,
): TopKState {
  const { buf, len } = index.b;
  const offsets = new Uint32Array(slots + 1);
  for (let k = 0; k < slots; k++) offsets[k + 1] = (offsets[k] as number) + (len[k] as number);
  const candidates = new Int32Array(offsets[slots] as number);
  const boundValue = new Float64Array(slots);
  const boundItem = new Int32Array(slots).fill(-1);
  for (let k = 0; k < slots; k++) {
    candidates.set(buf.subarray(k * index.B, k * index.B + (len[k] as number)), offsets[k]);
    index.refresh(k);
    boundValue[k] = index.bounds.v[k] as number;
    // A bound naming an item that has gone since becomes value-only: weaker, still true.
    const name = index.bounds.name[k];
    if (name !== undefined && name !== '') boundItem[k] = slotOf(name) ?? -1;
  }
  return { offsets, candidates, boundValue, boundItem };
}

/**
 * Loads exported candidates and bounds into an empty index; offer counters start afresh. False
 * (and nothing loaded) when they do not fit this index: the caller rescans instead.
 */
export function importTopK(index: NeighborIndex, s: TopKState): boolean {
  const slots = s.offsets.length - 1;
  const names = index.host.names;
  for (let k = 0; k < slots; k++) {
    const from = s.offsets[k] as number;
    const to = s.offsets[k + 1] as number;
    if (to < from || to - from > index.B || to > s.candidates.length) return false;
    for (let p = from; p < to; p++) if (names[s.candidates[p] as number] === undefined) return false;
  }
  if (s.offsets[slots] !== s.candidates.length) return false;
  const grow = index.grow(slots);
  if (grow !== undefined) runToEnd(grow);
  const n = index.host.n;
  for (let k = 0; k < slots; k++) {
    const len = (s.offsets[k + 1] as number) - (s.offsets[k] as number);
    // Counts are not part of the state: read from C at the row's next compaction.
    index.b.set(k, s.candidates.subarray(s.offsets[k], s.offsets[k + 1]), new Int32Array(len), len);
    index.b.markStale(k);
    const v = s.boundValue[k] as number;
    const item = s.boundItem[k] as number;
    index.bounds.v[k] = v < 0 ? BOTTOM : v;
    index.bounds.name[k] = v < 0 ? undefined : item >= 0 ? (names[item] ?? '') : '';
    index.bounds.n[k] = n[k] as number;
  }
  return true;
}
