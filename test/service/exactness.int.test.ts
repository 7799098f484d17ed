// End-to-end exactness: a seeded stream of adds, removes, duplicates, deletions and late events,
// in JSON and Avro, through the running service; the compacted similarities topic read to its end
// must equal an independent brute-force recomputation from the surviving events.
import { modelOf } from '../../src/service.js';
import { describe, expect, it } from 'vitest';
import { bruteForceLists, survivingHistory } from '../helpers/oracle.js';
import { scenario } from '../helpers/generator.js';
import { tempDirs } from '../helpers/files.js';
import { waitFor } from '../helpers/kafka.js';
import { expectListsEventually, harness, waitForReceipts, type Harness } from '../helpers/service.js';

const tempDir = tempDirs('amnesia-exact');

async function runScenario(
  h: Harness,
  seed: number,
  env: Record<string, string>,
  format: 'json' | 'avro' | 'mixed',
) {
  const s = scenario({ seed, users: 60, items: 40, events: 1_500, forget: 8 });
  const svc = await h.start(env);
  await svc.waitUntilReady(30_000);
  await h.produceEvents(s.before, format, svc.schemaIds);
  await h.produceDeletions(s.deletions, format, svc.schemaIds);
  const receipts = await waitForReceipts(
    h,
    s.deletions.map((d) => d.requestId),
  );
  await h.produceEvents(s.after, format, svc.schemaIds);
  await h.waitProcessed();
  return { s, svc, receipts };
}

describe('the service end to end', () => {
  it('publishes exactly the brute-force top-K of the surviving events (mixed JSON/Avro in, Avro out)', async () => {
    const h = await harness(3);
    const { s, svc, receipts } = await runScenario(h, 7, {}, 'mixed');
    const K = svc.config.model.topK;
    const expected = bruteForceLists(survivingHistory([...s.before, ...s.after], s.deletions), K, 1);
    expect(expected.size).toBeGreaterThan(20);
    await expectListsEventually(h, expected);

    // every request got its FORGOTTEN receipt, without a user id
    for (const d of s.deletions) {
      const r = receipts.get(d.requestId)!;
      expect(r.status).toBe('FORGOTTEN');
      expect(typeof r.completedAt).toBe('number');
      // the receipt states how long the user's dead letters may remain: the DLQ's retention.ms +
      // segment.ms as they are — the harness made the topics with the broker's defaults, 7 + 7 days
      // (not the 7 days DLQ_RETENTION_MS alone said before)
      expect(Number(r.dlqRetentionMs)).toBe(14 * 86_400_000);
      expect(JSON.stringify(r)).not.toContain(d.userId);
    }
    expect(receipts.get(`req-7-ghost`)).toMatchObject({ interactionsRemoved: 0, itemsAffected: 0 });

    // nothing of a forgotten user survives, except what they did after the request
    const h2 = survivingHistory([...s.before, ...s.after], s.deletions);
    for (const d of s.deletions) {
      expect(modelOf(svc).items(d.userId).sort()).toEqual([...(h2.get(d.userId) ?? [])].sort());
    }
    const notReturning = s.deletions.filter((d) => !h2.has(d.userId));
    expect(notReturning.length).toBeGreaterThan(0);
    for (const d of notReturning) expect(modelOf(svc).items(d.userId)).toEqual([]);
    expect(svc.phase).toBe('live');
    await svc.stop();
  });

  it('honours TOP_K, MIN_COOCCURRENCES and JSON output', async () => {
    const h = await harness(2);
    const { s } = await runScenario(
      h,
      11,
      { TOP_K: '3', MIN_COOCCURRENCES: '2', OUTPUT_FORMAT: 'json' },
      'json',
    );
    const expected = bruteForceLists(survivingHistory([...s.before, ...s.after], s.deletions), 3, 2);
    await expectListsEventually(h, expected);
    // JSON on the wire
    const raw = await h.records(h.topics.similarities);
    expect(raw.find((r) => r.value !== null)!.value![0]).toBe('{'.charCodeAt(0));
  });

  it('SIMILARITY=cosine: the brute-force cosine lists (mixed JSON/Avro in, Avro out); its snapshots refuse Jaccard', async () => {
    const h = await harness(2);
    const env = { SIMILARITY: 'cosine', SNAPSHOT_DIR: await tempDir(), SNAPSHOT_INTERVAL_MS: '1000' };
    const { s, svc } = await runScenario(h, 17, env, 'mixed');
    const surviving = survivingHistory([...s.before, ...s.after], s.deletions);
    const expected = bruteForceLists(surviving, svc.config.model.topK, 1, 'cosine');
    expect(expected).not.toEqual(bruteForceLists(surviving, svc.config.model.topK, 1, 'jaccard'));
    await expectListsEventually(h, expected);
    await svc.stop(); // a last snapshot, under cosine

    const jaccard = await h.start({ ...env, SIMILARITY: 'jaccard' });
    const reason = await waitFor(
      () => jaccard.health().reasons.find((r) => r.includes('does not fit the saved state')),
      30_000,
    );
    expect(reason).toContain('SIMILARITY');
    expect(jaccard.isReady()).toBe(false);
    await jaccard.stop();

    // The same directory and key under cosine again: ready — SIMILARITY alone made the difference.
    const again = await h.start(env);
    await again.waitUntilReady(30_000);
    await expectListsEventually(h, expected);
    await again.stop();
  });
});
