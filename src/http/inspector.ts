// The live inspector: a page showing H, n, C and S as the service holds them, pushed over
// Server-Sent Events, plus deletion receipts read from the receipts topic. Optional write controls
// (INSPECTOR_WRITES) PRODUCE to the input topics; they never touch the model directly.
// Personal data: the page shows user ids (that is its point: small demo catalogues), the logs never.
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kafka, Producer } from 'kafkajs';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Model } from '../model/index.js';
import type { SchemaRegistryClient } from '../stream/registry.js';
import type { Route } from './server.js';
import { followReceipts, type ShownReceipt } from './inspector/receipts.js';
import {
  computeView,
  modelFingerprint,
  parseIdList,
  resolveSelection,
  search,
  type Selection,
  type View,
} from './inspector/view.js';
import {
  BadRequest,
  forgetBody,
  InspectorWriter,
  interactionBody,
  readJson,
  userBody,
  validate,
} from './inspector/writes.js';

export interface InspectorDeps {
  /** The current model (read fresh every time: it is replaced on a rebuild). */
  readonly model: () => Model;
  readonly kafka: Kafka;
  readonly topics: { readonly interactions: string; readonly deletions: string; readonly receipts: string };
  /** To decode Avro receipts; JSON receipts need none. */
  readonly registry?: SchemaRegistryClient;
  /** INSPECTOR_WRITES: the POST endpoints and the page's controls exist only when true. */
  readonly writes: boolean;
  readonly log: Logger;
  readonly isReady?: () => boolean;
  /** Model poll period for the event stream (ms, default 250). */
  readonly pollMs?: number;
}

export type InspectorRoute = Route & {
  /** Ends the event streams, the receipts consumer and the producer. */
  close(): Promise<void>;
  /** Resolves once the receipts consumer has joined (receipts from then on are shown). */
  readonly receiptsJoined: Promise<void>;
};

/** Even without a fingerprint change, views are recompared this often (changes that keep all counts). */
const FULL_COMPARE_MS = 1_000;
/** A large catalogue's automatic selection is recomputed at most this often (it scans all users). */
const RESELECT_MS = 2_000;
const HEARTBEAT_MS = 15_000;

const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/inspector/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/inspector/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

/**
 * The page assets sit next to this module under tsx; `tsc` does not copy them into dist/, so the
 * built code falls back to the sources (<repo>/src/http/inspector) when they were not copied.
 */
function loadAssets(log: Logger): Map<string, Buffer> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const dirs = [path.join(here, 'inspector'), path.resolve(here, '..', '..', 'src', 'http', 'inspector')];
  const dir = dirs.find((d) => existsSync(path.join(d, 'index.html')));
  const out = new Map<string, Buffer>();
  if (!dir) {
    log.warn({ searched: dirs }, 'inspector page assets not found');
    return out;
  }
  for (const { file } of Object.values(ASSETS)) out.set(file, readFileSync(path.join(dir, file)));
  return out;
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { error: { code, message } });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
    'x-content-type-options': 'nosniff',
  });
  res.end(text);
}

interface Stream {
  readonly res: ServerResponse;
  readonly sel: Selection;
  ids?: Parameters<typeof computeView>[1];
  selectedAt: number;
  /** Model fingerprint the selection was resolved at. */
  selectedFp?: string;
  lastView?: string;
}

export function inspectorRoute(deps: InspectorDeps): InspectorRoute {
  const log = deps.log.child({ module: 'inspector' });
  const assets = loadAssets(log);
  const streams = new Set<Stream>();
  const modelIds = new WeakMap<Model, number>();
  let nextModelId = 1;
  let lastFingerprint = '';
  let lastFullAt = 0;
  let closed = false;

  const modelId = (m: Model) => {
    let id = modelIds.get(m);
    if (id === undefined) modelIds.set(m, (id = nextModelId++));
    return id;
  };

  const broadcast = (event: string, data: unknown) => {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const s of streams) s.res.write(frame);
  };

  const receipts = followReceipts({
    kafka: deps.kafka,
    topic: deps.topics.receipts,
    ...(deps.registry ? { registry: deps.registry } : {}),
    log,
    onReceipt: (r: ShownReceipt) => broadcast('receipt', r),
  });

  let producer: Promise<Producer> | undefined;
  const getProducer = () =>
    (producer ??= (async () => {
      const p = deps.kafka.producer({ allowAutoTopicCreation: false });
      await p.connect();
      return p;
    })().catch((e: unknown) => {
      producer = undefined;
      throw e;
    }));
  const writer = new InspectorWriter(getProducer, deps.topics);

  const state = (view: View, extra: Record<string, unknown> = {}) => ({
    writes: deps.writes,
    ready: deps.isReady ? deps.isReady() : true,
    ...view,
    receipts: receipts.latest(),
    ...extra,
  });

  const viewOf = (s: Stream, model: Model, now: number, fp: string): View => {
    const stale = !s.ids || (s.selectedFp !== fp && (!s.ids.large || now - s.selectedAt >= RESELECT_MS));
    if (stale) {
      s.ids = resolveSelection(model, s.sel);
      s.selectedAt = now;
      s.selectedFp = fp;
    }
    return computeView(model, s.ids!);
  };

  const tick = () => {
    if (streams.size === 0) return;
    const model = deps.model();
    const now = Date.now();
    const fp = modelFingerprint(model, modelId(model));
    const changed = fp !== lastFingerprint;
    if (!changed && now - lastFullAt < FULL_COMPARE_MS) return;
    lastFingerprint = fp;
    lastFullAt = now;
    for (const s of streams) {
      try {
        const view = viewOf(s, model, now, fp);
        const text = JSON.stringify(view);
        if (text === s.lastView) continue;
        s.lastView = text;
        s.res.write(`event: state\ndata: ${JSON.stringify(state(view))}\n\n`);
      } catch (e) {
        log.warn({ err: describeError(e) }, 'inspector view failed');
      }
    }
  };
  const poll = setInterval(tick, deps.pollMs ?? 250);
  poll.unref();
  const heartbeat = setInterval(() => {
    for (const s of streams) s.res.write(': keep-alive\n\n');
  }, HEARTBEAT_MS);
  heartbeat.unref();

  const selectionOf = (url: URL): Selection => {
    const items = parseIdList(url.searchParams.get('items'));
    const users = parseIdList(url.searchParams.get('users'));
    return { ...(items ? { items } : {}), ...(users ? { users } : {}) };
  };

  const openStream = (req: IncomingMessage, res: ServerResponse, url: URL) => {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    const s: Stream = { res, sel: selectionOf(url), selectedAt: 0 };
    // EventSource reconnects by itself after this delay when the server goes away.
    res.write('retry: 1000\n\n');
    const model = deps.model();
    const view = viewOf(s, model, Date.now(), modelFingerprint(model, modelId(model)));
    s.lastView = JSON.stringify(view);
    res.write(`event: state\ndata: ${JSON.stringify(state(view))}\n\n`);
    streams.add(s);
    const drop = () => streams.delete(s);
    req.on('close', drop);
    res.on('error', drop);
  };

  const write = async (req: IncomingMessage, res: ServerResponse, kind: string) => {
    if (!deps.writes) {
      sendError(
        res,
        403,
        'WRITES_DISABLED',
        'writes are disabled (set INSPECTOR_WRITES=true to enable them)',
      );
      return;
    }
    try {
      const body = await readJson(req);
      let result: Record<string, unknown>;
      if (kind === 'interactions') {
        const e = validate(interactionBody, body);
        result = await writer.interactions([e]);
      } else if (kind === 'users') {
        const u = validate(userBody, body);
        const items = [...new Set(u.items)];
        result = await writer.interactions(
          items.map((itemId) => ({ userId: u.userId, itemId, action: 'ADD' })),
        );
      } else {
        const f = validate(forgetBody, body);
        result = await writer.forget(f.userId);
      }
      log.info({ endpoint: kind, ...result }, 'inspector produced input');
      sendJson(res, 202, { accepted: true, ...result });
    } catch (e) {
      if (e instanceof BadRequest) sendError(res, e.status, e.code, e.message);
      else {
        log.error({ err: describeError(e), endpoint: kind }, 'inspector produce failed');
        sendError(res, 503, 'KAFKA_UNAVAILABLE', 'could not produce to Kafka');
      }
    }
  };

  const route = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    const p = url.pathname;
    const asset = ASSETS[p];
    if (asset) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      const body = assets.get(asset.file);
      if (!body) {
        sendError(res, 500, 'INTERNAL', 'inspector page assets missing');
        return true;
      }
      res.writeHead(200, {
        'content-type': asset.type,
        'content-length': body.length,
        'cache-control': 'no-cache',
        ...SECURITY_HEADERS,
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      return true;
    }
    if (!p.startsWith('/inspector/')) return false;
    const sub = p.slice('/inspector/'.length);
    if (sub === 'state' || sub === 'events') {
      if (req.method !== 'GET') {
        sendError(res, 405, 'METHOD_NOT_ALLOWED', 'method not allowed');
        return true;
      }
      if (sub === 'events') {
        if (closed) sendError(res, 503, 'UNAVAILABLE', 'inspector closed');
        else openStream(req, res, url);
        return true;
      }
      const model = deps.model();
      const q = url.searchParams.get('q');
      const view = computeView(model, resolveSelection(model, selectionOf(url)));
      sendJson(res, 200, state(view, q !== null ? { matches: search(model, q) } : {}));
      return true;
    }
    if (sub === 'interactions' || sub === 'users' || sub === 'forget') {
      if (req.method !== 'POST') {
        sendError(res, 405, 'METHOD_NOT_ALLOWED', 'method not allowed');
        return true;
      }
      await write(req, res, sub);
      return true;
    }
    return false;
  };

  return Object.assign(route, {
    routeLabel: 'inspector',
    receiptsJoined: receipts.joined,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(poll);
      clearInterval(heartbeat);
      for (const s of streams) s.res.end();
      streams.clear();
      await receipts.close();
      const p = producer;
      producer = undefined;
      if (p) await p.then((x) => x.disconnect()).catch(() => undefined);
    },
  });
}
