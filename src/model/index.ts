// Public surface of the model: everything outside src/model/ imports from here, and only from here.
export { Model, DEFAULT_MODEL_OPTIONS, type FlushJob, type RepresentationOptions } from './model.js';
export { ModelCapacityError } from './memory.js';
export {
  stateCounts,
  type ModelSettings,
  type ModelState,
  type StateCounts,
  type TopKState,
} from './state.js';
export {
  cosine,
  jaccard,
  similarityFn,
  SIMILARITY_MEASURES,
  type SimilarityFn,
  type SimilarityMeasure,
} from './similarity.js';
export type * from './types.js';
