// What a deletion receipt counts when the user's records reach home after the request. Routed from
// other partitions (route.ts), a user's interactions recorded before the request may arrive after
// it; the tombstone drops them (suppressed_late), and until the request's FORGOTTEN they are added
// to its count: the user held them when the request was recorded. Distinct items: an ADD of an item
// not counted yet adds one, a later REMOVE of such an item takes it back. Memory only (a move loses
// the extension, never the forget), dropped at FORGOTTEN.
interface Pending {
  readonly marker: number;
  /** Items the forget removed (counted already). */
  readonly held: ReadonlySet<string>;
  /** Items counted from late events. */
  readonly late: Set<string>;
}

export class LateCounts {
  private readonly byToken = new Map<string, Pending>();

  /** A request `marker` forgot the user `token`, who held `held`. */
  forgot(token: string, marker: number, held: Iterable<string>): void {
    this.byToken.set(token, { marker, held: new Set(held), late: new Set() });
  }

  /** A late event the tombstone dropped: the request whose count changes, and by how much. */
  dropped(
    token: string,
    itemId: string,
    action: 'ADD' | 'REMOVE',
  ): { marker: number; delta: number } | undefined {
    const p = this.byToken.get(token);
    if (!p) return undefined;
    if (action === 'ADD' && !p.held.has(itemId) && !p.late.has(itemId)) {
      p.late.add(itemId);
      return { marker: p.marker, delta: 1 };
    }
    if (action === 'REMOVE' && p.late.delete(itemId)) return { marker: p.marker, delta: -1 };
    return undefined;
  }

  /** The request's FORGOTTEN is out: its count is final. */
  done(marker: number): void {
    for (const [token, p] of this.byToken) if (p.marker === marker) this.byToken.delete(token);
  }
}
