// Interns external string ids to dense integer slots. Freed slots are reused, and a freed id leaves
// the dictionary entirely (a forgotten user's id must not linger anywhere in memory we control).

export class Interner {
  private readonly byName = new Map<string, number>();
  /** Slot → id; read directly by hot loops (undefined for a free slot). */
  readonly names: (string | undefined)[] = [];
  private readonly free: number[] = [];
  /** Characters of the ids held (memory estimate). */
  chars = 0;

  get size(): number {
    return this.byName.size;
  }

  /** Upper bound (exclusive) of the slots in use. */
  get capacity(): number {
    return this.names.length;
  }

  /** Whether interning a new id would take a new slot at the end rather than reuse a free one. */
  get full(): boolean {
    return this.free.length === 0;
  }

  lookup(name: string): number | undefined {
    return this.byName.get(name);
  }

  /** The slot of `name`, allocating one (lowest free slot first in LIFO order) if it is new. */
  intern(name: string): number {
    const found = this.byName.get(name);
    if (found !== undefined) return found;
    const slot = this.free.length > 0 ? (this.free.pop() as number) : this.names.length;
    if (slot === this.names.length) this.names.push(name);
    else this.names[slot] = name;
    this.byName.set(name, slot);
    this.chars += name.length;
    return slot;
  }

  name(slot: number): string {
    const n = this.names[slot];
    if (n === undefined) throw new RangeError(`slot ${slot} is not in use`);
    return n;
  }

  release(slot: number): void {
    const n = this.names[slot];
    if (n === undefined) return;
    this.byName.delete(n);
    this.chars -= n.length;
    this.names[slot] = undefined;
    this.free.push(slot);
  }

  /** Slots in use, ascending. */
  *slots(): IterableIterator<number> {
    for (let i = 0; i < this.names.length; i++) if (this.names[i] !== undefined) yield i;
  }

  /**
   * Up to `limit` ids of slots in use that pass `keep`, in slot order from `cursor`; `next` is the
   * first further slot that passes (undefined: none). O(limit + slots skipped).
   */
  page(
    cursor: number,
    limit: number,
    keep: (slot: number) => boolean,
  ): { ids: string[]; next: number | undefined } {
    const ids: string[] = [];
    let s = Math.max(0, Math.floor(cursor));
    for (; s < this.names.length; s++) {
      const name = this.names[s];
      if (name === undefined || !keep(s)) continue;
      if (ids.length >= limit) break;
      ids.push(name);
    }
    return { ids, next: s < this.names.length ? s : undefined };
  }

  /** Slot → id (undefined: free) and the free list in reuse order: copies, for snapshots. */
  exportSlots(): { names: (string | undefined)[]; free: number[] } {
    return { names: this.names.slice(), free: this.free.slice() };
  }

  /** Loads exported slots into an empty interner (snapshot restore). */
  restoreSlots(names: readonly (string | undefined)[], free: readonly number[]): void {
    if (this.names.length > 0) throw new Error('restoreSlots needs an empty interner');
    let holes = 0;
    for (let slot = 0; slot < names.length; slot++) {
      const name = names[slot];
      this.names.push(name);
      if (name === undefined) holes++;
      else if (this.byName.has(name)) throw new RangeError(`duplicate id at slot ${slot}`);
      else {
        this.byName.set(name, slot);
        this.chars += name.length;
      }
    }
    if (holes !== free.length || free.some((f) => names[f] !== undefined))
      throw new RangeError('free slots do not match the dictionary');
    this.free.push(...free);
  }
}
