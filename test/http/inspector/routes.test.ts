// The inspector's routes on the real HTTP server, without a broker (receipts and writes are fakes
// standing in for Kafka): the Host allow-list on every route, the Origin check on writes, the cap
// on event streams, every declared error code, one metric label per route template, paging, and
// the event stream pushing model changes and receipts.
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { loadAssets } from '../../../src/http/inspector/assets.js';
import {
  inspectorRoutes,
  type InspectorRouteDeps,
  type InspectorRoutes,
} from '../../../src/http/inspector/routes.js';
import type { ShownReceipt } from '../../../src/http/inspector/receipts.js';
import type { Interaction, Writer } from '../../../src/http/inspector/writes.js';
import { startHttpServer, type HttpServer } from '../../../src/http/server.js';
import { createLogger } from '../../../src/log.js';
import { Model } from '../../../src/model/index.js';
import { waitFor } from '../../helpers/kafka.js';
import { eventStream, request } from '../../helpers/http.js';
import { seedModel } from '../../helpers/seed.js';

interface Started {
  readonly url: string;
  readonly port: number;
  readonly registry: Registry;
  readonly inspector: InspectorRoutes;
  readonly produced: Interaction[];
  readonly forgotten: string[];
  readonly receipts: ShownReceipt[];
  model: Model;
}

const open: { http: HttpServer; inspector: InspectorRoutes }[] = [];
afterEach(async () => {
  for (const { http, inspector } of open.splice(0)) {
    inspector.close();
    await http.close();
  }
});

const ASSETS = new Map([
  ['index.html', Buffer.from('<!doctype html><p>inspector</p>')],
  ['app.js', Buffer.from('// app')],
  ['style.css', Buffer.from('/* css */')],
]);

async function start(
  overrides: Partial<InspectorRouteDeps> & { failWrites?: boolean } = {},
): Promise<Started> {
  const produced: Interaction[] = [];
  const forgotten: string[] = [];
  const receipts: ShownReceipt[] = [];
  const writer: Writer = {
    interactions: (events) => {
      if (overrides.failWrites) return Promise.reject(new Error('broker down'));
      produced.push(...events);
      return Promise.resolve({ events: events.length });
    },
    forget: (userId) => {
      forgotten.push(userId);
      return Promise.resolve({ requestId: `r-${forgotten.length}` });
    },
  };
  const started = { model: seedModel() } as Started;
  const inspector = inspectorRoutes({
    model: () => started.model,
    writes: true,
    writer,
    receipts: () => receipts,
    log: createLogger('silent'),
    assets: ASSETS,
    pollMs: 20,
    ...overrides,
  });
  const registry = new Registry();
  const http = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    log: createLogger('silent'),
    registry,
    isReady: () => true,
    personalDataHold: () => undefined,
    model: () => started.model,
    routes: inspector.routes,
  });
  open.push({ http, inspector });
  return Object.assign(started, {
    url: http.url,
    port: http.port,
    registry,
    inspector,
    produced,
    forgotten,
    receipts,
  });
}

const json = { 'content-type': 'application/json' };
const errorCode = (r: { json<T>(): T }) => r.json<{ error: { code: string } }>().error.code;

describe('the inspector routes', () => {
  it('answer only to the allowed Host names, on every route (403 HOST_NOT_ALLOWED)', async () => {
    const s = await start();
    const routes: [string, string, string?][] = [
      ['GET', '/'],
      ['GET', '/index.html'],
      ['GET', '/inspector/app.js'],
      ['GET', '/inspector/style.css'],
      ['GET', '/inspector/state'],
      ['GET', '/inspector/events'],
      ['POST', '/inspector/interactions', JSON.stringify({ userId: 'u', itemId: 'i', action: 'ADD' })],
      ['POST', '/inspector/users', JSON.stringify({ userId: 'u', items: ['i'] })],
      ['POST', '/inspector/forget', JSON.stringify({ userId: 'u' })],
    ];
    for (const host of [
      'rebind.example',
      'rebind.example:' + s.port,
      '127.0.0.2',
      'localhost.:1',
      '127.0.0.1:x',
    ]) {
      for (const [method, path, body] of routes) {
        const r = await request(s.url + path, {
          method,
          headers: { host, ...json },
          ...(body ? { body } : {}),
        });
        expect(r.status, `${method} ${path} Host ${host}`).toBe(403);
        expect(errorCode(r)).toBe('HOST_NOT_ALLOWED');
      }
    }
    // Without a Host header at all, node refuses an HTTP/1.1 request before any route runs.
    expect((await request(s.url + '/inspector/state', { headers: { host: '' } })).status).toBe(400);
    expect(s.produced).toEqual([]);
    expect(s.forgotten).toEqual([]);
    // The other endpoints do not care (probes and Prometheus use the pod IP).
    expect((await request(s.url + '/livez', { headers: { host: 'rebind.example' } })).status).toBe(200);
    for (const host of [
      `127.0.0.1:${s.port}`,
      `localhost:${s.port}`,
      `[::1]:${s.port}`,
      'LOCALHOST',
      '127.0.0.1',
    ]) {
      expect((await request(s.url + '/inspector/state', { headers: { host } })).status, host).toBe(200);
    }
  });

  it('take their allow-list from the settings, with or without a port', async () => {
    const s = await start({ allowedHosts: ['inspector.internal', 'demo.example:8443'] });
    const status = async (host: string) => (await request(s.url + '/', { headers: { host } })).status;
    expect(await status('inspector.internal:1234')).toBe(200);
    expect(await status('demo.example:8443')).toBe(200);
    expect(await status('demo.example:8444')).toBe(403);
    expect(await status('demo.example')).toBe(403);
    expect(await status(`127.0.0.1:${s.port}`)).toBe(403);
  });

  it('refuse writes from a page of another origin (403 ORIGIN_NOT_ALLOWED), accept same-host and non-browser ones', async () => {
    const s = await start();
    const forget = (headers: Record<string, string>) =>
      request(s.url + '/inspector/forget', {
        method: 'POST',
        headers: { ...json, ...headers },
        body: '{"userId":"homer"}',
      });
    for (const origin of [
      'http://rebind.example',
      `http://rebind.example:${s.port}`,
      'null',
      'file://',
      'ftp://127.0.0.1',
    ]) {
      const r = await forget({ origin });
      expect(r.status, origin).toBe(403);
      expect(errorCode(r)).toBe('ORIGIN_NOT_ALLOWED');
    }
    expect(s.forgotten).toEqual([]);
    expect((await forget({ origin: `http://127.0.0.1:${s.port}` })).status).toBe(202);
    expect((await forget({ origin: `http://localhost:${s.port}` })).status).toBe(202);
    expect((await forget({})).status).toBe(202);
    expect(s.forgotten).toEqual(['homer', 'homer', 'homer']);
    // Reads carry no Origin check: a page cannot read them cross-origin anyway (no CORS headers).
    expect(
      (await request(s.url + '/inspector/state', { headers: { origin: 'http://rebind.example' } })).status,
    ).toBe(200);
  });

  it('cap the open event streams (503 TOO_MANY_STREAMS with retry-after) and free a slot when one closes', async () => {
    const s = await start({ maxStreams: 2 });
    const a = eventStream(`${s.url}/inspector/events`);
    const b = eventStream(`${s.url}/inspector/events`);
    expect((await a.response).status).toBe(200);
    expect((await b.response).status).toBe(200);
    await waitFor(() => s.inspector.streams() === 2, 5_000);
    const c = eventStream(`${s.url}/inspector/events`);
    const refused = await c.response;
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(JSON.parse(refused.body)).toEqual({
      error: { code: 'TOO_MANY_STREAMS', message: expect.any(String) },
    });
    await a.close();
    await waitFor(() => s.inspector.streams() === 1, 5_000);
    const d = eventStream(`${s.url}/inspector/events`);
    expect((await d.response).status).toBe(200);
    await Promise.all([b.close(), c.close(), d.close()]);
  });

  it('answer every refusal with its declared code and status', async () => {
    const s = await start();
    const post = (path: string, body: string, type = 'application/json') =>
      request(s.url + path, { method: 'POST', headers: { 'content-type': type }, body });
    const cases: [Promise<Awaited<ReturnType<typeof request>>>, number, string][] = [
      [post('/inspector/forget', '{"userId":"x"}', 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [post('/inspector/forget', '{not json'), 400, 'INVALID_BODY'],
      [post('/inspector/forget', '{}'), 400, 'INVALID_BODY'],
      [post('/inspector/forget', '{"userId":""}'), 400, 'INVALID_BODY'],
      [post('/inspector/interactions', '{"userId":"a","itemId":"b","action":"DELETE"}'), 400, 'INVALID_BODY'],
      [
        post('/inspector/interactions', '{"userId":"a","itemId":"b","action":"ADD","x":1}'),
        400,
        'INVALID_BODY',
      ],
      [post('/inspector/users', '{"userId":"a","items":[]}'), 400, 'INVALID_BODY'],
      [
        post('/inspector/users', JSON.stringify({ userId: 'a', items: 'x'.repeat(70_000) })),
        413,
        'BODY_TOO_LARGE',
      ],
      [request(s.url + '/inspector/forget'), 405, 'METHOD_NOT_ALLOWED'],
      [request(s.url + '/inspector/state', { method: 'POST' }), 405, 'METHOD_NOT_ALLOWED'],
      [request(s.url + '/inspector/events', { method: 'HEAD' }), 405, 'METHOD_NOT_ALLOWED'],
      [request(s.url + '/inspector/state?userCursor=-1'), 400, 'INVALID_PARAMETER'],
      [request(s.url + '/inspector/state?limit=41'), 400, 'INVALID_PARAMETER'],
      [request(s.url + '/inspector/events?itemCursor=x'), 400, 'INVALID_PARAMETER'],
      [request(s.url + '/inspector/nothing'), 404, 'NOT_FOUND'],
    ];
    for (const [pending, status, code] of cases) {
      const r = await pending;
      expect(r.status, code).toBe(status);
      if (r.text) expect(errorCode(r)).toBe(code);
    }
    expect((await request(s.url + '/inspector/forget')).headers.allow).toBe('POST');
    expect((await request(s.url + '/inspector/events', { method: 'HEAD' })).headers.allow).toBe('GET');
    expect(s.produced).toEqual([]);

    const off = await start({ writes: false });
    const r = await request(off.url + '/inspector/forget', {
      method: 'POST',
      headers: json,
      body: '{"userId":"homer"}',
    });
    expect(r.status).toBe(403);
    expect(errorCode(r)).toBe('WRITES_DISABLED');
    expect(off.forgotten).toEqual([]);

    const down = await start({ failWrites: true });
    const failed = await request(down.url + '/inspector/users', {
      method: 'POST',
      headers: json,
      body: '{"userId":"u","items":["a"]}',
    });
    expect(failed.status).toBe(503);
    expect(errorCode(failed)).toBe('KAFKA_UNAVAILABLE');

    s.inspector.close();
    const closed = await request(s.url + '/inspector/events');
    expect(closed.status).toBe(503);
    expect(errorCode(closed)).toBe('UNAVAILABLE');
  });

  it('produce what the write routes ask for: 202 with the count or the request id', async () => {
    const s = await start();
    const post = (path: string, body: unknown) =>
      request(s.url + path, { method: 'POST', headers: json, body: JSON.stringify(body) });
    const added = await post('/inspector/users', { userId: 'maggie', items: ['item-4', 'item-0', 'item-4'] });
    expect(added.status).toBe(202);
    expect(added.json()).toEqual({ accepted: true, events: 2 });
    const removed = await post('/inspector/interactions', {
      userId: 'maggie',
      itemId: 'item-0',
      action: 'REMOVE',
    });
    expect(removed.json()).toEqual({ accepted: true, events: 1 });
    expect(s.produced).toEqual([
      { userId: 'maggie', itemId: 'item-4', action: 'ADD' },
      { userId: 'maggie', itemId: 'item-0', action: 'ADD' },
      { userId: 'maggie', itemId: 'item-0', action: 'REMOVE' },
    ]);
    expect((await post('/inspector/forget', { userId: 'maggie' })).json()).toEqual({
      accepted: true,
      requestId: 'r-1',
    });
  });

  it('label their metrics with one route template each', async () => {
    const s = await start();
    await request(s.url + '/');
    await request(s.url + '/inspector/app.js');
    await request(s.url + '/inspector/state?users=homer');
    await request(s.url + '/inspector/forget', { method: 'POST', headers: json, body: '{"userId":"homer"}' });
    await request(s.url + '/inspector/state', { headers: { host: 'rebind.example' } });
    const ev = eventStream(`${s.url}/inspector/events`);
    await ev.response;
    await ev.close();
    const text = await s.registry.metrics();
    for (const [route, method, status] of [
      ['/', 'GET', '200'],
      ['/inspector/app.js', 'GET', '200'],
      ['/inspector/state', 'GET', '200'],
      ['/inspector/state', 'GET', '403'],
      ['/inspector/forget', 'POST', '202'],
      ['/inspector/events', 'GET', '200'],
    ])
      expect(text).toContain(
        `amnesia_http_requests_total{route="${route}",method="${method}",status="${status}"} 1`,
      );
    expect(text).not.toContain('route="inspector"');
    expect(text).not.toContain('homer');
  });

  it('serve the page with a strict content security policy', async () => {
    const s = await start();
    const page = await request(s.url + '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.text).toBe('<!doctype html><p>inspector</p>');
    expect((await request(s.url + '/inspector/style.css')).headers['content-type']).toContain('text/css');
  });

  it('serve the real page files, including every module the page imports', async () => {
    const assets = loadAssets(createLogger('silent'));
    const s = await start({ assets });
    const app = await request(s.url + '/inspector/app.js');
    expect(app.status).toBe(200);
    const imports = [...app.text.matchAll(/^import .* from '\.\/([a-z-]+\.js)';$/gm)].map((m) => m[1]);
    expect(imports).toContain('matrices.js');
    for (const file of imports) {
      const r = await request(`${s.url}/inspector/${file}`);
      expect(r.status, file).toBe(200);
      expect(r.headers['content-type']).toContain('text/javascript');
    }
    expect((await request(s.url + '/')).text).toContain('/inspector/app.js');
  });

  it('page through a large catalogue with cursors, and find ids by exact lookup only', async () => {
    const s = await start();
    const m = new Model({ topK: 5 });
    for (let u = 0; u < 100; u++)
      for (const i of [u % 7, (u * 3) % 50, 60])
        m.interaction({
          userId: `user-${String(u).padStart(3, '0')}`,
          itemId: `item-${i}`,
          action: 'ADD',
          occurredAt: 1,
        });
    m.flush();
    s.model = m;
    type State = {
      large: boolean;
      totals: { users: number; items: number };
      users: string[];
      items: string[];
      page: {
        users: { cursor: number; next: number | null } | null;
        items: { cursor: number; next: number | null } | null;
      };
      matches?: { users: string[]; items: string[] };
    };
    const get = async (q: string) => (await request(`${s.url}/inspector/state${q}`)).json<State>();
    const first = await get('');
    expect(first.large).toBe(true);
    expect(first.totals).toEqual({ users: 100, items: 51 });
    expect(first.users).toHaveLength(12);
    expect(first.page.users).toEqual({ cursor: 0, next: 12 });
    // Items: those the shown users hold most; item-60 is everyone's.
    expect(first.items).toContain('item-60');
    expect(first.page.items).toBeNull();
    const seen = new Set<string>();
    let cursor: number | null = 0;
    for (let pages = 0; cursor !== null; pages++) {
      const p = await get(`?limit=40&userCursor=${cursor}`);
      for (const u of p.users) seen.add(u);
      cursor = p.page.users!.next;
      expect(pages).toBeLessThan(4);
    }
    expect(seen.size).toBe(100);
    const items = await get('?itemCursor=0&limit=40');
    expect(items.items).toHaveLength(40);
    expect(items.page.items).toEqual({ cursor: 0, next: 40 });
    expect((await get('?q=user-007')).matches).toEqual({ users: ['user-007'], items: [] });
    expect((await get('?q=item-6')).matches).toEqual({ users: [], items: ['item-6'] });
    // A substring is not a match any more.
    expect((await get('?q=user-00')).matches).toEqual({ users: [], items: [] });
  });

  it('push a new state when the model changes, and receipts as they come', async () => {
    const s = await start();
    const ev = eventStream(`${s.url}/inspector/events?items=item-0,item-4&users=homer,maggie`);
    await waitFor(() => ev.got.length === 1, 5_000);
    expect(ev.got[0]).toMatchObject({ event: 'state', data: { items: ['item-0', 'item-4'], n: [2, 1] } });
    s.model.interaction({ userId: 'maggie', itemId: 'item-4', action: 'ADD', occurredAt: 5 });
    s.model.flush();
    await waitFor(() => ev.got.length === 2, 5_000);
    expect(ev.got[1]).toMatchObject({ event: 'state', data: { n: [2, 2] } });
    const receipt = {
      requestId: 'r-9',
      status: 'FORGOTTEN',
      interactionsRemoved: 1,
      itemsAffected: 1,
      completedAt: 7,
    };
    s.inspector.receipt(receipt);
    await waitFor(() => ev.got.length === 3, 5_000);
    expect(ev.got[2]).toEqual({ event: 'receipt', data: receipt });
    // A change that leaves the stream's view as it was pushes nothing.
    const version = s.model.version;
    s.model.interaction({ userId: 'homer', itemId: 'item-2', action: 'REMOVE', occurredAt: 6 });
    s.model.interaction({ userId: 'homer', itemId: 'item-2', action: 'ADD', occurredAt: 7 });
    s.model.flush();
    expect(s.model.version).toBeGreaterThan(version);
    await new Promise((r) => setTimeout(r, 150));
    expect(ev.got).toHaveLength(3);
    await ev.close();
  });
});
