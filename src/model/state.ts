// The model's durable state: everything a snapshot must hold for a restored model to be
// indistinguishable from the original (same lists, same future change reports, same queries).
// It describes the model, not its data structures: the snapshot format (src/state/format.ts) encodes
// exactly this, so in-memory layouts can change without a new file format.
// C is not part of it: it is a function of H (C = HᵀH), and rebuilding it from the histories is
// both smaller on disk and fast enough (see docs/durability.md); n is the column sums of H. The
// top-K candidates and bounds are (optionally): restoring them spares a scan of every row.

import type { SimilarityMeasure } from './similarity.js';
import type { NeighborList } from './types.js';

export interface ModelSettings {
  readonly topK: number;
  readonly minCooccurrences: number;
  /** The measure of the lists and bounds; absent in states written before it existed (Jaccard). */
  readonly similarity?: SimilarityMeasure;
  /** INTERACTION_TTL_MS the state was kept under (absent or 0: off, no interaction times). */
  readonly interactionTtlMs?: number;
}

/**
 * Per item slot, a superset of its top-K neighbours and a bound on everything else: every eligible
 * neighbour (C ≥ minCooccurrences) that is not a candidate ranks after (boundValue, id of boundItem)
 * in the lists' order (similarity descending, then id ascending), or, with boundItem = -1, has a
 * similarity ≤ boundValue. A negative boundValue: every eligible neighbour is a candidate.
 */
export interface TopKState {
  /** Candidates of slot i: candidates[offsets[i] .. offsets[i + 1]) (length = slots + 1). */
  readonly offsets: Uint32Array;
  /** Item slots. */
  readonly candidates: Int32Array;
  readonly boundValue: Float64Array;
  /** Item slot of the bound's tie-break id, or -1 (value-only bound). */
  readonly boundItem: Int32Array;
}

export interface ModelState {
  /** The settings the lists were computed with; a model is only restored with the same ones. */
  readonly settings: ModelSettings;
  /** Item slot → id (undefined: a free slot). Slots are kept so that future slots match too. */
  readonly itemNames: readonly (string | undefined)[];
  /** The item dictionary's free slots, in reuse order (last is reused first). */
  readonly itemFree: readonly number[];
  /** Users held in memory (personal data: only inside the snapshot file, never in its header). */
  readonly userIds: readonly string[];
  /** Per user, the history as item slots in arrival order (oldest first). */
  readonly histories: readonly Int32Array[];
  /** Per user, the late-event bound of a tombstone matching them (NaN: none). */
  readonly lateBounds: Float64Array;
  /** The last reported list per item slot (undefined: none). */
  readonly lists: readonly (NeighborList | undefined)[];
  /** Forgotten users' tombstones: keyed hash → request time (never ids). */
  readonly tombstones: readonly (readonly [string, number])[];
  /**
   * Per user, the times (epoch ms) of histories[k], in the same order: present when the state was
   * kept under INTERACTION_TTL_MS. A model with the TTL on restores only a state that has them.
   */
  readonly times?: readonly Float64Array[];
  /** The expiry cutoff reached (ADDs before it are refused); with `times` only. */
  readonly expiredBefore?: number;
  /** Top-K candidates and bounds; without them every row is rescanned on restore. */
  readonly topk?: TopKState;
}

/** Totals of a state, for snapshot headers and logs (no ids). */
export interface StateCounts {
  readonly users: number;
  readonly items: number;
  readonly interactions: number;
  readonly lists: number;
  readonly tombstones: number;
}

export function stateCounts(s: ModelState): StateCounts {
  let interactions = 0;
  for (const h of s.histories) interactions += h.length;
  let items = 0;
  for (const name of s.itemNames) if (name !== undefined) items++;
  let lists = 0;
  for (const l of s.lists) if (l !== undefined) lists++;
  return { users: s.userIds.length, items, interactions, lists, tombstones: s.tombstones.length };
}
