// Health and metrics endpoints. /livez fails only when the consumer is wedged (input waiting, the
// broker answering, nothing of ours running, no batch arriving): a broker outage must not get the
// pod restarted (a restart cannot fix the broker and costs a full state restore). /readyz reflects
// "state restored, the consumer live, outputs flowing". Both carry the reasons when they fail.
import type { Registry } from 'prom-client';
import type { RouteSpec } from '../router.js';
import { sendBody, sendJson } from '../respond.js';

export interface HealthDeps {
  readonly registry: Registry;
  readonly isReady: () => boolean;
  readonly phase?: () => string;
  /** Liveness with reasons (default: live while the event loop turns). */
  readonly liveness?: () => { readonly live: boolean; readonly reasons: readonly string[] };
}

export function healthRoutes(deps: HealthDeps): RouteSpec[] {
  return [
    {
      template: '/livez',
      handle: ({ res }) => {
        const l = deps.liveness?.() ?? { live: true, reasons: [] };
        sendJson(
          res,
          l.live ? 200 : 503,
          l.live ? { status: 'ok' } : { status: 'wedged', reasons: l.reasons },
        );
      },
    },
    {
      template: '/readyz',
      handle: ({ res }) => {
        const ready = deps.isReady();
        const phase = deps.phase?.();
        const reasons = ready ? [] : (deps.liveness?.().reasons ?? []);
        sendJson(res, ready ? 200 : 503, {
          status: ready ? 'ready' : 'not_ready',
          ...(phase !== undefined ? { phase } : {}),
          ...(reasons.length > 0 ? { reasons } : {}),
        });
      },
    },
    {
      template: '/metrics',
      handle: async ({ res }) => {
        const text = await deps.registry.metrics();
        sendBody(res, 200, deps.registry.contentType, text);
      },
    },
  ];
}
