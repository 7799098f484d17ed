// Health and metrics endpoints. /livez answers while the event loop turns and never looks at Kafka
// (a broker outage must not get the pod restarted: restarting cannot fix the broker and costs a
// full state restore); /readyz reflects "state restored and the consumer live".
import type { Registry } from 'prom-client';
import type { RouteSpec } from '../router.js';
import { sendBody, sendJson } from '../respond.js';

export interface HealthDeps {
  readonly registry: Registry;
  readonly isReady: () => boolean;
  readonly phase?: () => string;
}

export function healthRoutes(deps: HealthDeps): RouteSpec[] {
  return [
    {
      template: '/livez',
      handle: ({ res }) => sendJson(res, 200, { status: 'ok' }),
    },
    {
      template: '/readyz',
      handle: ({ res }) => {
        const ready = deps.isReady();
        const phase = deps.phase?.();
        sendJson(res, ready ? 200 : 503, {
          status: ready ? 'ready' : 'not_ready',
          ...(phase !== undefined ? { phase } : {}),
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
