// The inspector's view of the model: H, n, C and S restricted to a selection of at most MAX_SIDE
// users and items. Every request costs O(page), never O(catalogue): users and items are paged in
// slot order from a cursor (Model.userPage/itemPage), explicit ids are looked up one by one, and the
// id search is an exact lookup. Small enough to be recomputed every poll tick and compared as text.
import type { Model, SimilarityMeasure } from '../../model/index.js';
import { MAX_ID_LENGTH } from '../params.js';
import { HttpError } from '../respond.js';

/** Catalogues up to this many users and items are shown whole (one page of MAX_SIDE). */
export const SMALL_CATALOGUE = 40;
/** Most ids on either side of a view, whatever is asked for (bounds the work of one request). */
export const MAX_SIDE = 40;
/** Page size of a large catalogue unless `limit` says otherwise. */
export const AUTO_SIDE = 12;

export interface Selection {
  /** Explicit ids (`items=` / `users=`); otherwise pages. */
  readonly items?: readonly string[];
  readonly users?: readonly string[];
  /** Where the users page starts (`userCursor=`, a slot; 0 = the start). */
  readonly userCursor?: number;
  /** `itemCursor=`: page the items too, instead of showing those the page's users hold most. */
  readonly itemCursor?: number;
  /** Page size, 1..MAX_SIDE (`limit=`). */
  readonly limit?: number;
}

export interface Totals {
  readonly users: number;
  readonly items: number;
}

/** A page's cursor and where the next one starts (null: this is the last). */
export interface PageInfo {
  readonly cursor: number;
  readonly next: number | null;
}

export interface Resolved {
  /** True when the catalogue has more than SMALL_CATALOGUE users or items. */
  readonly large: boolean;
  readonly totals: Totals;
  readonly users: readonly string[];
  readonly items: readonly string[];
  /** Set for each side that was paged (null: explicit ids, or items taken from the users). */
  readonly page: { readonly users: PageInfo | null; readonly items: PageInfo | null };
}

export interface View extends Resolved {
  /** users × items, 1 when the user has the item. */
  readonly H: readonly (readonly number[])[];
  /** n_i per item of `items`. */
  readonly n: readonly number[];
  /** items × items co-occurrences; null on the diagonal (C is HᵀH off the diagonal). */
  readonly C: readonly (readonly (number | null)[])[];
  /** items × items similarity (the model's measure); null on the diagonal. */
  readonly S: readonly (readonly (number | null)[])[];
  /** The measure of S (SIMILARITY). */
  readonly measure: SimilarityMeasure;
}

/** A comma-separated id list from a query parameter: trimmed, de-duplicated, capped at MAX_SIDE. */
export function parseIdList(v: string | null): string[] | undefined {
  if (v === null) return undefined;
  const out: string[] = [];
  for (const raw of v.split(',')) {
    const id = raw.trim();
    if (id.length > 0 && id.length <= MAX_ID_LENGTH && !out.includes(id)) out.push(id);
    if (out.length >= MAX_SIDE) break;
  }
  return out;
}

function parseCount(url: URL, name: string, min: number, max: number): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null) return undefined;
  const v = /^\d{1,10}$/.test(raw) ? Number(raw) : NaN;
  if (!(v >= min && v <= max))
    throw new HttpError('INVALID_PARAMETER', `${name} must be an integer from ${min} to ${max}`);
  return v;
}

/** The selection asked for by `items`, `users`, `userCursor`, `itemCursor` and `limit`; 400 when malformed. */
export function selectionOf(url: URL): Selection {
  const items = parseIdList(url.searchParams.get('items'));
  const users = parseIdList(url.searchParams.get('users'));
  const userCursor = parseCount(url, 'userCursor', 0, 2 ** 32);
  const itemCursor = parseCount(url, 'itemCursor', 0, 2 ** 32);
  const limit = parseCount(url, 'limit', 1, MAX_SIDE);
  return {
    ...(items ? { items } : {}),
    ...(users ? { users } : {}),
    ...(userCursor !== undefined ? { userCursor } : {}),
    ...(itemCursor !== undefined ? { itemCursor } : {}),
    ...(limit !== undefined ? { limit } : {}),
  };
}

/** Users and items held in memory. O(users) but a plain loop (≈ 1 ms at 200k users): once per request or tick. */
export function totalsOf(model: Model): Totals {
  const s = model.stats();
  return { users: s.users, items: s.items };
}

function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The `k` items most held by `users` (ties by id). O(their histories). */
function heldMost(model: Model, users: readonly string[], k: number): string[] {
  const count = new Map<string, number>();
  for (const u of users) for (const i of model.items(u)) count.set(i, (count.get(i) ?? 0) + 1);
  return [...count]
    .sort((a, b) => b[1] - a[1] || byString(a[0], b[0]))
    .slice(0, k)
    .map(([id]) => id);
}

function paged(
  page: (cursor: number, limit: number) => { ids: string[]; next: number | undefined },
  cursor: number,
  limit: number,
): { ids: string[]; info: PageInfo } {
  const p = page(cursor, limit);
  return { ids: p.ids, info: { cursor, next: p.next ?? null } };
}

/**
 * Which ids a view shows. Users: the explicit list, else a page from `userCursor`. Items: the
 * explicit list; else a page from `itemCursor` (always for a small catalogue, so it is shown
 * whole); else the items the shown users hold most. Each side is shown in id order.
 */
export function resolveSelection(model: Model, sel: Selection, totals: Totals = totalsOf(model)): Resolved {
  const large = totals.users > SMALL_CATALOGUE || totals.items > SMALL_CATALOGUE;
  const limit = Math.min(sel.limit ?? (large ? AUTO_SIDE : MAX_SIDE), MAX_SIDE);
  const userSide = sel.users
    ? { ids: sel.users.slice(0, MAX_SIDE), info: null }
    : paged((c, l) => model.userPage(c, l), sel.userCursor ?? 0, limit);
  const itemSide = sel.items
    ? { ids: sel.items.slice(0, MAX_SIDE), info: null }
    : sel.itemCursor !== undefined || !large
      ? paged((c, l) => model.itemPage(c, l), sel.itemCursor ?? 0, limit)
      : { ids: heldMost(model, userSide.ids, limit), info: null };
  return {
    large,
    totals,
    users: [...userSide.ids].sort(byString),
    items: [...itemSide.ids].sort(byString),
    page: { users: userSide.info, items: itemSide.info },
  };
}

/** The matrices for resolved ids. O(|users|·history + |items|²). */
export function computeView(model: Model, ids: Resolved): View {
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
      } else if (b < a) {
        // Symmetric: reuse the upper triangle.
        cRow.push(C[b]![a]!);
        sRow.push(S[b]![a]!);
      } else {
        const p = model.similarity(items[a]!, items[b]!);
        cRow.push(p?.cooccurrences ?? 0);
        sRow.push(p?.similarity ?? 0);
      }
    }
    C.push(cRow);
    S.push(sRow);
  }
  return { ...ids, users: [...users], items: [...items], H, n, C, S, measure: model.options.similarity };
}

/** Exact-id lookup (`q=`): the id as a user with a history and as an item with n > 0. O(history). */
export function lookup(model: Model, q: string): { users: string[]; items: string[] } {
  const id = q;
  if (id.length === 0 || id.length > MAX_ID_LENGTH) return { users: [], items: [] };
  return {
    users: model.items(id).length > 0 ? [id] : [],
    items: model.interactions(id) > 0 ? [id] : [],
  };
}

/**
 * Changes whenever what a view may show changes: the model object (replaced on a rebuild) and
 * its version (grows with every change of H and every flush that changed a list).
 */
export function modelFingerprint(model: Model, modelId: number): string {
  return `${modelId}:${model.version}`;
}
