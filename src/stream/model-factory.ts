// The model a configuration asks for: new and empty, or restored from a snapshot built with the same
// settings (a snapshot of another TOP_K or MIN_COOCCURRENCES is not used: its lists would be wrong).
import type { Config } from '../config.js';
import { Model, type ModelOptions } from '../model/index.js';
import type { Snapshot } from '../state/format.js';

export function modelOptionsOf(config: Config): Partial<ModelOptions> {
  const m = config.model;
  return {
    topK: m.topK,
    minCooccurrences: m.minCooccurrences,
    tombstoneRetentionMs: m.tombstoneRetentionMs,
    ...(m.tombstoneKey ? { tombstoneKey: m.tombstoneKey } : {}),
  };
}

export function newModel(config: Config): Model {
  return new Model(modelOptionsOf(config));
}

/** A model from a snapshot, or undefined when the snapshot was built with other model settings. */
export function modelFromSnapshot(config: Config, s: Snapshot): Model | undefined {
  const { topK, minCooccurrences } = config.model;
  if (s.state.settings.topK !== topK || s.state.settings.minCooccurrences !== minCooccurrences)
    return undefined;
  return Model.fromState(s.state, modelOptionsOf(config));
}
