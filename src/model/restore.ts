// The model's durable state out of and back into a ModelCore (see state.ts): export copies what a
// restored model needs to be indistinguishable; restore rebuilds n and C from H and takes the top-K
// candidates as they were (or rescans every row without them).

import { preferSparse, type ModelCore } from './core.js';
import { History } from './history.js';
import { ModelCapacityError, SPARSE_CELL_BYTES, SPARSE_ROW_BYTES } from './memory.js';
import { runToEnd } from './slice.js';
import { SparseCooccurrence } from './sparse.js';
import type { ModelState } from './state.js';
import { exportTopK, importTopK } from './topk-state.js';

export function exportState(c: ModelCore): ModelState {
  const { names, free } = c.itemDict.exportSlots();
  const userIds: string[] = [];
  const histories: Int32Array[] = [];
  const bounds: number[] = [];
  const times: Float64Array[] | undefined = c.timed ? [] : undefined;
  for (const u of c.users.slots()) {
    userIds.push(c.users.name(u));
    histories.push(c.history[u]?.arrival() ?? new Int32Array(0));
    times?.push(c.history[u]?.arrivalTimes() ?? new Float64Array(0));
    bounds.push(c.lateBound.get(u) ?? NaN);
  }
  return {
    settings: {
      topK: c.options.topK,
      minCooccurrences: c.options.minCooccurrences,
      similarity: c.options.similarity,
      ...(c.timed ? { interactionTtlMs: c.options.interactionTtlMs } : {}),
    },
    itemNames: names,
    itemFree: free,
    userIds,
    histories,
    lateBounds: Float64Array.from(bounds),
    // Lists are immutable once reported: sharing them is a copy.
    lists: Array.from({ length: names.length }, (_, i) => c.reported[i]),
    tombstones: [...c.tombstones.entries()],
    ...(times ? { times, expiredBefore: c.expiredBefore } : {}),
    topk: exportTopK(c.topk, names.length, (name) => c.itemDict.lookup(name)),
  };
}

/** Loads `state` into an empty core. Throws RangeError when it does not add up. */
export function restoreInto(c: ModelCore, state: ModelState): void {
  const s = state.settings;
  const o = c.options;
  const similarity = s.similarity ?? 'jaccard';
  if (o.topK !== s.topK || o.minCooccurrences !== s.minCooccurrences || o.similarity !== similarity)
    throw new RangeError(
      `state built with topK=${s.topK}, minCooccurrences=${s.minCooccurrences}, similarity=${similarity}; ` +
        `model configured with topK=${o.topK}, minCooccurrences=${o.minCooccurrences}, similarity=${o.similarity}`,
    );
  const times = c.timed ? timesOf(state) : undefined;
  const slots = state.itemNames.length;
  c.itemDict.restoreSlots(state.itemNames, state.itemFree);
  if (slots > c.n.length) c.growItems(slots);
  const n = c.n;
  const sorted: Int32Array[] = [];
  for (let k = 0; k < state.userIds.length; k++) {
    const items = state.histories[k] as Int32Array;
    for (let p = 0; p < items.length; p++) {
      const i = items[p] as number;
      if (i < 0 || i >= slots || state.itemNames[i] === undefined)
        throw new RangeError(`history ${k} holds an item slot not in use`);
      n[i] = (n[i] as number) + 1;
    }
    const u = c.users.intern(state.userIds[k] as string);
    const h = History.fromArrival(items, times?.[k]);
    c.history[u] = h;
    sorted.push(h.sorted());
    c.interactionCount += items.length;
    const bound = state.lateBounds[k] as number;
    if (!Number.isNaN(bound)) c.lateBound.set(u, bound);
  }
  for (let i = 0; i < slots; i++)
    if ((n[i] === 0) !== (state.itemNames[i] === undefined))
      throw new RangeError(`item slot ${i} is in use but held by no one, or free but held`);
  if (times !== undefined) c.expiredBefore = state.expiredBefore ?? -Infinity;
  c.tombstones.restore(state.tombstones);
  c.reported = state.lists.slice();
  chooseRepresentation(c, slots, sorted);
  for (const step of c.capacitySteps()) runToEnd(step);
  rebuildC(c, sorted, slots);
  if (c.bytes() > c.options.memoryBudgetBytes)
    throw new ModelCapacityError(c.bytes(), c.options.memoryBudgetBytes, 'the restored state');
  const restored =
    state.topk !== undefined && state.topk.offsets.length === slots + 1 && importTopK(c.topk, state.topk);
  if (!restored) for (let i = 0; i < slots; i++) if ((n[i] as number) > 0) c.topk.rescan(i);
  // The reported lists are the rows' last top K.
  for (let i = 0; i < slots; i++) {
    const list = state.lists[i];
    if (list === undefined) continue;
    const ids = Int32Array.from(list.neighbors, (nb) => c.itemDict.lookup(nb.itemId) ?? -1);
    c.topk.noteTop(
      i,
      ids,
      Float64Array.from(list.neighbors, (nb) => nb.similarity),
      ids.length,
    );
  }
}

/**
 * The interaction times a timed model needs. A state kept without the TTL has none: refused when it
 * holds any interaction (their times are unknown; a rebuild from the inputs has them).
 */
function timesOf(state: ModelState): readonly Float64Array[] {
  const { times, histories } = state;
  if (times === undefined) {
    if (histories.some((h) => h.length > 0))
      throw new RangeError('state kept without INTERACTION_TTL_MS: it holds no interaction times');
    return histories.map(() => new Float64Array(0));
  }
  if (times.length !== histories.length || times.some((t, k) => t.length !== histories[k]?.length))
    throw new RangeError('interaction times do not match the histories');
  return times;
}

/** Sparse rows from the start when a growing square would have become sparse too (see preferSparse). */
function chooseRepresentation(c: ModelCore, slots: number, sorted: readonly Int32Array[]): void {
  if (c.store.kind !== 'dense') return;
  const budget = c.options.memoryBudgetBytes;
  const square = c.store.growthBytes(slots) + c.topk.growthBytes(slots);
  // An upper bound of the nonzero cells: every user's pairs, as if no two users shared one.
  let cells = 0;
  for (const h of sorted) cells += h.length * (h.length - 1);
  const rows = cells * SPARSE_CELL_BYTES + slots * SPARSE_ROW_BYTES + c.topk.setWatcherBytes(slots);
  if (!preferSparse(square, rows, c.bytes(), square, budget)) {
    if (Number.isFinite(square) && c.bytes() + square <= budget) return;
    if (!c.autoRepresentation)
      throw new ModelCapacityError(c.bytes() + square, budget, `a dense C for ${slots} items`);
  }
  if (!c.autoRepresentation) return;
  c.store = new SparseCooccurrence();
  const watchers = c.topk.useSparseWatchers();
  if (watchers !== undefined) runToEnd(watchers);
}

/**
 * C row by row (item → its users' histories): each row is written while it sits in cache, which is
 * several times faster than user by user over the whole square.
 */
function rebuildC(c: ModelCore, sorted: readonly Int32Array[], slots: number): void {
  const n = c.n;
  const holders = new Int32Array(slots + 1);
  for (let i = 0; i < slots; i++) holders[i + 1] = (holders[i] as number) + (n[i] as number);
  const fill = holders.slice(0, slots);
  const byItem = new Int32Array(holders[slots] as number);
  for (let k = 0; k < sorted.length; k++) {
    const items = sorted[k] as Int32Array;
    for (let p = 0; p < items.length; p++) {
      const i = items[p] as number;
      byItem[fill[i] as number] = k;
      fill[i] = (fill[i] as number) + 1;
    }
  }
  for (let i = 0; i < slots; i++) {
    for (let q = holders[i] as number; q < (holders[i + 1] as number); q++) {
      const items = sorted[byItem[q] as number] as Int32Array;
      c.store.addRow(i, items, items.length, 1);
    }
  }
}
