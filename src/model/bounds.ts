// The rank bound β of every row of the top-K index (topk-lists.ts): no eligible neighbour outside
// row k's candidates ranks before β_k = (value, name), or β_k is BOTTOM (no eligible neighbour
// outside). A name of "" makes β a value-only bound (outside values are ≤ it: such a bound never
// proves an equal value). This module owns the bounds' storage, how a bound follows a change of the
// row's own n (by the measure's rule), and the rank comparison against a bound.

import type { SimilarityMeasure } from './similarity.js';

/** β of a row with no eligible neighbour outside its candidates. */
export const BOTTOM = -1;

/**
 * A followed bound is raised by this factor: the values it bounds are float64 results (each within
 * a few ulps, 2^-53 relative, of the exact quotient), and so is the rule's own arithmetic; 2^-48
 * exceeds their sum many times over. A bound a little too high costs at most a rescan; a bound one
 * ulp too low could prove a wrong list.
 */
const ROUNDING = 1 + 2 ** -48;

const bits = new Float64Array(1);
const word = new BigUint64Array(bits.buffer);

/**
 * The largest float64 below x (x positive, finite): the value-only bound of entries known to be
 * strictly below x. A value-only bound proves no equal value, so a bound of x itself would leave a
 * list whose K-th entry is worth x unproven, and an offer worth x rejected although it ties its K-th.
 */
export function below(x: number): number {
  bits[0] = x;
  word[0] = (word[0] as bigint) - 1n;
  return bits[0];
}

/**
 * Where a bound β computed for n_i = `was` stands once n_i = `now` (the other counts unchanged): at
 * least every outside value, given that they were at most β.
 * - Jaccard c/(n_i+n_k−c): growing by δ, 1/S grows by δ/c ≥ δ/was (c ≤ was), so S ≤ 1/(1/β + δ/was);
 *   shrinking, S grows by (n_i+n_k−c)/(now+n_k−c) ≤ was/now (n_k ≥ c).
 * - Cosine c/sqrt(n_i·n_k): every value of the row scales by exactly sqrt(was/now), either way.
 */
function follow(measure: SimilarityMeasure, beta: number, was: number, now: number): number {
  if (measure === 'cosine') return beta * Math.sqrt(was / now) * ROUNDING;
  return (now > was ? 1 / (1 / beta + (now - was) / was) : (beta * was) / now) * ROUNDING;
}

export class RankBounds {
  /** Per row: the bound's value, the n it was computed for, and its tie-break id. */
  v = new Float64Array(0);
  n = new Int32Array(0);
  name: (string | undefined)[] = [];

  constructor(private readonly measure: SimilarityMeasure = 'jaccard') {}

  /** Makes rows [0, cap) addressable (cap at least the current one); new rows have no bound. */
  grow(cap: number): void {
    const v = new Float64Array(cap).fill(BOTTOM);
    v.set(this.v);
    this.v = v;
    const n = new Int32Array(cap);
    n.set(this.n);
    this.n = n;
  }

  /** Row i has no neighbour outside its candidates (the item is gone). */
  clear(i: number): void {
    this.v[i] = BOTTOM;
    this.name[i] = undefined;
  }

  /**
   * Row i's bound as a scan found it, for n_i = `ni`: name undefined with a BOTTOM value, '' for a
   * value-only bound.
   */
  set(i: number, value: number, name: string | undefined, ni: number): void {
    this.v[i] = value;
    this.name[i] = name;
    this.n[i] = ni;
  }

  /**
   * Brings β_i up to date with n_i = `ni` by the measure's rule (`follow`), for the outside entries
   * whose n_k did not change; entries whose n_k changed too are offered by the scans of those rows
   * (a grown n_k only lowers a value, a shrunk one is propagated). The bound becomes value-only.
   */
  refresh(i: number, ni: number): void {
    const was = this.n[i] as number;
    if (ni !== was && ni > 0 && was > 0) {
      const bv = this.v[i] as number;
      if (bv > 0) {
        this.v[i] = follow(this.measure, bv, was, ni);
        this.name[i] = '';
      }
    }
    this.n[i] = ni;
  }

  /** Whether an entry of value v and id `name` ranks before β_k. */
  before(v: number, name: string, k: number): boolean {
    const bv = this.v[k] as number;
    return v > bv || (v === bv && name < (this.name[k] as string));
  }

  bytes(): number {
    return this.v.byteLength + this.n.byteLength + this.name.length * 8;
  }
}
