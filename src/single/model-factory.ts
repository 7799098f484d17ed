// The model a configuration asks for: new and empty, or restored from a snapshot's state built with
// the same settings (a snapshot of another TOP_K or MIN_COOCCURRENCES is not used: its lists would
// be wrong), whole or reduced to its tombstones (when its users cannot be trusted, see retention.ts).
import type { Config } from '../config.js';
import { Model, type ModelOptions, type ModelState } from '../model/index.js';
import type { Snapshot } from '../state/format.js';

/** The model's options: the configuration's, with the tombstone key resolved at start-up (tombstone-key.ts). */
export function modelOptionsOf(config: Config, tombstoneKey: string): Partial<ModelOptions> {
  const m = config.model;
  return {
    topK: m.topK,
    similarity: m.similarity,
    minCooccurrences: m.minCooccurrences,
    tombstoneRetentionMs: m.tombstoneRetentionMs,
    maxItemsPerUser: m.maxItemsPerUser,
    interactionTtlMs: m.interactionTtlMs,
    // The eventId window (input/dedup.ts) holds its share of MODEL_MEMORY_BYTES at its bound.
    memoryBudgetBytes: m.memoryBudgetBytes - m.dedupReservedBytes,
    tombstoneKey,
  };
}

export function newModel(config: Config, tombstoneKey: string): Model {
  const model = new Model(modelOptionsOf(config, tombstoneKey));
  expireDue(model, config);
  return model;
}

/**
 * INTERACTION_TTL_MS: forgets what is older than now − TTL (the clock is here, not in the model) and
 * sets the cutoff below which ADDs are refused from now on; the interactions expired (0 when off).
 * Called on every model made or restored (a replay then never applies what has expired) and every
 * TTL_CHECK_MS while live (single/expiry.ts).
 */
export function expireDue(model: Model, config: Config, now = Date.now()): number {
  const ttl = config.model.interactionTtlMs;
  return ttl > 0 ? model.expireBefore(now - ttl) : 0;
}

/**
 * True when the snapshot was built with this configuration's TOP_K and MIN_COOCCURRENCES, and, with
 * INTERACTION_TTL_MS on, holds the interactions' times (a snapshot kept with the TTL off has none:
 * the inputs, replayed, do).
 */
export function settingsFit(config: Config, s: Snapshot): boolean {
  const { topK, minCooccurrences, interactionTtlMs } = config.model;
  const st = s.state;
  if (interactionTtlMs > 0 && st.times === undefined && st.histories.some((h) => h.length > 0)) return false;
  return st.settings.topK === topK && st.settings.minCooccurrences === minCooccurrences;
}

export function modelFromState(config: Config, tombstoneKey: string, state: ModelState): Model {
  return Model.fromState(state, modelOptionsOf(config, tombstoneKey));
}

/** The state with nothing but its tombstones (no user, item or list). */
export function tombstonesOnly(state: ModelState): ModelState {
  return {
    settings: state.settings,
    itemNames: [],
    itemFree: [],
    userIds: [],
    histories: [],
    lateBounds: new Float64Array(0),
    lists: [],
    tombstones: state.tombstones,
  };
}
