// The inspector's routes, as RouteSpecs of the one HTTP server: the page, GET /inspector/state,
// GET /inspector/events (SSE) and the write routes, each behind the Host allow-list (and the
// Origin check for writes). No Kafka here: receipts and writes come in through `deps`, so that the
// routes are tested without a broker (test/http/inspector/routes.test.ts).
import type { Logger } from '../../log.js';
import type { Model } from '../../model/index.js';
import { sendJson } from '../respond.js';
import type { RouteSpec } from '../router.js';
import { assetRoutes, loadAssets } from './assets.js';
import { hostGuard, type HostGuard } from './guard.js';
import { startPoller } from './poller.js';
import type { ShownReceipt } from './receipts.js';
import { frame, streamHub } from './streams.js';
import {
  computeView,
  lookup,
  modelFingerprint,
  resolveSelection,
  selectionOf,
  totalsOf,
  type Selection,
  type Totals,
  type View,
} from './view.js';
import { writeRoutes, type Writer } from './writes.js';

export const DEFAULT_MAX_STREAMS = 8;
export const DEFAULT_POLL_MS = 250;

export interface InspectorRouteDeps {
  /** The current model (read fresh every time: it is replaced on a rebuild). */
  readonly model: () => Model;
  readonly isReady?: () => boolean;
  /**
   * Why no user's data may be shown now (`personalDataHold` of src/service.ts), or undefined. The
   * server refuses new reads meanwhile; open event streams are ended instead of refreshed.
   */
  readonly personalDataHold?: () => string | undefined;
  /** INSPECTOR_WRITES: without it the write routes answer 403 and the page shows no controls. */
  readonly writes: boolean;
  /** What the write routes produce through (needed with `writes`). */
  readonly writer?: Writer;
  /** The latest deletion receipts, newest first. */
  readonly receipts: () => readonly ShownReceipt[];
  readonly log: Logger;
  /** INSPECTOR_ALLOWED_HOSTS (default: the loopback names). */
  readonly allowedHosts?: readonly string[];
  /** INSPECTOR_MAX_STREAMS. */
  readonly maxStreams?: number;
  /** Model poll period for the event streams (ms). */
  readonly pollMs?: number;
  /** The page files by name (default: read from disk). */
  readonly assets?: ReadonlyMap<string, Buffer>;
}

export interface InspectorRoutes {
  readonly routes: readonly RouteSpec[];
  /** Pushes a receipt to every open event stream. */
  receipt(r: ShownReceipt): void;
  /** Open event streams. */
  streams(): number;
  /** Checks the model now and pushes what changed, as the poll timer does (tests, benchmarks). */
  tick(): Promise<void>;
  /** Ends the event streams and stops polling. */
  close(): void;
}

function guarded(guard: HostGuard, spec: RouteSpec): RouteSpec {
  const writes = spec.methods?.includes('POST') ?? false;
  return {
    ...spec,
    handle: (ctx) => {
      guard.checkHost(ctx.req);
      if (writes) guard.checkOrigin(ctx.req);
      return spec.handle(ctx);
    },
  };
}

export function inspectorRoutes(deps: InspectorRouteDeps): InspectorRoutes {
  const log = deps.log.child({ module: 'inspector' });
  const guard = hostGuard(deps.allowedHosts);
  const hub = streamHub<Selection>(deps.maxStreams ?? DEFAULT_MAX_STREAMS);
  const ready = () => (deps.isReady ? deps.isReady() : true);
  const writer = deps.writes ? deps.writer : undefined;
  // The service replaces its model on a rebuild: a new object is a change even at an equal version.
  const modelIds = new WeakMap<Model, number>();
  let nextModelId = 1;
  const modelId = (m: Model) => {
    let id = modelIds.get(m);
    if (id === undefined) modelIds.set(m, (id = nextModelId++));
    return id;
  };

  // Totals cost a pass over the users (≈ 2 ms at 200k): once per model version, not per request.
  let counted: { fp: string; totals: Totals } | undefined;
  const totals = (model: Model): Totals => {
    const fp = modelFingerprint(model, modelId(model));
    if (counted?.fp !== fp) counted = { fp, totals: totalsOf(model) };
    return counted.totals;
  };
  const viewOf = (model: Model, sel: Selection): View =>
    computeView(model, resolveSelection(model, sel, totals(model)));
  const payload = (view: View, isReady: boolean, extra: Record<string, unknown> = {}) => ({
    writes: writer !== undefined,
    ready: isReady,
    ...view,
    receipts: deps.receipts(),
    ...extra,
  });
  /** The text a stream compares to decide whether to push (receipts travel as their own events). */
  const shown = (view: View, isReady: boolean) => JSON.stringify([isReady, view]);

  const poller = startPoller({
    intervalMs: deps.pollMs ?? DEFAULT_POLL_MS,
    active: () => hub.size > 0,
    fingerprint: () => {
      const m = deps.model();
      return `${modelFingerprint(m, modelId(m))}:${ready()}`;
    },
    // One new view per event-loop turn: eight streams on the heaviest selections stall the loop
    // for one view at a time (≈ 10 ms at 200k users), not for all eight.
    onChange: async () => {
      // Not live (a rebuild replaced the model): end the streams rather than show its state; the
      // page reconnects and is answered 503 NOT_LIVE until the state is live again.
      const held = () => deps.personalDataHold?.() !== undefined;
      if (held()) return hub.endAll();
      const model = deps.model();
      const isReady = ready();
      // Streams showing the same selection share one view (and one frame) per refresh.
      const views = new Map<string, { view: View; text: string; frame?: string }>();
      for (const s of hub.list()) {
        if (held()) return hub.endAll(); // checked again after every turn given away below
        const key = JSON.stringify(s.sel);
        let v = views.get(key);
        if (!v) {
          const view = viewOf(model, s.sel);
          views.set(key, (v = { view, text: shown(view, isReady) }));
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        if (v.text === s.last) continue;
        s.last = v.text;
        hub.write(s, (v.frame ??= frame('state', payload(v.view, isReady))));
      }
    },
    log,
  });

  const reads: RouteSpec[] = [
    {
      template: '/inspector/state',
      personal: 'read',
      handle: ({ res, url }) => {
        const model = deps.model();
        const view = viewOf(model, selectionOf(url));
        const q = url.searchParams.get('q');
        sendJson(res, 200, payload(view, ready(), q !== null ? { matches: lookup(model, q) } : {}));
      },
    },
    {
      template: '/inspector/events',
      methods: ['GET'],
      personal: 'read',
      handle: ({ req, res, url }) => {
        const sel = selectionOf(url);
        const view = viewOf(deps.model(), sel);
        const isReady = ready();
        const s = hub.open(req, res, sel);
        s.last = shown(view, isReady);
        hub.send(s, 'state', payload(view, isReady));
      },
    },
  ];
  const routes = [
    ...assetRoutes(deps.assets ?? loadAssets(log)),
    ...reads,
    ...writeRoutes({ writer, log }),
  ].map((r) => guarded(guard, r));

  return {
    routes,
    receipt: (r) => hub.broadcast('receipt', r),
    streams: () => hub.size,
    tick: () => poller.tick(),
    close() {
      poller.stop();
      hub.close();
    },
  };
}
