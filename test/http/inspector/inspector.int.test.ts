// The inspector against the real service and broker: the state JSON, the event stream (state pushes
// and receipts read from the receipts topic), the write endpoints producing real input records
// (JSON, key = user id), and logs free of user ids. Routing, refusals and codes without a broker:
// routes.test.ts.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedPairs } from '../../../src/cli/demo.js';
import { createInspector, type Inspector } from '../../../src/http/inspector/index.js';
import { startHttpServer, type HttpServer } from '../../../src/http/server.js';
import { createLogger } from '../../../src/log.js';
import { modelOf, personalDataHold, type Service } from '../../../src/service.js';
import { encodeValue } from '../../../src/output/encode.js';
import { SchemaRegistryClient } from '../../../src/kafka/registry.js';
import { eventStream } from '../../helpers/http.js';
import { waitFor } from '../../helpers/kafka.js';
import { harness, type Harness } from '../../helpers/service.js';

interface State {
  writes: boolean;
  ready: boolean;
  large: boolean;
  users: string[];
  items: string[];
  H: number[][];
  n: number[];
  C: (number | null)[][];
  S: (number | null)[][];
  receipts: { requestId: string; status: string; interactionsRemoved: number }[];
  matches?: { users: string[]; items: string[] };
  page: { users: { cursor: number; next: number | null } | null };
}

describe('the inspector endpoints', () => {
  let h: Harness;
  let service: Service;
  let http: HttpServer;
  let inspector: Inspector;
  const logLines: string[] = [];

  const post = (path: string, body: unknown, type = 'application/json') =>
    fetch(`${http.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': type },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const state = async (query = '') =>
    (await (await fetch(`${http.url}/inspector/state${query}`)).json()) as State;

  beforeAll(async () => {
    h = await harness(1);
    service = await h.start();
    await service.waitUntilReady(60_000);
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logLines.push(chunk.toString('utf8'));
        cb();
      },
    });
    const log = createLogger('info', sink);
    const config = service.config;
    inspector = createInspector({
      model: () => modelOf(service),
      kafka: h.kafka,
      topics: config.topics,
      ...(config.registry ? { registry: new SchemaRegistryClient(config.registry) } : {}),
      writes: true,
      log,
      isReady: () => service.isReady(),
    });
    http = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      log,
      registry: service.metrics.registry,
      isReady: () => service.isReady(),
      model: () => modelOf(service),
      personalDataHold: () => personalDataHold(service),
      routes: inspector.routes,
    });
    await inspector.receiptsJoined;
    await h.produce(
      h.topics.interactions,
      seedPairs().map(([userId, itemId]) => ({
        key: userId,
        value: encodeValue('interaction', { userId, itemId, action: 'ADD', occurredAt: Date.now() }),
      })),
    );
    await h.waitProcessed();
  }, 120_000);

  afterAll(async () => {
    await inspector?.close();
    await http?.close();
    await service?.stop();
  });

  it('serves the page and the four matrices as JSON', async () => {
    const page = await fetch(`${http.url}/`);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('/inspector/app.js');
    expect((await fetch(`${http.url}/inspector/app.js`)).status).toBe(200);

    const s = await state();
    expect(s).toMatchObject({ writes: true, ready: true, large: false });
    expect(s.users).toEqual(['Bart', 'Homer', 'Lisa', 'Marge']);
    expect(s.n).toEqual([2, 4, 2, 2, 1]);
    expect(s.C[1]![2]).toBe(2);
    expect(s.S[1]![4]).toBe(0.25);
    expect(s.page.users).toEqual({ cursor: 0, next: null });
    expect((await state('?q=Marge')).matches).toEqual({ users: ['Marge'], items: [] });
    expect((await state('?q=ar')).matches).toEqual({ users: [], items: [] });
    const subset = await state('?items=1,4&users=Homer');
    expect(subset).toMatchObject({ items: ['1', '4'], users: ['Homer'], H: [[1, 1]], n: [4, 1] });
  });

  it('produces to the input topics and pushes the new state and the receipt', async () => {
    const stream = eventStream(`${http.url}/inspector/events`);
    await waitFor(() => stream.got.some((e) => e.event === 'state'), 10_000);

    const added = await post('/inspector/users', { userId: 'Maggie', items: ['4', '0', '4'] });
    expect(added.status).toBe(202);
    expect(await added.json()).toMatchObject({ accepted: true, events: 2 });
    const records = (await h.records(h.topics.interactions)).slice(-2);
    expect(records.map((r) => r.key)).toEqual(['Maggie', 'Maggie']);
    const values = records.map((r) => JSON.parse(r.value!.toString('utf8')) as Record<string, unknown>);
    expect(values.map((v) => v.itemId)).toEqual(['4', '0']);
    for (const v of values)
      expect(v).toMatchObject({ userId: 'Maggie', action: 'ADD', occurredAt: expect.any(Number) });

    // The stream pushes a state with Maggie (the service applied the records).
    await waitFor(
      () => stream.got.some((e) => e.event === 'state' && (e.data as State).users.includes('Maggie')),
      20_000,
    );
    const removed = await post('/inspector/interactions', {
      userId: 'Maggie',
      itemId: '0',
      action: 'REMOVE',
    });
    expect(removed.status).toBe(202);
    await waitFor(async () => (await state('?users=Maggie&items=0,4')).H[0]?.join() === '0,1', 20_000);

    const forgot = await post('/inspector/forget', { userId: 'Maggie' });
    expect(forgot.status).toBe(202);
    const { requestId } = (await forgot.json()) as { requestId: string };
    const deletions = await h.records(h.topics.deletions);
    expect(deletions.at(-1)!.key).toBe('Maggie');
    expect(JSON.parse(deletions.at(-1)!.value!.toString('utf8'))).toMatchObject({
      requestId,
      userId: 'Maggie',
    });

    const receipt = (await waitFor(
      () =>
        stream.got.find(
          (e) => e.event === 'receipt' && (e.data as { requestId: string }).requestId === requestId,
        ),
      30_000,
    ))!;
    expect(receipt.data).toMatchObject({ status: 'FORGOTTEN', interactionsRemoved: 1, itemsAffected: 1 });
    expect(JSON.stringify(receipt.data)).not.toContain('Maggie');
    expect((await state()).receipts.map((r) => r.requestId)).toContain(requestId);
    expect((await state()).users).not.toContain('Maggie');
    await stream.close();

    // Nothing the inspector or the HTTP layer logged names a user.
    expect(logLines.some((l) => l.includes('inspector produced input'))).toBe(true);
    for (const l of logLines) for (const u of ['Maggie', 'Homer', 'Marge']) expect(l).not.toContain(u);
  });
});
