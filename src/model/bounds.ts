// The rank bound β of every row of the top-K index (topk-lists.ts): no eligible neighbour outside
// row k's candidates ranks before β_k = (value, name), or β_k is BOTTOM (no eligible neighbour
// outside). A name of "" makes β a value-only bound (outside values are ≤ it: such a bound never
// proves an equal value). This module owns the bounds' storage, how a bound follows a change of the
// row's own n, and the rank comparison against a bound.

/** β of a row with no eligible neighbour outside its candidates. */
export const BOTTOM = -1;

export class RankBounds {
  /** Per row: the bound's value, the n it was computed for, and its tie-break id. */
  v = new Float64Array(0);
  n = new Int32Array(0);
  name: (string | undefined)[] = [];

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
   * Brings β_i up to date with n_i = `ni`. An outside entry has c ≥ S·n_i (as n_k ≥ c), so when n_i
   * grows by δ its value is at most 1/(1/β + δ/n_i(old)), and when n_i shrinks (the other counts
   * unchanged) at most β·n_i(old)/n_i(new). Entries whose n_k changed too are offered by the scans
   * of those rows. Either way the bound becomes value-only.
   */
  refresh(i: number, ni: number): void {
    const was = this.n[i] as number;
    if (ni !== was && ni > 0 && was > 0) {
      const bv = this.v[i] as number;
      if (bv > 0) {
        this.v[i] = ni > was ? 1 / (1 / bv + (ni - was) / was) : (bv * was) / ni;
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
