// No personal-data answer from a state that is not live (issue 21, item 4). A standby taking over,
// or a restarted instance, replays its inputs; in the single mode a user's deletion request, read
// first, is applied only at that user's next replayed event or at the end of the replay — meanwhile
// the model still holds their items. The user routes and the inspector read that model. The one
// rule (`personalDataHold` of src/service.ts, applied by the HTTP server to every personal read
// route) answers 503 NOT_LIVE with Retry-After until the phase is live, in either mode; this test
// drives each mode's own phase through a rebuild/restore (Kafka faked in memory) and asks the HTTP
// server wired as src/app.ts wires it. The expected answers once live come from the surviving events.
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { inspectorRoutes, type InspectorRoutes } from '../../src/http/inspector/routes.js';
import { startHttpServer, type HttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';
import { Model } from '../../src/model/index.js';
import { partitionedPhase } from '../../src/partitioned/service.js';
import { personalDataHold, type Phase } from '../../src/service.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { FakeLog } from '../helpers/fake-kafka.js';
import { eventStream } from '../helpers/http.js';
import { engineOnFake, loneUserTask, SINGLE_TOPICS, singleConfig } from '../helpers/runtimes.js';

const T = SINGLE_TOPICS;
const ORDER = [T.del, T.in, T.sim, T.rec];
const config = singleConfig();

const servers: HttpServer[] = [];
const inspectors: InspectorRoutes[] = [];
afterEach(async () => {
  for (const i of inspectors.splice(0)) i.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** The HTTP server as src/app.ts composes it over a service: the model getter and the one rule. */
async function serve(
  service: { readonly phase: Phase },
  model: () => Model,
): Promise<HttpServer & { inspector: InspectorRoutes }> {
  const inspector = inspectorRoutes({
    model,
    personalDataHold: () => personalDataHold(service),
    writes: false,
    receipts: () => [],
    log: createLogger('silent'),
    assets: new Map([['index.html', Buffer.from('<!doctype html>')]]),
  });
  inspectors.push(inspector);
  const http = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    log: createLogger('silent'),
    registry: new Registry(),
    isReady: () => service.phase === 'live',
    model,
    phase: () => service.phase,
    personalDataHold: () => personalDataHold(service),
    routes: inspector.routes,
  });
  servers.push(http);
  return Object.assign(http, { inspector });
}

async function get(http: HttpServer, path: string) {
  const res = await fetch(http.url + path);
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    body: (await res.json()) as { items?: string[]; error?: { code: string; message: string } },
  };
}

/** u1 holds a, b and asks to be forgotten after them; u2 and u3 go on interacting. */
function history(log: FakeLog, now: number): { surviving: Map<string, string[]> } {
  const add = (userId: string, itemId: string, at: number) =>
    log.appendJson(T.in, 0, userId, { userId, itemId, action: 'ADD', occurredAt: at }, at);
  add('u1', 'a', now - 10_000);
  add('u1', 'b', now - 9_900);
  log.appendJson(T.del, 0, 'u1', { userId: 'u1', requestId: 'r1', requestedAt: now - 9_000 }, now - 9_000);
  const surviving = new Map<string, string[]>([
    ['u2', []],
    ['u3', []],
  ]);
  const items = ['a', 'b', 'c', 'd', 'e', 'f'];
  for (let i = 0; i < 12; i++) {
    const u = i % 2 === 0 ? 'u2' : 'u3';
    const item = items[i % items.length]!;
    add(u, item, now - 8_000 + i);
    surviving.get(u)!.push(item);
  }
  for (const list of surviving.values()) list.sort();
  return { surviving: new Map([...surviving].map(([u, l]) => [u, [...new Set(l)]])) };
}

const ASSIGNMENT = { [T.del]: [0], [T.in]: [0], [T.sim]: [0], [T.rec]: [0] };

const singleEngine = (log: FakeLog) => engineOnFake(log, config);

describe('no personal data from a state that is not live, in both modes', () => {
  it('single mode: while the rebuild replays, the user routes answer 503; live, they answer exactly', async () => {
    const now = Date.now();
    const log = new FakeLog({ [T.in]: 1, [T.del]: 1, [T.sim]: 1, [T.rec]: 1 });
    const { surviving } = history(log, now);
    const { engine, consumer } = singleEngine(log);
    const http = await serve(engine, () => engine.model);

    consumer.join(engine, ASSIGNMENT);
    // One record per fetch, so that the replay is seen between every pair of records.
    let heldForgotten = 0;
    let steps = 0;
    for (; steps < 1_000; steps++) {
      await engine.idle();
      if (engine.phase === 'live') break;
      // What the model would have told anyone: u1's deletion is read, their items still there.
      if (engine.model.items('u1').length > 0) heldForgotten++;
      for (const path of [
        '/users/u1/items',
        '/users/u1/recommendations',
        '/users/u2/items',
        '/inspector/state?users=u1',
      ]) {
        const r = await get(http, path);
        expect(r.status, `${path} in phase ${engine.phase}`).toBe(503);
        expect(r.body.error?.code).toBe('NOT_LIVE');
        expect(r.retryAfter).toBe('5');
        expect(r.body.error?.message).toContain(`phase ${engine.phase}`);
      }
      await consumer.poll(engine, ORDER, 1);
    }
    await engine.idle();
    expect(engine.phase).toBe('live');
    // The state the old code served: the forgotten user's items, read while their deletion was known.
    expect(heldForgotten).toBeGreaterThan(0);

    expect((await get(http, '/users/u1/items')).body.items).toEqual([]);
    for (const [u, items] of surviving)
      expect((await get(http, `/users/${u}/items`)).body.items).toEqual(items);
    expect((await get(http, '/inspector/state?users=u1')).status).toBe(200);
    // Item routes carry no user's data: they answer in any phase.
    expect((await get(http, '/items/c/neighbors')).status).toBe(200);
  });

  // MODE=partitioned serves no user route and no inspector today (app.ts: queries off; config refuses
  // INSPECTOR_ENABLED): the rule is what it answers through once it serves any. Its phase is live only
  // when every held task is restored (a restoring task has read no deletion request yet).
  it('partitioned mode: while a task restores, the phase is not live and the rule answers 503', async () => {
    const task = loneUserTask({
      config,
      sink: {
        activate: () => Promise.resolve(),
        deactivate: () => Promise.resolve(),
        deliver: () => Promise.resolve(),
      },
      metrics: createMetrics(),
      topics: T,
    });
    // The stages as the partitioned service reads them: joined, restoring while a held task is.
    const stage = {
      joined: true,
      get restoring() {
        return task.phase !== 'live';
      },
    };
    const service = {
      get phase() {
        return partitionedPhase(false, stage, stage);
      },
    };
    const model = new Model(config.model); // no instance holds one: routes a mode might add read through the rule
    const http = await serve(service, () => model);
    expect(task.phase).toBe('restoring');
    const r = await get(http, '/users/u1/items');
    expect(r.status).toBe(503);
    expect(r.body.error?.code).toBe('NOT_LIVE');
    expect(r.retryAfter).toBe('5');
    task.phase = 'live';
    expect(service.phase).toBe('live');
    expect((await get(http, '/users/u1/items')).status).toBe(200);
    expect(personalDataHold({ phase: partitionedPhase(true, stage, stage) })).toContain('phase stopped');
    expect(
      personalDataHold({ phase: partitionedPhase(false, { joined: false, restoring: false }, stage) }),
    ).toContain('phase starting');
  });

  it('single mode: an inspector event stream open while live is ended when the state stops being live', async () => {
    const log = new FakeLog({ [T.in]: 1, [T.del]: 1, [T.sim]: 1, [T.rec]: 1 });
    history(log, Date.now());
    const { engine, consumer } = singleEngine(log);
    const http = await serve(engine, () => engine.model);
    consumer.join(engine, ASSIGNMENT);
    await consumer.drain(engine, ORDER);
    expect(engine.phase).toBe('live');
    const stream = eventStream(`${http.url}/inspector/events?users=u2`);
    expect((await stream.response).status).toBe(200);
    expect(http.inspector.streams()).toBe(1);
    // The group takes the partitions away (another instance is active): standby, state dropped.
    consumer.join(engine, {});
    await engine.idle();
    expect(engine.phase).toBe('standby');
    await http.inspector.tick();
    expect(http.inspector.streams()).toBe(0);
    await stream.close();
    const again = await eventStream(`${http.url}/inspector/events?users=u2`).response;
    expect(again.status).toBe(503);
    expect(JSON.parse(again.body)).toMatchObject({ error: { code: 'NOT_LIVE' } });
    expect(again.headers['retry-after']).toBe('5');
  });
});
