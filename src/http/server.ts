// The HTTP server (node:http, no framework): health, Prometheus metrics, the read-only queries and
// any further routes (the inspector), all `RouteSpec`s matched by template. Every response is JSON
// (except /metrics and the inspector's page) with `cache-control: no-store`; errors are
// `{ "error": { "code", "message" } }` with the codes declared in respond.ts. Logs and metric labels
// carry route templates, never raw paths: /users/{userId}/... paths hold personal data.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Counter, Histogram, type Registry } from 'prom-client';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Model } from '../model/index.js';
import { authorize, describeAccess, userRouteAccess, type UserRouteAccess } from './access.js';
import { HttpError, sendError } from './respond.js';
import { NOT_LIVE_RETRY_AFTER_S } from '../service.js';
import { compileRoute, matchRoute, pathSegments, type RouteSpec } from './router.js';
import { healthRoutes } from './routes/health.js';
import { queryRoutes } from './routes/queries.js';
import { forgetRoutes } from './routes/forgets.js';
import type { ForgetEffects } from '../output/forget-effects.js';

export interface HttpDeps {
  readonly host: string;
  readonly port: number;
  readonly log: Logger;
  readonly registry: Registry;
  readonly isReady: () => boolean;
  /** A getter: the service replaces its model on every rebuild. */
  readonly model: () => Model;
  /** The engine phase, shown in the /readyz body. */
  readonly phase?: () => string;
  /** Liveness with reasons (/livez); default: live while the event loop turns. */
  readonly liveness?: () => { readonly live: boolean; readonly reasons: readonly string[] };
  /** Serve the query API (default true; MODE=partitioned has no whole model to answer from). */
  readonly queries?: boolean;
  /** What each forget changed, for the query API's /forgets routes (none kept: undefined). */
  readonly forgetEffects?: () => ForgetEffects | undefined;
  /** Further routes (the inspector's), matched after the built-in ones. */
  readonly routes?: readonly RouteSpec[];
  /** Who may use the personal routes (default: the rule for `host` without a token, access.ts). */
  readonly access?: UserRouteAccess;
  /**
   * Why personal 'read' routes must not answer now (503 NOT_LIVE with Retry-After), or undefined:
   * `personalDataHold(service)` of src/service.ts — no user's data from a state that is not live.
   */
  readonly personalDataHold: () => string | undefined;
}

export interface HttpServer {
  readonly url: string;
  readonly port: number;
  /** Stops accepting, lets requests in flight finish (at most CLOSE_GRACE_MS), then closes. */
  close(): Promise<void>;
}

const METHOD_LABELS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const CLOSE_GRACE_MS = 2_000;

interface HttpMetrics {
  readonly requests: Counter<'route' | 'method' | 'status'>;
  readonly duration: Histogram<'route'>;
}

/** Registers the HTTP metrics once per registry (a second server on the same registry shares them). */
function httpMetrics(registry: Registry): HttpMetrics {
  const requests =
    (registry.getSingleMetric('amnesia_http_requests_total') as HttpMetrics['requests'] | undefined) ??
    new Counter({
      name: 'amnesia_http_requests_total',
      help: 'HTTP requests answered, by route template, method and status code.',
      labelNames: ['route', 'method', 'status'] as const,
      registers: [registry],
    });
  const duration =
    (registry.getSingleMetric('amnesia_http_request_duration_seconds') as
      HttpMetrics['duration'] | undefined) ??
    new Histogram({
      name: 'amnesia_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by route template.',
      labelNames: ['route'] as const,
      // Queries read in-memory lists (sub-millisecond); /metrics and recommendations take longer.
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    });
  return { requests, duration };
}

export async function startHttpServer(deps: HttpDeps): Promise<HttpServer> {
  const log = deps.log.child({ module: 'http' });
  const metrics = httpMetrics(deps.registry);
  const access = deps.access ?? userRouteAccess({ host: deps.host });
  const routes = [
    ...healthRoutes({
      registry: deps.registry,
      isReady: deps.isReady,
      ...(deps.phase ? { phase: deps.phase } : {}),
      ...(deps.liveness ? { liveness: deps.liveness } : {}),
    }),
    ...(deps.queries === false
      ? []
      : [
          ...queryRoutes({ model: deps.model }),
          ...forgetRoutes({ model: deps.model, effects: deps.forgetEffects ?? (() => undefined) }),
        ]),
    ...(deps.routes ?? []),
  ].map(compileRoute);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const t0 = performance.now();
    let route = 'unmatched';
    try {
      const raw = req.url ?? '/';
      if (!raw.startsWith('/')) throw new HttpError('INVALID_PARAMETER', 'request target must be a path');
      const url = new URL(`http://localhost${raw}`);
      const found = matchRoute(routes, pathSegments(url));
      if (!found) throw new HttpError('NOT_FOUND', 'no such endpoint');
      route = found.route.spec.template;
      const { methods } = found.route;
      if (!(methods as readonly string[]).includes(req.method ?? '')) {
        const allow = methods.join(', ');
        throw new HttpError('METHOD_NOT_ALLOWED', `${route} accepts ${allow}`, { allow });
      }
      const { personal } = found.route.spec;
      if (personal) authorize(access, req);
      if (personal === 'read') {
        const hold = deps.personalDataHold();
        if (hold !== undefined)
          throw new HttpError('NOT_LIVE', `no user data until the state is live: ${hold}`, {
            'retry-after': String(NOT_LIVE_RETRY_AFTER_S),
          });
      }
      await found.route.spec.handle({ req, res, url, params: found.params });
    } catch (e) {
      if (res.headersSent) {
        log.error({ route, err: describeError(e) }, 'request failed after the response started');
        res.destroy();
      } else if (e instanceof HttpError) {
        sendError(res, e);
      } else {
        log.error({ route, err: describeError(e) }, 'request failed');
        sendError(res, new HttpError('INTERNAL', 'internal error'));
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const method = METHOD_LABELS.has(req.method ?? '') ? req.method! : 'OTHER';
    metrics.requests.inc({ route, method, status: String(res.statusCode) });
    metrics.duration.observe({ route }, seconds);
    log.debug({ route, method, status: res.statusCode, ms: Math.round(seconds * 1e4) / 10 }, 'request');
  }

  const sockets = new Set<Socket>();
  const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
    void handle(req, res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('clientError', (_e, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(deps.port, deps.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostPart = deps.host.includes(':') ? `[${deps.host}]` : deps.host;
  const url = `http://${hostPart}:${port}`;
  log.info({ host: deps.host, port, userRoutes: describeAccess(access) }, 'http server listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          for (const s of sockets) s.destroy();
        }, CLOSE_GRACE_MS);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          log.info({}, 'http server closed');
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
