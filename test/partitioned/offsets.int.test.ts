// The partitioned mode's positions live in its changelogs, beside the state they belong to: when the
// group's committed offsets are lost or rewound while no instance runs (offsets expired after
// offsets.retention.minutes, an operator's reset, a client that commits on an out-of-range reset),
// the next instance still starts each partition exactly where its state ends — nothing is applied
// twice (inputs from the start, deltas not yet purged) and no request gets a second FORGOTTEN. And
// deletion requests that retention deleted before any instance read them block their partition, as
// in the single mode, until ACCEPT_DELETION_GAP says to go on.
import type { Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { scenario } from '../helpers/generator.js';
import { waitFor } from '../helpers/kafka.js';
import { history, receiptsNotOnce } from '../helpers/output-history.js';
import { bruteForceLists, survivingHistory, type RefEvent } from '../helpers/oracle.js';
import {
  deleteInternalTopicsAfterAll,
  partitionedEnv,
  waitPartitionedProcessed,
} from '../helpers/partitioned.js';
import { expectListsEventually, harness, waitForReceipts, type Harness } from '../helpers/service.js';

describe("MODE=partitioned when the group's offsets are rewound", () => {
  it('restores every partition at its changelog positions: exact, each request receipted once', async () => {
    const h = await harness(3);
    deleteInternalTopicsAfterAll(h.groupId);
    const s = scenario({ seed: 23, users: 50, items: 30, events: 900, forget: 6 });
    const inputs = [h.topics.interactions, h.topics.deletions];
    const env = partitionedEnv({ TOP_K: '5' });
    const first = await h.start(env);
    await first.waitUntilReady(60_000);
    await h.produceEvents(s.before, 'json');
    await h.produceDeletions(s.deletions, 'json');
    const ids = s.deletions.map((d) => d.requestId);
    await waitForReceipts(h, ids, 60_000);
    await waitPartitionedProcessed(h.kafka, h.groupId, inputs);
    await first.stop();

    // Both groups empty now: rewind every offset they committed to the partitions' starts.
    const admin = h.kafka.admin();
    await admin.connect();
    try {
      const groups = [`${h.groupId}-users`, `${h.groupId}-items`];
      for (const groupId of groups)
        for (const { topic } of await admin.fetchOffsets({ groupId })) {
          await admin.resetOffsets({ groupId, topic, earliest: true });
        }
      // As kafkajs's reset committed it: "earliest" (-2) over every partition's transactional commit
      // (users: deletions, interactions, repartition, acks; items: deltas).
      const rewound = [];
      for (const groupId of groups) rewound.push(...(await admin.fetchOffsets({ groupId })));
      expect(rewound.map((t) => t.topic).sort()).toEqual(
        [
          h.topics.deletions,
          h.topics.interactions,
          `${h.groupId}-users-repartition`,
          `${h.groupId}-acks`,
          `${h.groupId}-deltas`,
        ].sort(),
      );
      for (const t of rewound)
        expect(t.partitions.map((p) => p.offset)).toEqual(t.partitions.map(() => '-2'));
    } finally {
      await admin.disconnect();
    }

    await h.produceEvents(s.after, 'json');
    const second = await h.start(env);
    await second.waitUntilReady(60_000);
    await waitPartitionedProcessed(h.kafka, h.groupId, inputs);
    await expectListsEventually(
      h,
      bruteForceLists(survivingHistory([...s.before, ...s.after], s.deletions), 5, 1),
    );
    expect(receiptsNotOnce(await history(h, h.topics.receipts), ids)).toEqual({});
    await second.stop();
  }, 180_000);

  it('blocks a partition whose unread deletion requests retention deleted, until ACCEPT_DELETION_GAP', async () => {
    const h = await harness(1);
    deleteInternalTopicsAfterAll(h.groupId);
    const s = scenario({ seed: 29, users: 20, items: 15, events: 200, forget: 3 });
    const env = partitionedEnv({ TOP_K: '5' });
    await processedThenStopped(h, env, s.before);
    // Requests written while no instance runs, then deleted by "retention" before anyone read them.
    await h.produceDeletions(s.deletions, 'json');
    await truncate(h.kafka, h.topics.deletions);
    const blocked = await h.start(env);
    const reason = await waitFor(() => blocked.health().reasons.find((r) => r.includes('blocked')), 60_000);
    expect(reason).toBe(
      `users partition 0: blocked: ${s.deletions.length} records of ${h.topics.deletions} were deleted before they were read (ACCEPT_DELETION_GAP)`,
    );
    expect(blocked.isReady()).toBe(false);
    const gauge = await blocked.metrics.registry.getSingleMetric('amnesia_blocked')!.get();
    expect(gauge.values[0]?.value).toBe(1);
    await blocked.stop();
    const accepted = await h.start({ ...env, ACCEPT_DELETION_GAP: 'true' });
    await accepted.waitUntilReady(60_000);
    await accepted.stop();
  }, 180_000);

  it('blocks a fresh group too (no position, no offset) when deletion requests were deleted unread', async () => {
    // The single mode's rule (kafka/retention.ts): without a snapshot it stands at offset 0, so
    // requests retention deleted are a gap; before, a fresh group ignored them and replayed the
    // interactions of users whose requests were lost.
    const h = await harness(1);
    deleteInternalTopicsAfterAll(h.groupId);
    const s = scenario({ seed: 31, users: 20, items: 15, events: 200, forget: 3 });
    await h.produceEvents(s.before, 'json');
    await h.produceDeletions(s.deletions, 'json');
    await truncate(h.kafka, h.topics.deletions);
    const svc = await h.start(partitionedEnv({ TOP_K: '5' }));
    const reason = await waitFor(() => svc.health().reasons.find((r) => r.includes('blocked')), 60_000);
    expect(reason).toBe(
      `users partition 0: blocked: ${s.deletions.length} records of ${h.topics.deletions} were deleted before they were read (ACCEPT_DELETION_GAP)`,
    );
    expect(svc.isReady()).toBe(false);
    await svc.stop();
  }, 120_000);

  it('live: records deleted unread while its inputs were paused are a gap, never a seek loop', async () => {
    // Before: the position fell below the log start, the broker answered out of range, the client
    // reset to the log start and the stage sought back to the position — forever, and alive.
    const h = await harness(1);
    deleteInternalTopicsAfterAll(h.groupId);
    const s = scenario({ seed: 37, users: 20, items: 15, events: 300, forget: 3 });
    const [kept, lost, later] = [s.before.slice(0, 100), s.before.slice(100, 200), s.before.slice(200)];
    const svc = await h.start(partitionedEnv({ TOP_K: '5' }));
    await svc.waitUntilReady(60_000);
    await h.produceEvents(kept, 'json');
    await waitPartitionedProcessed(h.kafka, h.groupId, [h.topics.interactions]);
    svc.pauseInputs();
    await h.produceEvents(lost, 'json');
    await truncate(h.kafka, h.topics.interactions);
    await h.produceEvents(later, 'json');
    svc.resumeInputs();
    await expectListsEventually(h, bruteForceLists(survivingHistory([...kept, ...later], []), 5, 1), 60_000);
    const gauge = await svc.metrics.registry.getSingleMetric('amnesia_retention_gap_records')!.get();
    expect(gauge.values).toContainEqual({
      labels: { topic: h.topics.interactions, partition: '0' },
      value: lost.length,
    });
    // Deletion requests lost the same way block the partition instead.
    svc.pauseInputs();
    await h.produceDeletions(s.deletions, 'json');
    await truncate(h.kafka, h.topics.deletions);
    await h.produceDeletions([{ requestId: 'after-the-gap', userId: 'u1' }], 'json');
    svc.resumeInputs();
    const reason = await waitFor(() => svc.health().reasons.find((r) => r.includes('blocked')), 60_000);
    expect(reason).toBe(
      `users partition 0: blocked: ${s.deletions.length} records of ${h.topics.deletions} were deleted before they were read (ACCEPT_DELETION_GAP)`,
    );
    await svc.stop();
  }, 150_000);
  it('blocks a partition whose changelog was written under another TOMBSTONE_KEY', async () => {
    // Before, tokens made under the new key matched nothing: both receipts went out and the user stayed.
    const h = await harness(1);
    deleteInternalTopicsAfterAll(h.groupId);
    const s = scenario({ seed: 43, users: 20, items: 15, events: 200, forget: 3 });
    const env = partitionedEnv({ TOP_K: '5' });
    await processedThenStopped(h, env, s.before);
    const rotated = await h.start({ ...env, TOMBSTONE_KEY: 'another-key-of-sixteen-chars-or-more' });
    // Both stages keep token-keyed state: both changelogs carry the fingerprint, both block.
    const blocked = (stage: string) =>
      rotated.health().reasons.find((r) => r.startsWith(`${stage} partition 0: blocked`));
    await waitFor(() => (blocked('users') && blocked('items') ? true : undefined), 60_000);
    for (const stage of ['users', 'items'])
      expect(blocked(stage)).toMatch(
        new RegExp(
          `^${stage} partition 0: blocked: ${h.groupId}-${stage}-changelog was written under another TOMBSTONE_KEY`,
        ),
      );
    expect(rotated.isReady()).toBe(false);
    await rotated.stop();
    // The key it was written with: live again.
    const back = await h.start(env);
    await back.waitUntilReady(60_000);
    await back.stop();
  }, 150_000);
  it('rotating TOMBSTONE_KEY as documented — a new group under the new key — ends exact, the forgotten stay forgotten', async () => {
    const h = await harness(2);
    deleteInternalTopicsAfterAll(h.groupId);
    const s = scenario({ seed: 47, users: 25, items: 15, events: 300, forget: 4 });
    const env = partitionedEnv({ TOP_K: '5' });
    const old = await h.start(env);
    await old.waitUntilReady(60_000);
    await h.produceEvents(s.before, 'json');
    await h.produceDeletions(s.deletions, 'json');
    await waitForReceipts(
      h,
      s.deletions.map((d) => d.requestId),
      60_000,
    );
    await old.stop();
    // docs/scale-out.md → Rotating TOMBSTONE_KEY: the new key with a new KAFKA_GROUP_ID.
    const group = `${h.groupId}-rotated`;
    deleteInternalTopicsAfterAll(group);
    const rotated = await h.start({
      ...env,
      KAFKA_GROUP_ID: group,
      TOMBSTONE_KEY: 'the-rotated-key-of-sixteen-chars-or-more',
    });
    await rotated.waitUntilReady(60_000);
    await h.produceEvents(s.after, 'json');
    await waitPartitionedProcessed(h.kafka, group, [h.topics.interactions, h.topics.deletions]);
    await expectListsEventually(
      h,
      bruteForceLists(survivingHistory([...s.before, ...s.after], s.deletions), 5, 1),
    );
    await rotated.stop();
  }, 180_000);
});

/** A first instance processes `events` and stops (state in the changelogs, none running). */
async function processedThenStopped(
  h: Harness,
  env: Record<string, string>,
  events: readonly RefEvent[],
): Promise<void> {
  const first = await h.start(env);
  await first.waitUntilReady(60_000);
  await h.produceEvents(events, 'json');
  await waitPartitionedProcessed(h.kafka, h.groupId, [h.topics.interactions]);
  await first.stop();
}

/** Deletes every record of partition 0 of `topic` (what retention does to old segments). */
async function truncate(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [end] = await admin.fetchTopicOffsets(topic);
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: end!.high }] });
  } finally {
    await admin.disconnect();
  }
}
