// The HTTP server (node:http, no framework): health, Prometheus metrics and the read-only queries,
// plus extra routes (the inspector) tried before the 404. Every response is JSON (except /metrics)
// with `cache-control: no-store`; errors are `{ "error": { "code", "message" } }`. Logs and metric
// labels carry route templates, never raw paths: /users/{userId}/... paths hold personal data.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Counter, Histogram, type Registry } from 'prom-client';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Model } from '../model/index.js';
import { HttpError, sendError } from './respond.js';
import { compileRoute, matchRoute, pathSegments } from './router.js';
import { healthRoutes } from './routes/health.js';
import { queryRoutes } from './routes/queries.js';

/** An extra route: returns true when it handled the request. May set `routeLabel` for metrics. */
export type Route = ((req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>) & {
  routeLabel?: string;
};

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
  readonly routes?: readonly Route[];
}

export interface HttpServer {
  readonly url: string;
  readonly port: number;
  /** Stops accepting, lets requests in flight finish (at most CLOSE_GRACE_MS), then closes. */
  close(): Promise<void>;
}

const ALLOWED_METHODS = 'GET, HEAD';
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
  const routes = [
    ...healthRoutes({
      registry: deps.registry,
      isReady: deps.isReady,
      ...(deps.phase ? { phase: deps.phase } : {}),
    }),
    ...queryRoutes({ model: deps.model }),
  ].map(compileRoute);
  const extra = deps.routes ?? [];

  async function dispatch(req: IncomingMessage, res: ServerResponse): Promise<string> {
    const raw = req.url ?? '/';
    if (!raw.startsWith('/')) throw new HttpError(400, 'INVALID_PARAMETER', 'request target must be a path');
    const url = new URL(`http://localhost${raw}`);
    const found = matchRoute(routes, pathSegments(url));
    if (found) {
      const route = found.route.spec.template;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        throw Object.assign(
          new HttpError(405, 'METHOD_NOT_ALLOWED', `${route} accepts GET and HEAD`, {
            allow: ALLOWED_METHODS,
          }),
          { route },
        );
      }
      try {
        await found.route.spec.handle({ req, res, url, params: found.params });
      } catch (e) {
        throw Object.assign(e instanceof Error ? e : new Error(String(e)), { route });
      }
      return route;
    }
    for (const r of extra) {
      if (await r(req, res, url)) return r.routeLabel ?? 'extension';
    }
    throw new HttpError(404, 'NOT_FOUND', 'no such endpoint');
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const t0 = performance.now();
    let route = 'unmatched';
    try {
      route = await dispatch(req, res);
    } catch (e) {
      route = (e as { route?: string }).route ?? route;
      if (res.headersSent) {
        log.error({ route, err: describeError(e) }, 'request failed after the response started');
        res.destroy();
      } else if (e instanceof HttpError) {
        sendError(res, e);
      } else {
        log.error({ route, err: describeError(e) }, 'request failed');
        sendError(res, new HttpError(500, 'INTERNAL', 'internal error'));
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
  log.info({ host: deps.host, port }, 'http server listening');

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
