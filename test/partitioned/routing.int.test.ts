// MODE=partitioned must not depend on the producer's partitioner (issue 21 item 1). Interactions
// come from a murmur2 producer (kafkajs's default, as the Java client), deletions from a producer
// with librdkafka's default CRC32 partitioner, every third of them with a null key. Ends exact
// against the brute force from the surviving events; every receipt's interactionsRemoved is the
// number of items the user held at the request. (Interactions of one user spread over partitions —
// null keys — have no order between them in Kafka: the contract asks for one user per partition.)
//
// Failed before the user stage routed records to their user's home partition (route.ts): in two
// runs 7 and 8 of the 8 receipts had a wrong interactionsRemoved (e.g. 0, 3, 12, 1, 1, 0, 0, 2 for
// 9, 6, 13, 10, 10, 11, 10, 12 held).
import { Partitioners, type Producer } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { encodeValue } from '../../src/output/encode.js';
import { partitionOf } from '../../src/partitioned/ids.js';
import { scenario } from '../helpers/generator.js';
import { kafkaClient } from '../helpers/kafka.js';
import { bruteForceLists, survivingHistory } from '../helpers/oracle.js';
import { crc32, librdkafkaPartitioner } from '../helpers/partitioners.js';
import {
  deleteInternalTopicsAfterAll,
  partitionedEnv,
  waitPartitionedProcessed,
} from '../helpers/partitioned.js';
import { expectExact, harness, waitForReceipts } from '../helpers/service.js';

const PARTITIONS = 3;

describe('MODE=partitioned routing', () => {
  it('stays exact and counts every removal when deletions and interactions were partitioned differently', async () => {
    const h = await harness(PARTITIONS);
    deleteInternalTopicsAfterAll(h.groupId);
    const s = scenario({ seed: 41, users: 40, items: 30, events: 800, forget: 8 });
    // The test's premise: the two partitioners disagree for some forgotten users.
    const split = s.deletions.filter(
      (d) => crc32(Buffer.from(d.userId)) % PARTITIONS !== partitionOf(d.userId, PARTITIONS),
    );
    expect(split.length).toBeGreaterThan(2);
    const svc = await h.start(partitionedEnv({ TOP_K: '5' }));
    await svc.waitUntilReady(60_000);

    const kafka = kafkaClient();
    const murmur = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    const crc = kafka.producer({ createPartitioner: librdkafkaPartitioner });
    await Promise.all([murmur.connect(), crc.connect()]);
    try {
      // Every 3rd deletion without a key (the value names the user).
      const send = (p: Producer, topic: string, values: Buffer[], nullEvery: number, users: string[]) =>
        p.send({
          topic,
          acks: -1,
          messages: values.map((value, k) => ({
            key: nullEvery > 0 && k % nullEvery === 0 ? null : users[k]!,
            value,
          })),
        });
      const events = (list: typeof s.before) => list.map((e) => encodeValue('interaction', e));
      await send(
        murmur,
        h.topics.interactions,
        events(s.before),
        0,
        s.before.map((e) => e.userId),
      );
      const requests = s.deletions.map((d) => encodeValue('deletion', d));
      await send(
        crc,
        h.topics.deletions,
        requests,
        3,
        s.deletions.map((d) => d.userId),
      );
      const receipts = await waitForReceipts(
        h,
        s.deletions.map((d) => d.requestId),
        60_000,
      );
      // Removed: what the user held when the request was applied (all of `before` precedes it).
      const held = survivingHistory(s.before, []);
      const removed = Object.fromEntries(
        s.deletions.map((d) => [d.requestId, receipts.get(d.requestId)?.interactionsRemoved]),
      );
      const expected = Object.fromEntries(
        s.deletions.map((d) => [d.requestId, held.get(d.userId)?.size ?? 0]),
      );
      expect(removed).toEqual(expected);
      await send(
        murmur,
        h.topics.interactions,
        events(s.after),
        0,
        s.after.map((e) => e.userId),
      );
    } finally {
      await Promise.all([murmur.disconnect(), crc.disconnect()]);
    }
    await waitPartitionedProcessed(h.kafka, h.groupId, [h.topics.interactions, h.topics.deletions]);
    const expected = bruteForceLists(survivingHistory([...s.before, ...s.after], s.deletions), 5, 1);
    expectExact(await h.similarities(), expected);
    await svc.stop();
  }, 180_000);
});
