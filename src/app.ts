// The whole process minus signals: metrics, the HTTP server (up first, so /livez and /metrics answer
// while the state is restored), the inspector, and the streaming service. Used by main.ts and the demo.
import { readFileSync } from 'node:fs';
import type { Config } from './config.js';
import { createInspector, type Inspector } from './http/inspector/index.js';
import { userRouteAccess } from './http/access.js';
import { registerOpsMetrics } from './http/ops-metrics.js';
import { startHttpServer, type HttpServer } from './http/server.js';
import type { Logger } from './log.js';
import { Model } from './model/index.js';
import { startPartitionedService } from './partitioned/service.js';
import { personalDataHold, snapshotStatus, type Service, type ServiceOptions } from './service.js';
import { startSingleService } from './single/service.js';
import { createKafka } from './kafka/client.js';
import { assertKafkajsFix } from './kafka/kafkajs-fix.js';
import { createMetrics } from './telemetry/metrics.js';
import { SchemaRegistryClient } from './kafka/registry.js';

export interface App {
  readonly service: Service;
  readonly http: HttpServer;
  /** The live inspector, when INSPECTOR_ENABLED. */
  readonly inspector: Inspector | undefined;
  /** Service first (final flush, commit, snapshot), then the inspector's streams, then HTTP. */
  stop(): Promise<void>;
}

export interface AppOptions {
  readonly log: Logger;
  readonly onFatal?: (error: unknown) => void;
  readonly fault?: string | undefined;
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * The mode switch: MODE=single runs src/single/, MODE=partitioned src/partitioned/ (instances share
 * the work and the state lives in Kafka, docs/scale-out.md). Both return the same Service surface.
 */
export function startService(config: Config, options: ServiceOptions = {}): Promise<Service> {
  return config.mode === 'partitioned'
    ? startPartitionedService(config, options)
    : startSingleService(config, options);
}

export async function startApp(config: Config, options: AppOptions): Promise<App> {
  const { log } = options;
  await assertKafkajsFix();
  let service: Service | undefined;
  const metrics = createMetrics({
    defaultMetrics: true,
    modelStats: () => service?.model?.stats(),
    health: () => service && { ...service.healthFigures(), live: service.health().live },
  });
  registerOpsMetrics(metrics.registry, {
    version: version(),
    lag: () => service?.consumerLag(),
    lastEventTime: () => service?.lastEventTime(),
    snapshot: () => snapshotStatus(service),
  });
  // Until the service exists, queries see an empty model (and /readyz says not ready).
  const empty = new Model(config.model);
  const inspector: Inspector | undefined = config.inspector.enabled
    ? createInspector({
        model: () => service?.model ?? empty,
        kafka: createKafka(config.kafka, log, '-inspector'),
        topics: config.topics,
        ...(config.registry ? { registry: new SchemaRegistryClient(config.registry) } : {}),
        writes: config.inspector.writes,
        allowedHosts: config.inspector.allowedHosts,
        maxStreams: config.inspector.maxStreams,
        log,
        isReady: () => service?.isReady() ?? false,
        personalDataHold: () => personalDataHold(service),
      })
    : undefined;
  // The user routes and the inspector's data and writes obey one access rule (http/access.ts):
  // beyond the loopback they need HTTP_AUTH_TOKEN, and are closed without it.
  const access = userRouteAccess(config.http);
  if (inspector) log.info({ writes: config.inspector.writes, access: access.kind }, 'inspector enabled');
  let http: HttpServer;
  try {
    http = await startHttpServer({
      host: config.http.host,
      port: config.http.port,
      log,
      registry: metrics.registry,
      isReady: () => service?.isReady() ?? false,
      model: () => service?.model ?? empty,
      phase: () => service?.phase ?? 'starting',
      liveness: () => service?.health() ?? { live: true, reasons: [] },
      // MODE=partitioned: no instance holds the whole model; subscribers read item-similarities.
      queries: config.mode === 'single',
      forgetEffects: () => service?.forgetEffects,
      routes: inspector?.routes ?? [],
      access,
      // Either mode: no user's data from a state that has not applied every deletion it has read.
      personalDataHold: () => personalDataHold(service),
    });
  } catch (e) {
    await inspector?.close();
    throw e;
  }
  try {
    service = await startService(config, {
      log,
      metrics,
      ...(options.onFatal ? { onFatal: options.onFatal } : {}),
      ...(options.fault ? { fault: options.fault } : {}),
    });
  } catch (e) {
    await inspector?.close();
    await http.close();
    throw e;
  }
  const svc = service;
  return {
    service: svc,
    http,
    inspector,
    async stop() {
      try {
        await svc.stop();
      } finally {
        await inspector?.close();
        await http.close();
      }
    },
  };
}
