// Personal data over an open port (issue 21, item 10): the routes that reveal or act on a user's
// data — /users/{id}/items (right of access), /users/{id}/recommendations, the inspector's state,
// events and writes — are closed when the server listens beyond the loopback without
// HTTP_AUTH_TOKEN, need `Authorization: Bearer <token>` when it is set, and stay open on a loopback
// HTTP_HOST without one. Probes, /metrics and the item queries answer whatever the rule. The
// servers here bind to 127.0.0.1; the rule is chosen from the HTTP_HOST it would be given.
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { isLoopbackHost } from '../../src/authority.js';
import { userRouteAccess, type UserRouteAccess } from '../../src/http/access.js';
import { inspectorRoutes, type InspectorRoutes } from '../../src/http/inspector/routes.js';
import { startHttpServer, type HttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';
import { seedModel } from '../helpers/seed.js';

const TOKEN = 'Zk3v9QpLr8Tn2Wc6Yh1Jd5Mb7Xs4Fg0A'; // 32 characters
const open: { http: HttpServer; inspector: InspectorRoutes }[] = [];
afterEach(async () => {
  for (const { http, inspector } of open.splice(0)) {
    inspector.close();
    await http.close();
  }
});

/** The query API and the inspector's routes, as app.ts composes them, under `access`. */
async function start(access: UserRouteAccess | undefined) {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString('utf8'));
      cb();
    },
  });
  const model = seedModel();
  const inspector = inspectorRoutes({
    model: () => model,
    writes: true,
    writer: {
      interactions: (events) => Promise.resolve({ events: events.length }),
      forget: () => Promise.resolve({ requestId: 'r-1' }),
    },
    receipts: () => [],
    log: createLogger('silent'),
    assets: new Map([['index.html', Buffer.from('<!doctype html><p>inspector</p>')]]),
  });
  const http = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    log: createLogger('debug', sink),
    registry: new Registry(),
    isReady: () => true,
    model: () => model,
    phase: () => 'live',
    personalDataHold: () => undefined,
    routes: inspector.routes,
    ...(access ? { access } : {}),
  });
  open.push({ http, inspector });
  const call = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(http.url + path, init);
    const text = await res.text();
    const json =
      res.headers.get('content-type')?.startsWith('application/json') && text ? JSON.parse(text) : undefined;
    return { status: res.status, headers: res.headers, text, body: json as Body | undefined };
  };
  return { http, logs, call };
}

type Body = { error?: { code: string; message: string } } & Record<string, unknown>;
const bearer = (t: string): RequestInit => ({ headers: { authorization: `Bearer ${t}` } });
const USER_ROUTES = [
  '/users/homer/items',
  '/users/homer/recommendations',
  '/inspector/state',
  // What a forget changed: derived from the forgotten user's data.
  '/forgets',
];
const OPEN_ROUTES = [
  '/livez',
  '/readyz',
  '/metrics',
  '/items/item-0/neighbors',
  '/items/item-0/similarity/item-1',
  '/',
];
const forget: RequestInit = {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ userId: 'homer' }),
};

describe('the access rule', () => {
  it('loopback addresses and names are loopback; every other listen address is not', () => {
    for (const h of ['127.0.0.1', '127.3.2.1', 'localhost', 'LOCALHOST', '::1', '[::1]', '::ffff:127.0.0.1'])
      expect(isLoopbackHost(h), h).toBe(true);
    for (const h of [
      '0.0.0.0',
      '::',
      '[::]',
      '10.1.2.3',
      '192.168.0.7',
      'amnesia',
      'localhost.example.com',
      '127.0.0.1.nip.io',
    ])
      expect(isLoopbackHost(h), h).toBe(false);
  });

  it('a token means token, whatever the host; without one, open on the loopback and closed beyond', () => {
    expect(userRouteAccess({ host: '127.0.0.1' }).kind).toBe('open');
    expect(userRouteAccess({ host: '0.0.0.0' }).kind).toBe('closed');
    expect(userRouteAccess({ host: '10.0.0.5' }).kind).toBe('closed');
    expect(userRouteAccess({ host: '0.0.0.0', authToken: TOKEN }).kind).toBe('token');
    expect(userRouteAccess({ host: '127.0.0.1', authToken: TOKEN }).kind).toBe('token');
  });
});

describe('beyond the loopback without HTTP_AUTH_TOKEN', () => {
  it('answers 403 USER_ROUTES_DISABLED on every user route, saying how to open them, and no data', async () => {
    const s = await start(userRouteAccess({ host: '0.0.0.0' }));
    for (const path of [...USER_ROUTES, '/inspector/events']) {
      const r = await s.call(path, bearer(TOKEN));
      expect(r.status, path).toBe(403);
      expect(r.body?.error?.code, path).toBe('USER_ROUTES_DISABLED');
      expect(r.body?.error?.message, path).toContain('HTTP_AUTH_TOKEN');
      expect(r.text, path).not.toContain('item-0');
    }
    const w = await s.call('/inspector/forget', forget);
    expect(w.status).toBe(403);
    expect(w.body?.error?.code).toBe('USER_ROUTES_DISABLED');
  });

  it('keeps the probes, /metrics, the item queries and the inspector page open', async () => {
    const s = await start(userRouteAccess({ host: '0.0.0.0' }));
    for (const path of OPEN_ROUTES) expect((await s.call(path)).status, path).toBe(200);
  });
});

describe('with HTTP_AUTH_TOKEN', () => {
  for (const host of ['0.0.0.0', '127.0.0.1']) {
    it(`(HTTP_HOST ${host}) user routes need the bearer token: 401 with a challenge, else the answer`, async () => {
      const s = await start(userRouteAccess({ host, authToken: TOKEN }));
      for (const path of USER_ROUTES) {
        for (const init of [
          {},
          bearer(TOKEN.slice(0, -1) + 'B'), // same length, one character off
          bearer(TOKEN.slice(1)), // shorter
          bearer(`${TOKEN}x`), // longer
          { headers: { authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` } },
        ] as RequestInit[]) {
          const r = await s.call(path, init);
          expect(r.status, path).toBe(401);
          expect(r.body?.error?.code).toBe('UNAUTHORIZED');
          expect(r.headers.get('www-authenticate')).toMatch(/^Bearer realm="amnesia"/);
          expect(r.text).not.toContain('item-0');
        }
        const ok = await s.call(path, bearer(TOKEN));
        expect(ok.status, path).toBe(200);
        // The scheme is case-insensitive (RFC 9110).
        expect((await s.call(path, { headers: { authorization: `bearer ${TOKEN}` } })).status).toBe(200);
      }
      expect((await s.call('/users/homer/items', bearer(TOKEN))).body).toEqual({
        userId: 'homer',
        items: ['item-0', 'item-1', 'item-2', 'item-4'],
      });
      expect((await s.call('/inspector/forget', forget)).status).toBe(401);
      const w = await s.call('/inspector/forget', {
        ...forget,
        headers: { ...(forget.headers as Record<string, string>), authorization: `Bearer ${TOKEN}` },
      });
      expect(w.status).toBe(202);
      for (const path of OPEN_ROUTES) expect((await s.call(path)).status, path).toBe(200);
      // The token never reaches the logs.
      expect(s.logs.join('')).not.toContain(TOKEN);
    });
  }
});

describe('on the loopback without a token', () => {
  it('user routes answer as before (only this machine can connect)', async () => {
    const s = await start(undefined); // the server's default: the rule for its own host
    expect((await s.call('/users/homer/items')).status).toBe(200);
    expect((await s.call('/inspector/state')).status).toBe(200);
  });
});
