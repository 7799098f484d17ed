// One partitioned instance in-process on the real broker: a generated stream in, the brute-force
// lists and one FORGOTTEN receipt per request out.
import { describe, expect, it } from 'vitest';
import { scenario } from '../helpers/generator.js';
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
});
