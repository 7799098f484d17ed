// What a forget changed for the people who remain (single mode, beside the other queries): the
// forgets still kept, the items whose lists each one changed (neighbours that dropped out, came in,
// moved) and, for a remaining user, their recommendations with the lists before and after it.
// Keyed by the deletion request id: nothing here names or holds the forgotten user. The records
// are derived from a user's data, so these routes follow the user routes' access rule.
import type { Model } from '../../model/index.js';
import { listChange, listsOf, type ForgetEffect, type ForgetEffects } from '../../output/forget-effects.js';
import { checkId, parseK } from '../params.js';
import { HttpError, sendJson } from '../respond.js';
import type { RouteSpec } from '../router.js';
import { DEFAULT_RECOMMENDATIONS } from './queries.js';

export interface ForgetRouteDeps {
  readonly model: () => Model;
  /** The records of the running service (undefined before it exists). */
  readonly effects: () => ForgetEffects | undefined;
}

function effectOf(deps: ForgetRouteDeps, requestId: string): ForgetEffect {
  const e = deps.effects()?.get(checkId('requestId', requestId));
  if (e === undefined)
    throw new HttpError(
      'FORGET_EFFECT_NOT_FOUND',
      'no record of this request: unknown, not carried out by this instance, or no longer kept (FORGET_EFFECT_RETENTION_MS)',
    );
  return e;
}

/** The whole record of one forget, each changed list with how it changed. */
export function describeEffect(requestId: string, e: ForgetEffect) {
  return {
    requestId,
    requestIds: e.requestIds,
    completedAt: e.completedAt,
    items: e.items.map((i) => ({ ...i, ...listChange(i.before, i.after) })),
  };
}

/**
 * A remaining user's recommendations with the lists before and after the forget: their history
 * now, scored by the lists the forget changed as they were on each side (every other list as it is
 * now), so that the difference is the forget's alone.
 */
export function recommendationsAround(model: Model, e: ForgetEffect, userId: string, k: number) {
  return {
    before: model.recommend(userId, k, listsOf(e, 'before')),
    after: model.recommend(userId, k, listsOf(e, 'after')),
  };
}

export function forgetRoutes(deps: ForgetRouteDeps): RouteSpec[] {
  return [
    {
      template: '/forgets',
      personal: 'read',
      handle: ({ res }) => {
        const forgets = (deps.effects()?.list() ?? []).map((e) => ({
          requestIds: e.requestIds,
          completedAt: e.completedAt,
          itemsChanged: e.items.length,
        }));
        sendJson(res, 200, { forgets });
      },
    },
    {
      template: '/forgets/{requestId}',
      personal: 'read',
      handle: ({ res, params }) => {
        const requestId = params.requestId!;
        sendJson(res, 200, describeEffect(requestId, effectOf(deps, requestId)));
      },
    },
    {
      // An unknown or forgotten user gets empty lists, as from /users/{userId}/recommendations.
      template: '/forgets/{requestId}/users/{userId}/recommendations',
      personal: 'read',
      handle: ({ res, url, params }) => {
        const e = effectOf(deps, params.requestId!);
        const userId = checkId('userId', params.userId!);
        const k = parseK(url, DEFAULT_RECOMMENDATIONS);
        sendJson(res, 200, {
          requestId: params.requestId,
          userId,
          ...recommendationsAround(deps.model(), e, userId, k),
        });
      },
    },
  ];
}
