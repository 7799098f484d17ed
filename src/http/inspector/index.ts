// The live inspector (INSPECTOR_ENABLED, off by default): a page showing H, n, C and S as the
// service holds them, pushed over Server-Sent Events, plus deletion receipts read from the receipts
// topic. Optional write controls (INSPECTOR_WRITES) PRODUCE to the input topics; they never touch
// the model. This module wires the Kafka parts (receipts follower, lazy producer) to the routes.
// Personal data: the page shows user ids (that is its point: small demo catalogues), the logs never.
import type { Kafka } from 'kafkajs';
import type { Logger } from '../../log.js';
import type { Model } from '../../model/index.js';
import type { SchemaRegistryClient } from '../../kafka/registry.js';
import type { RouteSpec } from '../router.js';
import { lazyProducer } from './producer.js';
import { followReceipts, type ShownReceipt } from './receipts.js';
import { inspectorRoutes } from './routes.js';
import { InspectorWriter } from './writes.js';

export interface InspectorDeps {
  /** The current model (read fresh every time: it is replaced on a rebuild). */
  readonly model: () => Model;
  readonly kafka: Kafka;
  readonly topics: { readonly interactions: string; readonly deletions: string; readonly receipts: string };
  /** To decode Avro receipts; JSON receipts need none. */
  readonly registry?: SchemaRegistryClient;
  /** INSPECTOR_WRITES: the write routes refuse (403) and the page has no controls unless true. */
  readonly writes: boolean;
  readonly log: Logger;
  readonly isReady?: () => boolean;
  /** Why no user's data may be shown now (open event streams are ended meanwhile). */
  readonly personalDataHold?: () => string | undefined;
  /** INSPECTOR_ALLOWED_HOSTS (default: 127.0.0.1, localhost, [::1], any port). */
  readonly allowedHosts?: readonly string[];
  /** INSPECTOR_MAX_STREAMS (default 8). */
  readonly maxStreams?: number;
  /** Model poll period for the event streams (ms, default 250). */
  readonly pollMs?: number;
}

export interface Inspector {
  /** For `startHttpServer({ routes })`. */
  readonly routes: readonly RouteSpec[];
  /** Resolves once the receipts consumer has joined (receipts from then on are shown). */
  readonly receiptsJoined: Promise<void>;
  /** The receipts the panel shows now, newest first (read from the receipts topic). */
  receipts(): readonly ShownReceipt[];
  /** Ends the event streams, the receipts consumer and the producer. Idempotent. */
  close(): Promise<void>;
}

export function createInspector(deps: InspectorDeps): Inspector {
  const log = deps.log.child({ module: 'inspector' });
  const producer = lazyProducer(deps.kafka);
  // The follower starts after the routes exist (it pushes to their streams).
  let latest: () => readonly ShownReceipt[] = () => [];
  const core = inspectorRoutes({
    model: deps.model,
    ...(deps.isReady ? { isReady: deps.isReady } : {}),
    ...(deps.personalDataHold ? { personalDataHold: deps.personalDataHold } : {}),
    writes: deps.writes,
    writer: new InspectorWriter(() => producer.get(), deps.topics),
    receipts: () => latest(),
    log: deps.log,
    ...(deps.allowedHosts ? { allowedHosts: deps.allowedHosts } : {}),
    ...(deps.maxStreams !== undefined ? { maxStreams: deps.maxStreams } : {}),
    ...(deps.pollMs !== undefined ? { pollMs: deps.pollMs } : {}),
  });
  const receipts = followReceipts({
    kafka: deps.kafka,
    topic: deps.topics.receipts,
    ...(deps.registry ? { registry: deps.registry } : {}),
    log,
    onReceipt: (r) => core.receipt(r),
  });
  latest = () => receipts.latest();

  let closing: Promise<void> | undefined;
  return {
    routes: core.routes,
    receiptsJoined: receipts.joined,
    receipts: () => receipts.latest(),
    close() {
      closing ??= (async () => {
        core.close();
        await receipts.close();
        await producer.close();
      })();
      return closing;
    },
  };
}
