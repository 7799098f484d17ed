// Public surface of the model: everything outside src/model/ imports from here, and only from here.
export { Model, DEFAULT_MODEL_OPTIONS, type RepresentationOptions } from './model.js';
export {
  stateCounts,
  type ModelSettings,
  type ModelState,
  type StateCounts,
  type TopKState,
} from './state.js';
export type * from './types.js';
