// The model's durable state: everything a snapshot must hold for a restored model to be
// indistinguishable from the original (same lists, same future change reports, same queries).
// C is not part of it: it is a function of H (C = HᵀH), and rebuilding it from the histories is
// both smaller on disk and fast enough (see docs/durability.md). The top-K candidate buffers and
// bounds are (optionally): restoring them spares a scan of every row, the slow part of a restore.

import type { NeighborIndexState } from './topk.js';
import type { NeighborList } from './types.js';

export interface ModelSettings {
  readonly topK: number;
  readonly minCooccurrences: number;
}

export interface ModelState {
  /** The settings the lists were computed with; a model is only restored with the same ones. */
  readonly settings: ModelSettings;
  /** Item slot → id (undefined: a free slot). Slots are kept so that future slots match too. */
  readonly itemNames: readonly (string | undefined)[];
  /** The item dictionary's free slots, in reuse order (last is reused first). */
  readonly itemFree: readonly number[];
  /** n per item slot (length = itemNames.length). */
  readonly n: Int32Array;
  /** Users held in memory (personal data: only inside the snapshot file, never in its header). */
  readonly userIds: readonly string[];
  /** Per user, the history as item slots, ascending. */
  readonly histories: readonly Int32Array[];
  /** Per user, the late-event bound of a tombstone matching them (NaN: none). */
  readonly lateBounds: Float64Array;
  /** The last reported list per item slot (undefined: none). */
  readonly lists: readonly (NeighborList | undefined)[];
  /** Forgotten users' tombstones: keyed hash → request time (never ids). */
  readonly tombstones: readonly (readonly [string, number])[];
  /** The top-K candidate buffers and bounds; without them every row is rescanned on restore. */
  readonly topk?: NeighborIndexState;
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
