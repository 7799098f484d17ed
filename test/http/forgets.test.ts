// The query API's /forgets routes over the seed example with Marge forgotten, every value worked
// out by hand from the seed (test/helpers/seed.ts): which lists changed and how, and Homer's
// recommendations with the lists before and after. Unknown requests are 404; no user id is logged.
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { startHttpServer, type HttpServer } from '../../src/http/server.js';
import { ForgetEffects } from '../../src/output/forget-effects.js';
import { item, seedModel } from '../helpers/seed.js';

let server: HttpServer;
const logs: string[] = [];
const completedAt = Date.now();

beforeAll(async () => {
  const model = seedModel();
  model.forget({ userId: 'marge', requestedAt: 3_000 });
  const job = model.beginFlush(completedAt, { previous: true });
  while (!job.step(() => false));
  const effects = new ForgetEffects(60_000);
  effects.record(['dsr-0001'], job.result(), completedAt);
  server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    log: createLogger(
      'debug',
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          logs.push(chunk.toString('utf8'));
          cb();
        },
      }),
    ),
    registry: new Registry(),
    isReady: () => true,
    model: () => model,
    personalDataHold: () => undefined,
    forgetEffects: () => effects,
  });
});
afterAll(() => server.close());

const get = async (path: string) => {
  const r = await fetch(server.url + path);
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
};
const third = 1 / 3;

describe('GET /forgets…: what a forget changed for the people who remain', () => {
  it('lists the forgets kept, by request id', async () => {
    expect((await get('/forgets')).body).toEqual({
      forgets: [{ requestIds: ['dsr-0001'], completedAt, itemsChanged: 5 }],
    });
  });

  it('names the lists that changed and how: neighbours dropped, added, moved', async () => {
    const { status, body } = await get('/forgets/dsr-0001');
    expect(status).toBe(200);
    const items = body.items as { itemId: string }[];
    // Marge held 1 and 2: every item co-occurs with one of them, so every list changed.
    expect(items.map((i) => i.itemId)).toEqual([0, 1, 2, 3, 4].map(item));
    // Item 1: n 4 → 3; S10 = S13 = 2/3 (were 1/2), S12 = S14 = 1/3 (were 1/2, 1/4).
    expect(items[1]).toEqual({
      itemId: item(1),
      before: [
        { itemId: item(0), similarity: 0.5 },
        { itemId: item(2), similarity: 0.5 },
        { itemId: item(3), similarity: 0.5 },
        { itemId: item(4), similarity: 0.25 },
      ],
      after: [
        { itemId: item(0), similarity: 2 / 3 },
        { itemId: item(3), similarity: 2 / 3 },
        { itemId: item(2), similarity: third },
        { itemId: item(4), similarity: third },
      ],
      dropped: [],
      added: [],
      moved: [
        { itemId: item(0), rankBefore: 1, rankAfter: 1, similarityBefore: 0.5, similarityAfter: 2 / 3 },
        { itemId: item(2), rankBefore: 2, rankAfter: 3, similarityBefore: 0.5, similarityAfter: third },
        { itemId: item(3), rankBefore: 3, rankAfter: 2, similarityBefore: 0.5, similarityAfter: 2 / 3 },
        { itemId: item(4), rankBefore: 4, rankAfter: 4, similarityBefore: 0.25, similarityAfter: third },
      ],
    });
    // Item 3 (Bart, Lisa): S31 = 2/3 (was 1/2), S30 = 1/3 unchanged.
    expect(items[3]).toMatchObject({
      moved: [
        { itemId: item(1), rankBefore: 1, rankAfter: 1, similarityBefore: 0.5, similarityAfter: 2 / 3 },
      ],
    });
    expect(JSON.stringify(body)).not.toContain('marge');
  });

  it("gives a remaining user's recommendations before and after; the forgotten user has none", async () => {
    // Homer holds 0, 1, 2, 4: only item 3 is left, scored S03 + S13 = 1/3 + 1/2, then 1/3 + 2/3.
    const homer = await get('/forgets/dsr-0001/users/homer/recommendations');
    expect(homer.body).toEqual({
      requestId: 'dsr-0001',
      userId: 'homer',
      before: [{ itemId: item(3), score: third + 0.5 }],
      after: [{ itemId: item(3), score: third + 2 / 3 }],
    });
    // Lisa holds 1, 3: 0 scores S10 + S30 = 1/2 + 1/3, then 2/3 + 1/3; 2 and 4 through item 1 only.
    const lisa = await get('/forgets/dsr-0001/users/lisa/recommendations?k=2');
    expect(lisa.body).toMatchObject({
      before: [
        { itemId: item(0), score: 0.5 + third },
        { itemId: item(2), score: 0.5 },
      ],
      after: [
        { itemId: item(0), score: 2 / 3 + third },
        { itemId: item(2), score: third },
      ],
    });
    const marge = await get('/forgets/dsr-0001/users/marge/recommendations');
    expect(marge.body).toMatchObject({ before: [], after: [] });
  });

  it('an unknown (or no longer kept) request is 404 FORGET_EFFECT_NOT_FOUND; ids are checked', async () => {
    for (const path of ['/forgets/nope', '/forgets/nope/users/homer/recommendations']) {
      const r = await get(path);
      expect(r.status, path).toBe(404);
      expect((r.body.error as { code: string }).code).toBe('FORGET_EFFECT_NOT_FOUND');
    }
    expect((await get(`/forgets/${'x'.repeat(257)}`)).status).toBe(400);
    expect((await get('/forgets/dsr-0001/users/homer/recommendations?k=0')).status).toBe(400);
  });

  it('never logs a user id (route templates only)', () => {
    expect(logs.join('')).toContain('/forgets/{requestId}/users/{userId}/recommendations');
    expect(logs.join('')).not.toMatch(/homer|lisa|marge/);
  });
});
