// Public surface of the model: everything else calls it through this.
export { Model, DEFAULT_MODEL_OPTIONS, type RepresentationOptions } from './model.js';
export type * from './types.js';
export type { ModelSettings, ModelState } from './state.js';
