// The HTTP server on a running service against the real broker: the queries answer from the live
// model, readiness follows the engine, and the documented series move as events and deletion
// requests are consumed.
import { describe, expect, it } from 'vitest';
import { harness } from '../helpers/service.js';
import { serveOverHttp } from '../helpers/http.js';
import { item, SEED, USERS } from '../helpers/seed.js';
import { sampleSum, scrape, scrapeUntil } from '../helpers/metrics.js';

describe('HTTP on a running service', () => {
  it('answers from the live model and its metrics move with consumption and forgetting', async () => {
    const h = await harness(1);
    const svc = await h.start();
    const http = await serveOverHttp(svc);
    try {
      await svc.waitUntilReady(30_000);
      expect((await fetch(`${http.url}/readyz`)).status).toBe(200);
      const topic = h.topics.interactions;
      const before = await scrape(http.url);
      expect(sampleSum(before, 'amnesia_ready')).toBe(1);

      await h.produceEvents(
        SEED.map(([u, i]) => ({
          userId: USERS[u]!,
          itemId: item(i),
          action: 'ADD',
          occurredAt: 1_700_000_000_000,
        })),
        'json',
      );
      await h.waitProcessed(30_000);
      const applied = (t: string) =>
        sampleSum(t, 'amnesia_events_consumed_total', { topic, outcome: 'applied' });
      const afterEvents = await scrapeUntil(
        http.url,
        (t) => applied(t) - applied(before) === SEED.length,
        10_000,
      );
      expect(sampleSum(afterEvents, 'amnesia_model_users')).toBe(4);
      expect(sampleSum(afterEvents, 'amnesia_model_items')).toBe(5);
      expect(sampleSum(afterEvents, 'amnesia_lists_published_total')).toBeGreaterThanOrEqual(5);

      const neighbors = (await (await fetch(`${http.url}/items/item-0/neighbors?k=2`)).json()) as {
        neighbors: unknown[];
      };
      expect(neighbors).toMatchObject({
        itemId: 'item-0',
        interactions: 2,
        neighbors: [
          { itemId: 'item-1', similarity: 0.5, cooccurrences: 2 },
          { itemId: 'item-4', similarity: 0.5, cooccurrences: 1 },
        ],
      });
      expect(await (await fetch(`${http.url}/users/homer/items`)).json()).toEqual({
        userId: 'homer',
        items: [item(0), item(1), item(2), item(4)],
      });

      const forgets = (t: string) => sampleSum(t, 'amnesia_forget_duration_seconds_count');
      const receipts = (t: string) =>
        sampleSum(t, 'amnesia_deletion_receipt_latency_seconds_count', { status: 'FORGOTTEN' });
      await h.produceDeletions([{ requestId: `${h.prefix}-r1`, userId: 'homer' }], 'json');
      const afterOne = await scrapeUntil(http.url, (t) => receipts(t) - receipts(afterEvents) === 1, 20_000);
      expect(forgets(afterOne) - forgets(afterEvents)).toBe(1);
      await h.produceDeletions(
        [
          { requestId: `${h.prefix}-r2`, userId: 'bart' },
          { requestId: `${h.prefix}-r3`, userId: 'nobody' },
        ],
        'json',
      );
      const afterThree = await scrapeUntil(
        http.url,
        (t) => receipts(t) - receipts(afterEvents) === 3,
        20_000,
      );
      expect(forgets(afterThree) - forgets(afterEvents)).toBe(3);
      expect(sampleSum(afterThree, 'amnesia_model_users')).toBe(2);

      // Forgotten: nothing stored, and item-4 (homer's alone) is gone.
      expect(await (await fetch(`${http.url}/users/homer/items`)).json()).toEqual({
        userId: 'homer',
        items: [],
      });
      expect((await fetch(`${http.url}/items/item-4/neighbors`)).status).toBe(404);
      // Every HTTP request of this test was counted under its route template.
      const last = await scrape(http.url);
      expect(
        sampleSum(last, 'amnesia_http_requests_total', { route: '/users/{userId}/items', status: '200' }),
      ).toBe(2);
      expect(last).not.toMatch(/homer|bart/);

      await svc.stop();
      expect((await fetch(`${http.url}/livez`)).status).toBe(200);
      expect((await fetch(`${http.url}/readyz`)).status).toBe(503);
    } finally {
      await http.close();
    }
  });
});
