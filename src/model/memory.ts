// How many bytes the model holds, estimated in O(1) from running totals, and the error it throws
// rather than grow past its budget.
//
// Exact: every typed array (C's dense square or sparse row tables, the top-K buffers and watcher
// index, the per-item arrays). Estimated per entry: a user (dictionary entry, history object, id
// string at 2 bytes per character), an interaction (8 bytes: item slot and arrival rank, plus up to
// as much again of array headroom, not counted), an item (dictionary entry, id, its last reported
// list of up to K neighbours), a tombstone. Transient allocations are not in the running total but
// are checked before they happen: growing the dense square (old and new square both live while rows
// are copied), converting it to sparse rows (both live), and the sparse cells a pending batch may
// create (reserved per ADD until the flush that settles it).

import { AmnesiaError } from '../errors.js';

export const USER_BYTES = 200;
export const ITEM_BYTES = 120;
/** Per neighbour of a reported list (an object with three fields and its slot in the array). */
export const NEIGHBOR_BYTES = 56;
export const INTERACTION_BYTES = 8;
/** More per interaction with INTERACTION_TTL_MS: its time, a float64 (history.ts). */
export const TIME_BYTES = 8;
export const TOMBSTONE_BYTES = 120;
/** Bytes per id character (V8 keeps strings in one or two bytes per character). */
export const CHAR_BYTES = 2;
/** Worst case of a directed cell in a sparse row: 8 bytes at the table's lowest load (1/4). */
export const SPARSE_CELL_BYTES = 32;
/** A sparse row's overhead and smallest table (8 cells). */
export const SPARSE_ROW_BYTES = 128;
/** Per entry and per item of the top-K watcher index as sets (sparse catalogues). */
export const SET_ENTRY_BYTES = 16;
export const SET_BYTES = 48;

/** Raised before anything changes when an interaction would take the model past its memory budget. */
export class ModelCapacityError extends AmnesiaError {
  readonly neededBytes: number;
  readonly budgetBytes: number;

  constructor(neededBytes: number, budgetBytes: number, what: string) {
    super(
      'MODEL_MEMORY_EXCEEDED',
      `${what} would need about ${mb(neededBytes)} MB; the model's memory budget is ${mb(budgetBytes)} MB`,
    );
    this.name = 'ModelCapacityError';
    this.neededBytes = neededBytes;
    this.budgetBytes = budgetBytes;
  }
}

function mb(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}
