// Read-only queries of the current model: item neighbours, pair similarity, recommendations and a
// user's stored items (right of access). The model getter is called per request because the
// service replaces its model on every rebuild.
import type { Model, NeighborList } from '../../model/index.js';
import { checkId, parseK } from '../params.js';
import { HttpError, sendJson } from '../respond.js';
import type { RouteSpec } from '../router.js';

/** Recommendations returned when `k` is absent. */
export const DEFAULT_RECOMMENDATIONS = 20;

export interface QueryDeps {
  readonly model: () => Model;
}

/** The time of the flush that produced the list (the engine stamps every flush; 0 if none was given). */
function updatedAtOf(list: NeighborList): number {
  return list.updatedAt ?? 0;
}

function itemNotFound(): HttpError {
  return new HttpError('ITEM_NOT_FOUND', 'no such item (it has no interactions)');
}

export function queryRoutes(deps: QueryDeps): RouteSpec[] {
  return [
    {
      template: '/items/{itemId}/neighbors',
      handle: ({ res, url, params }) => {
        const itemId = checkId('itemId', params.itemId!);
        const k = parseK(url, Number.MAX_SAFE_INTEGER);
        // The full stored list (at most TOP_K), sliced here so that its identity is the model's.
        const list = deps.model().neighbors(itemId);
        if (list === undefined) throw itemNotFound();
        sendJson(res, 200, {
          itemId: list.itemId,
          interactions: list.interactions,
          neighbors: list.neighbors.slice(0, k),
          updatedAt: updatedAtOf(list),
        });
      },
    },
    {
      template: '/items/{a}/similarity/{b}',
      handle: ({ res, params }) => {
        const a = checkId('a', params.a!);
        const b = checkId('b', params.b!);
        const s = deps.model().similarity(a, b);
        if (s === undefined) throw itemNotFound();
        sendJson(res, 200, {
          similarity: s.similarity,
          cooccurrences: s.cooccurrences,
          interactionsA: s.interactionsA,
          interactionsB: s.interactionsB,
        });
      },
    },
    {
      // An unknown user gets an empty list, like a forgotten one: a different answer would reveal
      // whether the service has ever seen the id.
      template: '/users/{userId}/recommendations',
      personal: 'read',
      handle: ({ res, url, params }) => {
        const userId = checkId('userId', params.userId!);
        const k = parseK(url, DEFAULT_RECOMMENDATIONS);
        sendJson(res, 200, { userId, recommendations: deps.model().recommend(userId, k) });
      },
    },
    {
      template: '/users/{userId}/items',
      personal: 'read',
      handle: ({ res, params }) => {
        const userId = checkId('userId', params.userId!);
        sendJson(res, 200, { userId, items: deps.model().items(userId) });
      },
    },
  ];
}
