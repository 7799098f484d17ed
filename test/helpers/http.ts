// The HTTP server in front of an in-process service (test harness), with the ops metrics registered
// on the service's registry, as src/app.ts composes them.
import { registerOpsMetrics } from '../../src/http/ops-metrics.js';
import { startHttpServer, type HttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';
import type { Service } from '../../src/service.js';

export function serveOverHttp(svc: Service): Promise<HttpServer> {
  registerOpsMetrics(svc.metrics.registry, { version: 'test' });
  return startHttpServer({
    host: '127.0.0.1',
    port: 0,
    log: createLogger('silent'),
    registry: svc.metrics.registry,
    isReady: () => svc.isReady(),
    model: () => svc.model,
    phase: () => svc.phase,
  });
}
