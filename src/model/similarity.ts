// The similarity measures: S_ij of a pair out of C_ij, n_i and n_j. Every place that computes a
// similarity — the top-K index's offers and scans, the bulk rebuild, pair queries, the partitioned
// item stage, the inspector — calls the measure's one function here, so that the same pair gives
// the same float64 bits wherever it is computed (lists are compared bit for bit: a published list
// is only re-sent when it differs).
//
// Both measures are symmetric to the bit (S(c, a, b) === S(c, b, a): integer sums and products of
// counts below 2^53 are exact and commutative), at most 1, and fall as n_i or n_j grows with C_ij
// fixed — what the top-K index's bounds (bounds.ts) rely on.

export const SIMILARITY_MEASURES = ['jaccard', 'cosine'] as const;
export type SimilarityMeasure = (typeof SIMILARITY_MEASURES)[number];

/** S_ij from C_ij = c, n_i, n_j. */
export type SimilarityFn = (c: number, ni: number, nj: number) => number;

/** Jaccard: C_ij / (n_i + n_j − C_ij) — an exact integer denominator, one float64 division. */
export function jaccard(c: number, ni: number, nj: number): number {
  return c / (ni + nj - c);
}

/**
 * Cosine (of the binary columns of H): C_ij / sqrt(n_i · n_j), in exactly that order in float64 —
 * the product (exact below 2^53), its square root (correctly rounded, IEEE 754), one division.
 */
export function cosine(c: number, ni: number, nj: number): number {
  return c / Math.sqrt(ni * nj);
}

/** The function of a measure. */
export function similarityFn(measure: SimilarityMeasure): SimilarityFn {
  return measure === 'cosine' ? cosine : jaccard;
}
