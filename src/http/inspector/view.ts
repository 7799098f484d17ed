// The inspector's view of the model: the four matrices H, n, C, S restricted to a selection of
// users and items. Pure reads through the Model's public API; small enough (≤ MAX_SIDE ids per
// side) to be recomputed every poll tick and compared as a string.
import type { Model } from '../../model/index.js';

/** Catalogues up to this many users and items are shown whole; larger ones need a selection. */
export const SMALL_CATALOGUE = 40;
/** Most ids on either side of a view, whatever is asked for (bounds the work of one tick). */
export const MAX_SIDE = 40;
/** Size of the automatic selection of a large catalogue (most popular items, their heaviest users). */
export const AUTO_SIDE = 12;
/** Matches returned by a `q` search, per kind. */
export const MAX_MATCHES = 20;

export interface Selection {
  /** Explicit ids (from `items=` / `users=`); undefined = automatic. */
  readonly items?: readonly string[];
  readonly users?: readonly string[];
}

export interface View {
  /** True when the catalogue is larger than SMALL_CATALOGUE on either side (a subset is shown). */
  readonly large: boolean;
  readonly totals: { readonly users: number; readonly items: number };
  readonly users: readonly string[];
  readonly items: readonly string[];
  /** users × items, 1 when the user has the item. */
  readonly H: readonly (readonly number[])[];
  /** n_i per item of `items`. */
  readonly n: readonly number[];
  /** items × items co-occurrences; null on the diagonal (C is HᵀH off the diagonal). */
  readonly C: readonly (readonly (number | null)[])[];
  /** items × items Jaccard similarity; null on the diagonal. */
  readonly S: readonly (readonly (number | null)[])[];
}

/** A comma-separated id list from a query parameter: trimmed, de-duplicated, capped at MAX_SIDE. */
export function parseIdList(v: string | null): string[] | undefined {
  if (v === null) return undefined;
  const out: string[] = [];
  for (const raw of v.split(',')) {
    const id = raw.trim();
    if (id.length > 0 && id.length <= 256 && !out.includes(id)) out.push(id);
    if (out.length >= MAX_SIDE) break;
  }
  return out;
}

/** Items with the most interactions, ties by id. */
function popularItems(model: Model, all: readonly string[], k: number): string[] {
  return all
    .map((id) => ({ id, n: model.interactions(id) }))
    .sort((a, b) => b.n - a.n || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(0, k)
    .map((x) => x.id)
    .sort(byString);
}

/** Users holding the most of `items`, ties by id. O(interactions): only on a new selection. */
function heaviestUsers(model: Model, items: readonly string[], k: number): string[] {
  const wanted = new Set(items);
  const scored: { id: string; hits: number }[] = [];
  for (const id of model.userIds()) {
    let hits = 0;
    for (const i of model.items(id)) if (wanted.has(i)) hits++;
    if (hits > 0) scored.push({ id, hits });
  }
  return scored
    .sort((a, b) => b.hits - a.hits || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(0, k)
    .map((x) => x.id)
    .sort(byString);
}

function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Resolves which ids a view shows. Small catalogues: everything (explicit lists still win).
 * Large ones: the explicit lists, else the AUTO_SIDE most popular items and their heaviest users.
 */
export function resolveSelection(
  model: Model,
  sel: Selection,
): { users: string[]; items: string[]; large: boolean; totals: View['totals'] } {
  const allItems = model.itemIds();
  const allUsers = model.userIds();
  const totals = { users: allUsers.length, items: allItems.length };
  const large = totals.items > SMALL_CATALOGUE || totals.users > SMALL_CATALOGUE;
  const items = sel.items
    ? [...sel.items].slice(0, MAX_SIDE)
    : large
      ? popularItems(model, allItems, AUTO_SIDE)
      : allItems;
  const users = sel.users
    ? [...sel.users].slice(0, MAX_SIDE)
    : large
      ? heaviestUsers(model, items, AUTO_SIDE)
      : allUsers;
  return { users, items, large, totals };
}

/** The matrices for fixed id lists. O(|users|·history + |items|²). */
export function computeView(
  model: Model,
  ids: { users: readonly string[]; items: readonly string[]; large: boolean; totals: View['totals'] },
): View {
  const { users, items } = ids;
  const col = new Map(items.map((id, k) => [id, k] as const));
  const H = users.map((u) => {
    const row = new Array<number>(items.length).fill(0);
    for (const i of model.items(u)) {
      const k = col.get(i);
      if (k !== undefined) row[k] = 1;
    }
    return row;
  });
  const n = items.map((i) => model.interactions(i));
  const C: (number | null)[][] = [];
  const S: (number | null)[][] = [];
  for (let a = 0; a < items.length; a++) {
    const cRow: (number | null)[] = [];
    const sRow: (number | null)[] = [];
    for (let b = 0; b < items.length; b++) {
      if (a === b) {
        cRow.push(null);
        sRow.push(null);
        continue;
      }
      // Symmetric: reuse the upper triangle.
      if (b < a) {
        cRow.push(C[b]![a]!);
        sRow.push(S[b]![a]!);
        continue;
      }
      const p = model.similarity(items[a]!, items[b]!);
      cRow.push(p?.cooccurrences ?? 0);
      sRow.push(p?.similarity ?? 0);
    }
    C.push(cRow);
    S.push(sRow);
  }
  return { large: ids.large, totals: ids.totals, users: [...users], items: [...items], H, n, C, S };
}

/** Ids containing `q` (case-insensitive), at most MAX_MATCHES per kind. */
export function search(model: Model, q: string): { users: string[]; items: string[] } {
  const needle = q.trim().toLowerCase();
  if (needle.length === 0) return { users: [], items: [] };
  const pick = (ids: readonly string[]) => {
    const out: string[] = [];
    for (const id of ids) {
      if (id.toLowerCase().includes(needle)) out.push(id);
      if (out.length >= MAX_MATCHES) break;
    }
    return out;
  };
  return { users: pick(model.userIds()), items: pick(model.itemIds()) };
}

/**
 * A cheap fingerprint of the whole model: changes whenever users, items, pairs or stored
 * interactions change (the model object itself is replaced on a rebuild). A change that keeps
 * all these counts equal is caught by the periodic full comparison in the route.
 */
export function modelFingerprint(model: Model, modelId: number): string {
  const s = model.stats();
  return `${modelId}:${s.users}:${s.items}:${s.pairs}:${s.bytes}:${s.tombstones}`;
}
