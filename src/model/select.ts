// A bounded selection of a row's best entries in the lists' order: similarity descending, then item
// id ascending. Ids are compared only between equal similarities, so that a scan of a row touches
// the id strings of ties alone (rare) rather than of every entry it rejects.

export class Selection {
  readonly v: Float64Array;
  readonly id: Int32Array;
  readonly c: Int32Array;
  count = 0;

  constructor(readonly cap: number) {
    this.v = new Float64Array(cap);
    this.id = new Int32Array(cap);
    this.c = new Int32Array(cap);
  }

  reset(): void {
    this.count = 0;
  }

  /** The similarity an entry must reach to be kept: the worst kept one when full, else -Infinity. */
  floor(): number {
    return this.count === this.cap ? (this.v[this.cap - 1] as number) : -Infinity;
  }

  /** Keeps (v, id, c) if it ranks among the best `cap`; the caller skips v < floor() cheaply first. */
  push(v: number, id: number, c: number, names: readonly (string | undefined)[]): void {
    const sv = this.v;
    const sid = this.id;
    const sc = this.c;
    let pos = this.count;
    let name: string | undefined;
    while (pos > 0) {
      const pv = sv[pos - 1] as number;
      if (pv > v) break;
      if (pv === v) {
        name ??= names[id] as string;
        if ((names[sid[pos - 1] as number] as string) < name) break;
      }
      pos--;
    }
    if (pos === this.cap) return;
    const last = this.count === this.cap ? this.cap - 1 : this.count++;
    for (let q = last; q > pos; q--) {
      sv[q] = sv[q - 1] as number;
      sid[q] = sid[q - 1] as number;
      sc[q] = sc[q - 1] as number;
    }
    sv[pos] = v;
    sid[pos] = id;
    sc[pos] = c;
  }
}
