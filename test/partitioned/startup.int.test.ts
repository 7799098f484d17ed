// Start-up races on a fresh cluster (issue 21 item 9): three instances of a new group started at
// the same moment, each creating the internal topics that do not exist yet, all become ready — three
// rounds, each with new topics (before: 2 of 5 runs failed with "could not create the internal
// topics", or a lone instance exited on UNKNOWN_TOPIC_OR_PARTITION while waiting for leaders).
import { describe, expect, it } from 'vitest';
import { deleteInternalTopicsAfterAll, partitionedEnv } from '../helpers/partitioned.js';
import { harness } from '../helpers/service.js';

describe('MODE=partitioned start-up', () => {
  it('three instances started at once on new topics all become ready, every round', async () => {
    for (let round = 0; round < 3; round++) {
      const h = await harness(3);
      deleteInternalTopicsAfterAll(h.groupId);
      const env = partitionedEnv({ TOP_K: '5' });
      const started = await Promise.allSettled([h.start(env), h.start(env), h.start(env)]);
      const failed = started.filter((s) => s.status === 'rejected');
      expect(failed.map((f) => String(f.reason))).toEqual([]);
      const services = started.map(
        (s) => (s as PromiseFulfilledResult<Awaited<ReturnType<typeof h.start>>>).value,
      );
      await Promise.all(services.map((svc) => svc.waitUntilReady(90_000)));
      for (const svc of services) expect(svc.isReady()).toBe(true);
      await Promise.all(services.map((svc) => svc.stop()));
    }
  }, 400_000);
});
