// The HTTP API over a real Model filled with the seed example and a fresh registry: every endpoint,
// its errors (400/404/405), readiness, HTTP metrics, and that user ids never reach the logs.
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createLogger } from '../../src/log.js';
import type { Model } from '../../src/model/index.js';
import { HTTP_ERRORS } from '../../src/http/respond.js';
import { startHttpServer, type HttpDeps, type HttpServer } from '../../src/http/server.js';
import { item, seedModel } from '../helpers/seed.js';

const servers: HttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

interface Started extends HttpServer {
  registry: Registry;
  logs: string[];
  setReady(r: boolean): void;
  setModel(m: Model): void;
}

async function start(overrides: Partial<HttpDeps> = {}): Promise<Started> {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString('utf8'));
      cb();
    },
  });
  let ready = false;
  let model = seedModel();
  const registry = new Registry();
  const s = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    log: createLogger('debug', sink),
    registry,
    isReady: () => ready,
    model: () => model,
    phase: () => (ready ? 'live' : 'rebuilding'),
    personalDataHold: () => undefined,
    ...overrides,
  });
  servers.push(s);
  return Object.assign(s, {
    registry,
    logs,
    setReady: (r: boolean) => (ready = r),
    setModel: (m: Model) => (model = m),
  });
}

async function get(s: HttpServer, path: string, init: RequestInit = {}) {
  const res = await fetch(s.url + path, init);
  const text = await res.text();
  const isJson = res.headers.get('content-type')?.startsWith('application/json') ?? false;
  return {
    status: res.status,
    headers: res.headers,
    text,
    body: isJson && text ? JSON.parse(text) : undefined,
  };
}

describe('health', () => {
  it('binds to the given host and answers /livez with 200 whatever the readiness', async () => {
    const s = await start();
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const r = await get(s, '/livez');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'ok' });
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
  });

  it('/readyz is 503 until the service is ready, then 200, and follows it back', async () => {
    const s = await start();
    let r = await get(s, '/readyz');
    expect(r.status).toBe(503);
    expect(r.body).toEqual({ status: 'not_ready', phase: 'rebuilding' });
    s.setReady(true);
    r = await get(s, '/readyz');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'ready', phase: 'live' });
    s.setReady(false);
    expect((await get(s, '/readyz')).status).toBe(503);
  });

  it('HEAD answers like GET without a body', async () => {
    const s = await start();
    const r = await get(s, '/livez', { method: 'HEAD' });
    expect(r.status).toBe(200);
    expect(r.text).toBe('');
  });
});

describe('/metrics', () => {
  it('serves the registry in the Prometheus text format, with HTTP metrics labelled by route template', async () => {
    const s = await start();
    await get(s, '/users/homer/items');
    await get(s, '/items/item-0/neighbors');
    await get(s, '/items/nope/neighbors');
    await get(s, '/nowhere');
    const r = await get(s, '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe(s.registry.contentType);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(r.text).toContain('# TYPE amnesia_http_requests_total counter');
    expect(r.text).toContain(
      'amnesia_http_requests_total{route="/users/{userId}/items",method="GET",status="200"} 1',
    );
    expect(r.text).toContain(
      'amnesia_http_requests_total{route="/items/{itemId}/neighbors",method="GET",status="200"} 1',
    );
    expect(r.text).toContain(
      'amnesia_http_requests_total{route="/items/{itemId}/neighbors",method="GET",status="404"} 1',
    );
    expect(r.text).toContain('amnesia_http_requests_total{route="unmatched",method="GET",status="404"} 1');
    expect(r.text).toContain(
      'amnesia_http_request_duration_seconds_count{route="/items/{itemId}/neighbors"} 2',
    );
    expect(r.text).not.toContain('homer');
  });

  it('a second server on the same registry shares the HTTP metrics', async () => {
    const a = await start();
    const b = await start({ registry: a.registry });
    expect((await get(b, '/livez')).status).toBe(200);
  });
});

describe('GET /items/{itemId}/neighbors', () => {
  it('returns the item-neighbours shape: n_i, the ordered top-K and updatedAt', async () => {
    const s = await start();
    const r = await get(s, '/items/item-0/neighbors');
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.body).toEqual({
      itemId: 'item-0',
      interactions: 2,
      neighbors: [
        { itemId: 'item-1', similarity: 1 / 2, cooccurrences: 2 },
        { itemId: 'item-4', similarity: 1 / 2, cooccurrences: 1 },
        { itemId: 'item-2', similarity: 1 / 3, cooccurrences: 1 },
        { itemId: 'item-3', similarity: 1 / 3, cooccurrences: 1 },
      ],
      updatedAt: expect.any(Number),
    });
    // The same list version keeps its time.
    const again = await get(s, '/items/item-0/neighbors?k=1');
    expect(again.body.updatedAt).toBe(r.body.updatedAt);
    expect(again.body.neighbors).toEqual([{ itemId: 'item-1', similarity: 1 / 2, cooccurrences: 2 }]);
  });

  it('k above the stored list length (≤ TOP_K) returns the whole list', async () => {
    const s = await start({ model: () => seedModel({ topK: 2 }) });
    const r = await get(s, '/items/item-1/neighbors?k=1000');
    expect(r.body.interactions).toBe(4);
    expect(r.body.neighbors).toEqual([
      { itemId: 'item-0', similarity: 1 / 2, cooccurrences: 2 },
      { itemId: 'item-2', similarity: 1 / 2, cooccurrences: 2 },
    ]);
  });

  it('an unknown item is 404 ITEM_NOT_FOUND', async () => {
    const s = await start();
    const r = await get(s, '/items/item-9/neighbors');
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ error: { code: 'ITEM_NOT_FOUND', message: expect.any(String) } });
    expect(r.headers.get('cache-control')).toBe('no-store');
  });

  it('decodes path segments, including an encoded "/"', async () => {
    const model = seedModel();
    model.interaction({ userId: 'u', itemId: 'a/b c', action: 'ADD', occurredAt: 1 });
    model.interaction({ userId: 'u', itemId: 'item-0', action: 'ADD', occurredAt: 1 });
    model.flush(3);
    const s = await start({ model: () => model });
    const r = await get(s, `/items/${encodeURIComponent('a/b c')}/neighbors`);
    expect(r.status).toBe(200);
    expect(r.body.itemId).toBe('a/b c');
    expect(r.body.neighbors[0]).toEqual({ itemId: 'item-0', similarity: 1 / 3, cooccurrences: 1 });
  });
});

describe('GET /items/{a}/similarity/{b}', () => {
  it('returns S, C and both n', async () => {
    const s = await start();
    expect((await get(s, '/items/item-0/similarity/item-1')).body).toEqual({
      similarity: 1 / 2,
      cooccurrences: 2,
      interactionsA: 2,
      interactionsB: 4,
    });
    expect((await get(s, '/items/item-2/similarity/item-4')).body).toEqual({
      similarity: 1 / 2,
      cooccurrences: 1,
      interactionsA: 2,
      interactionsB: 1,
    });
  });

  it('two known items that never co-occur have similarity 0', async () => {
    const s = await start();
    expect((await get(s, '/items/item-2/similarity/item-3')).body).toEqual({
      similarity: 0,
      cooccurrences: 0,
      interactionsA: 2,
      interactionsB: 2,
    });
  });

  it('either item unknown is 404', async () => {
    const s = await start();
    expect((await get(s, '/items/item-0/similarity/item-9')).status).toBe(404);
    expect((await get(s, '/items/item-9/similarity/item-0')).body.error.code).toBe('ITEM_NOT_FOUND');
  });
});

describe('GET /users/{userId}/recommendations', () => {
  it("scores items outside the history by the summed similarities of the user's items", async () => {
    const s = await start();
    // marge has {1, 2}: item-0 = S10 + S20 = 1/2 + 1/3, item-4 = S14 + S24 = 1/4 + 1/2, item-3 = S13.
    const r = await get(s, '/users/marge/recommendations');
    expect(r.status).toBe(200);
    expect(r.body.userId).toBe('marge');
    expect(r.body.recommendations.map((x: { itemId: string }) => x.itemId)).toEqual([
      'item-0',
      'item-4',
      'item-3',
    ]);
    expect(r.body.recommendations[0].score).toBeCloseTo(1 / 2 + 1 / 3, 12);
    expect(r.body.recommendations[1].score).toBeCloseTo(3 / 4, 12);
    expect((await get(s, '/users/marge/recommendations?k=1')).body.recommendations).toHaveLength(1);
  });

  it('an unknown user gets 200 with no recommendations', async () => {
    const s = await start();
    const r = await get(s, '/users/nobody/recommendations');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ userId: 'nobody', recommendations: [] });
  });
});

describe('GET /users/{userId}/items (right of access)', () => {
  it('lists the stored items in id order', async () => {
    const s = await start();
    const r = await get(s, '/users/homer/items');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ userId: 'homer', items: [item(0), item(1), item(2), item(4)] });
  });

  it('answers a forgotten user exactly like one never seen: 200 and empty', async () => {
    const model = seedModel();
    const s = await start({ model: () => model });
    const unknown = await get(s, '/users/nobody/items');
    model.forget({ userId: 'homer', requestedAt: 3_000 });
    model.flush(3_000);
    const forgotten = await get(s, '/users/homer/items');
    expect(forgotten.status).toBe(unknown.status);
    expect(forgotten.status).toBe(200);
    expect(forgotten.body).toEqual({ userId: 'homer', items: [] });
    expect((await get(s, '/users/homer/recommendations')).body.recommendations).toEqual([]);
    // item-4 was homer's alone: it is gone from the queries too.
    expect((await get(s, '/items/item-4/neighbors')).status).toBe(404);
  });

  it('reads the current model on every request (the service replaces it on rebuild)', async () => {
    const s = await start();
    expect((await get(s, '/users/homer/items')).body.items).toHaveLength(4);
    s.setModel(seedModel());
    const fresh = seedModel();
    fresh.forget({ userId: 'homer', requestedAt: 5 });
    fresh.flush(5);
    s.setModel(fresh);
    expect((await get(s, '/users/homer/items')).body.items).toEqual([]);
  });
});

describe('bad requests', () => {
  it.each(['0', 'abc', '99999', '1001', '-1', '1.5', '', '1e2', ' 5'])(
    'k=%j is 400 INVALID_PARAMETER',
    async (k) => {
      const s = await start();
      for (const path of ['/items/item-0/neighbors', '/users/homer/recommendations']) {
        const r = await get(s, `${path}?k=${encodeURIComponent(k)}`);
        expect(r.status, path).toBe(400);
        expect(r.body).toEqual({
          error: { code: 'INVALID_PARAMETER', message: expect.stringContaining('k ') },
        });
      }
    },
  );

  it('k=1000 is accepted', async () => {
    const s = await start();
    expect((await get(s, '/users/homer/recommendations?k=1000')).status).toBe(200);
  });

  it('ids over 256 characters are 400; 256 are fine', async () => {
    const s = await start();
    const long = 'x'.repeat(257);
    for (const path of [
      `/items/${long}/neighbors`,
      `/items/item-0/similarity/${long}`,
      `/users/${long}/items`,
      `/users/${long}/recommendations`,
    ]) {
      const r = await get(s, path);
      expect(r.status, path).toBe(400);
      expect(r.body.error.code).toBe('INVALID_PARAMETER');
    }
    expect((await get(s, `/items/${'x'.repeat(256)}/neighbors`)).status).toBe(404);
    expect((await get(s, `/users/${'x'.repeat(256)}/items`)).status).toBe(200);
  });

  it('an empty id or malformed percent-encoding is 400', async () => {
    const s = await start();
    expect((await get(s, '/items//neighbors')).status).toBe(400);
    const r = await get(s, '/users/%E0%A4%A/items');
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('INVALID_PARAMETER');
  });

  it('a method other than GET/HEAD on a known path is 405 with Allow', async () => {
    const s = await start();
    for (const [method, path] of [
      ['POST', '/livez'],
      ['DELETE', '/users/homer/items'],
      ['PUT', '/items/item-0/neighbors'],
    ] as const) {
      const r = await get(s, path, { method });
      expect(r.status, `${method} ${path}`).toBe(405);
      expect(r.headers.get('allow')).toBe('GET, HEAD');
      expect(r.body.error.code).toBe('METHOD_NOT_ALLOWED');
    }
    // The stored items are still there.
    expect((await get(s, '/users/homer/items')).body.items).toHaveLength(4);
  });

  it('an unknown path is 404 NOT_FOUND, JSON', async () => {
    const s = await start();
    for (const path of ['/', '/items', '/items/item-0', '/items/item-0/neighbors/', '/users/homer']) {
      const r = await get(s, path);
      expect(r.status, path).toBe(404);
      expect(r.body).toEqual({ error: { code: 'NOT_FOUND', message: expect.any(String) } });
    }
  });

  it('an exception in a handler is a 500 INTERNAL naming the route template, not the path', async () => {
    const s = await start({
      model: () => {
        throw new Error('boom');
      },
    });
    const r = await get(s, '/users/homer/items');
    expect(r.status).toBe(500);
    expect(r.body).toEqual({ error: { code: 'INTERNAL', message: 'internal error' } });
    const logged = s.logs.join('');
    expect(logged).toContain('/users/{userId}/items');
    expect(logged).not.toContain('homer');
  });
});

describe('further routes', () => {
  it('are matched after the built-in endpoints, answer their methods only, and are labelled by template', async () => {
    const seen: string[] = [];
    const s = await start({
      routes: [
        {
          template: '/things/{id}',
          methods: ['POST'],
          handle: ({ res, params }) => {
            seen.push(params.id!);
            res.writeHead(201, { 'content-type': 'text/plain' }).end('made');
          },
        },
        // Shadowed: the built-in /livez comes first.
        { template: '/livez', handle: () => Promise.reject(new Error('never called')) },
      ],
    });
    expect((await get(s, '/things/a%2Fb', { method: 'POST' })).text).toBe('made');
    expect(seen).toEqual(['a/b']);
    const wrong = await get(s, '/things/x');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    expect(wrong.body.error.code).toBe('METHOD_NOT_ALLOWED');
    expect((await get(s, '/livez')).status).toBe(200);
    const metrics = await s.registry.metrics();
    expect(metrics).toContain(
      'amnesia_http_requests_total{route="/things/{id}",method="POST",status="201"} 1',
    );
    expect(metrics).toContain(
      'amnesia_http_requests_total{route="/things/{id}",method="GET",status="405"} 1',
    );
  });
});

describe('error codes', () => {
  it('every declared code, with its status, is in the table of docs/operations.md and nothing else is', () => {
    const doc = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('### Errors'), doc.indexOf('\n## ', doc.indexOf('### Errors')));
    const documented = [...section.matchAll(/^\| (\d{3}) +\| `([A-Z_]+)` +\|/gm)].map(([, status, code]) => [
      code,
      Number(status),
    ]);
    expect(Object.fromEntries(documented)).toEqual(HTTP_ERRORS);
    expect(documented).toHaveLength(Object.keys(HTTP_ERRORS).length);
  });
});

describe('logging', () => {
  it('never writes a user id: requests are logged by route template', async () => {
    const s = await start();
    await get(s, '/users/homer/items');
    await get(s, '/users/marge/recommendations?k=3');
    await get(s, '/users/bart/items', { method: 'POST' });
    const logged = s.logs.join('');
    expect(logged).toContain('/users/{userId}/items');
    expect(logged).toContain('/users/{userId}/recommendations');
    for (const u of ['homer', 'marge', 'bart']) expect(logged).not.toContain(u);
  });
});

describe('close', () => {
  it('stops listening and is idempotent', async () => {
    const s = await start();
    await get(s, '/livez');
    await Promise.all([s.close(), s.close()]);
    await expect(fetch(s.url + '/livez')).rejects.toThrow();
  });
});

describe('without the query API (MODE=partitioned: no instance holds the whole model)', () => {
  it('answers health and metrics but 404 for the item and user queries', async () => {
    const s = await start({ queries: false });
    s.setReady(true);
    expect((await get(s, '/livez')).status).toBe(200);
    expect((await get(s, '/readyz')).status).toBe(200);
    expect((await get(s, '/metrics')).status).toBe(200);
    const paths = [
      `/items/${item(1)}/neighbors`,
      `/items/${item(1)}/similarity/${item(2)}`,
      '/users/homer/recommendations',
      '/users/homer/items',
    ];
    // The same paths answer 200 with the query API on.
    const withQueries = await start();
    for (const path of paths) expect((await get(withQueries, path)).status, path).toBe(200);
    for (const path of paths) {
      const r = await get(s, path);
      expect(r.status, path).toBe(404);
      expect(r.body.error.code, path).toBe('NOT_FOUND');
    }
  });
});
