// One partitioned instance in-process on the real broker: a generated stream in, the brute-force
// lists and one FORGOTTEN receipt per request out — for Jaccard and for cosine, whose changelogs a
// restart under the other measure refuses.
import { describe, expect, it } from 'vitest';
import { scenario } from '../helpers/generator.js';
import { waitFor } from '../helpers/kafka.js';
import { bruteForceLists, survivingHistory } from '../helpers/oracle.js';
import {
  deleteInternalTopicsAfterAll,
  partitionedEnv,
  waitPartitionedProcessed,
} from '../helpers/partitioned.js';
import { expectExact, harness, waitForReceipts } from '../helpers/service.js';

describe('MODE=partitioned, one instance', () => {
  it('publishes exactly the brute-force lists and a FORGOTTEN receipt per request', async () => {
    const h = await harness(3);
    deleteInternalTopicsAfterAll(h.groupId);
    const s = scenario({ seed: 11, users: 40, items: 30, events: 600, forget: 5 });
    const svc = await h.start(partitionedEnv({ TOP_K: '5' }));
    await svc.waitUntilReady(60_000);
    await h.produceEvents(s.before, 'mixed', svc.schemaIds);
    await h.produceDeletions(s.deletions, 'json');
    await waitForReceipts(
      h,
      s.deletions.map((d) => d.requestId),
      60_000,
    );
    await h.produceEvents(s.after, 'json');
    await waitPartitionedProcessed(h.kafka, h.groupId, [h.topics.interactions, h.topics.deletions]);
    const expected = bruteForceLists(survivingHistory([...s.before, ...s.after], s.deletions), 5, 1);
    expectExact(await h.similarities(), expected);
    const receipts = await h.receipts();
    for (const d of s.deletions) expect(receipts.get(d.requestId)).toMatchObject({ requestId: d.requestId });
    await svc.stop();
  }, 120_000);

  it('SIMILARITY=cosine: the brute-force cosine lists; a restart under Jaccard blocks on the changelog', async () => {
    const h = await harness(2);
    deleteInternalTopicsAfterAll(h.groupId);
    const s = scenario({ seed: 13, users: 30, items: 25, events: 400, forget: 4 });
    const env = partitionedEnv({ TOP_K: '5', SIMILARITY: 'cosine' });
    const svc = await h.start(env);
    await svc.waitUntilReady(60_000);
    await h.produceEvents(s.before, 'mixed', svc.schemaIds);
    await h.produceDeletions(s.deletions, 'mixed', svc.schemaIds);
    await waitForReceipts(
      h,
      s.deletions.map((d) => d.requestId),
      60_000,
    );
    await h.produceEvents(s.after, 'mixed', svc.schemaIds);
    await waitPartitionedProcessed(h.kafka, h.groupId, [h.topics.interactions, h.topics.deletions]);
    const surviving = survivingHistory([...s.before, ...s.after], s.deletions);
    const expected = bruteForceLists(surviving, 5, 1, 'cosine');
    expect(expected).not.toEqual(bruteForceLists(surviving, 5, 1, 'jaccard'));
    expectExact(await h.similarities(), expected);
    await svc.stop();

    const jaccard = await h.start({ ...env, SIMILARITY: 'jaccard' });
    const reason = await waitFor(
      () => jaccard.health().reasons.find((r) => r.includes('SIMILARITY')),
      60_000,
    );
    expect(reason).toMatch(
      /^items partition \d+: blocked: the items changelog was written with SIMILARITY=cosine, this instance is configured with SIMILARITY=jaccard/,
    );
    expect(jaccard.isReady()).toBe(false);
    await jaccard.stop();
  }, 180_000);
});
