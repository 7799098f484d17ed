// MODEL_MEMORY_BYTES in the partitioned mode, on the real broker: one instance with a small budget
// stops applying once the state of its partitions passes it (not ready, says why, gauge 1, its
// committed input offsets stand still) instead of growing on; a second instance joins, takes half
// the partitions over, the first falls under the budget and resumes by itself, and the lists end
// equal to the brute force — nothing was lost or applied twice across the pause.
import { describe, expect, it } from 'vitest';
import type { PartitionedService } from '../../src/partitioned/service.js';
import type { Service } from '../../src/service.js';
import { rng } from '../helpers/generator.js';
import { waitFor } from '../helpers/kafka.js';
import { bruteForceLists, survivingHistory, type RefEvent } from '../helpers/oracle.js';
import {
  deleteInternalTopicsAfterAll,
  partitionedEnv,
  itemsCommitted,
  usersCommitted,
  waitPartitionedProcessed,
} from '../helpers/partitioned.js';
import { expectExact, harness } from '../helpers/service.js';

const BUDGET = 16 * 1024 * 1024; // the least MODEL_MEMORY_BYTES takes

/** Users holding many of a few hundred items: C fills up (≈ items² cells) with few events. */
function denseStream(users: number, items: number, perUser: number): RefEvent[] {
  const r = rng(7);
  const t0 = 1_700_000_000_000;
  const out: RefEvent[] = [];
  for (let u = 0; u < users; u++) {
    const mine = new Set<number>();
    while (mine.size < perUser) mine.add(Math.floor(r() * items));
    for (const i of mine)
      out.push({ userId: `u${u}`, itemId: `i${i}`, action: 'ADD', occurredAt: t0 + out.length });
  }
  return out;
}

const stateBytes = (s: Service) =>
  [...(s as PartitionedService).stages.users.figures(), ...(s as PartitionedService).stages.items.figures()]
    .map((f) => f.stateBytes)
    .reduce((a, b) => a + b, 0);

async function exceeded(s: Service): Promise<number> {
  const m = await s.metrics.registry.getSingleMetric('amnesia_model_memory_exceeded')!.get();
  return m.values[0]?.value ?? -1;
}

describe('MODE=partitioned under MODEL_MEMORY_BYTES', () => {
  it('pauses an instance whose partitions outgrow the budget, and resumes it once another takes some over', async () => {
    const h = await harness(4);
    deleteInternalTopicsAfterAll(h.groupId);
    // The state levels off once C's rows are dense (CountMap's dense layout: 4 bytes per item of a
    // row, however full): ≈ 17.6 MB after 30 users, 22.7 MB after 60, 23.4 MB after all 70 — half of
    // it, 12.1 MB, once a second instance holds half the partitions. The budget is passed well within
    // the first 60 users, and half the whole state is well under RESUME_FRACTION of it (15.1 MB).
    const events = denseStream(70, 1_400, 150);
    const [first, second] = [events.slice(0, 60 * 150), events.slice(60 * 150)];
    const inputs = [h.topics.interactions, h.topics.deletions];
    const a = await h.start(partitionedEnv({ TOP_K: '10', MODEL_MEMORY_BYTES: String(BUDGET) }));
    await a.waitUntilReady(60_000);
    await h.produceEvents(first, 'json');

    // Past the budget: paused, not ready, says why.
    await waitFor(() => (a.health().reasons.some((r) => r.startsWith('memory:')) ? true : undefined), 60_000);
    expect(await exceeded(a)).toBe(1);
    expect(a.isReady()).toBe(false);
    const pausedAt = stateBytes(a);
    expect(pausedAt).toBeGreaterThan(BUDGET);
    expect(pausedAt).toBeLessThan(BUDGET * 1.25); // past it by what one batch adds
    // Neither stage applies anything more: what comes in now waits, and the commits stand still
    // (once what was read before the pause is flushed: routed records, a chunk's linger).
    const commits = async () => [
      await usersCommitted(h.kafka, h.groupId, inputs),
      await itemsCommitted(h.kafka, h.groupId),
    ];
    let [users, items] = await commits();
    for (let k = 0; k < 20; k++) {
      await new Promise((r) => setTimeout(r, 1_000));
      const [u, i] = await commits();
      if (u === users && i === items) break;
      [users, items] = [u, i];
    }
    await h.produceEvents(second, 'json');
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await usersCommitted(h.kafka, h.groupId, inputs)).toBe(users);
    expect(await itemsCommitted(h.kafka, h.groupId)).toBe(items);
    expect(users).toBeLessThan(events.length);
    // What was applied before the pause may still be flushed (lists published), nothing more.
    expect(stateBytes(a)).toBeLessThan(BUDGET * 1.25);
    expect(a.health().live).toBe(true); // paused on purpose is not wedged
    console.info(
      `paused at ${(pausedAt / 1e6).toFixed(1)} MB of state (budget ${(BUDGET / 1e6).toFixed(1)} MB), ` +
        `${users} of ${events.length} input records committed`,
    );

    // A second instance takes partitions over: the first falls under the budget and resumes.
    const b = await h.start(partitionedEnv({ TOP_K: '10' }));
    await waitPartitionedProcessed(h.kafka, h.groupId, inputs, 120_000, () => a.health().reasons.join('; '));
    await waitFor(async () => ((await exceeded(a)) === 0 && a.isReady() ? true : undefined), 30_000);
    console.info(
      `after the second instance: state ${(stateBytes(a) / 1e6).toFixed(1)} MB + ${(stateBytes(b) / 1e6).toFixed(1)} MB`,
    );
    expect(stateBytes(a)).toBeLessThan(BUDGET);
    expectExact(await h.similarities(), bruteForceLists(survivingHistory(events, []), 10, 1));
    await b.stop();
    await a.stop();
  }, 240_000);
});
