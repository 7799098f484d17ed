// A record batch emptied by log compaction, on the real broker: a transaction's batch is aborted
// after its segment rolled, the cleaner discards the aborted records but keeps the batch (the last of
// its cleaning round) with no record in it, at the end of its segment. A consumer reading from the
// start must move past it to the committed record behind it, as the Java consumer does. kafkajs 2.2.4
// fetched the same offset forever (tulios/kafkajs#562): this is what stalled the partitioned mode's
// restores; patches/kafkajs+2.2.4+001+empty-compacted-batches.patch mends it and this test fails without the mend.
import { describe, expect, it } from 'vitest';
import { javaTopicSizes } from '../helpers/java-kafka.js';
import {
  consumeN,
  createTopics,
  kafkaBrokers,
  keysReadToEnd,
  transactionalProducer,
  uniqueName,
  waitFor,
} from '../helpers/kafka.js';

const brokers = kafkaBrokers();
const RECORDS = 20;

describe('a batch emptied by compaction', () => {
  it('is passed over: the committed record behind it is read', async () => {
    const [topic] = await createTopics(brokers, [uniqueName('t-empty-batch')], {
      compact: true,
      configs: { 'segment.ms': '1000', 'min.cleanable.dirty.ratio': '0.01', 'min.compaction.lag.ms': '0' },
    });
    const producer = transactionalProducer(brokers);
    await producer.connect();
    try {
      const aborted = await producer.transaction();
      await aborted.send({
        topic: topic!,
        messages: Array.from({ length: RECORDS }, (_, i) => ({ key: `k${i}`, value: 'x'.repeat(1_000) })),
      });
      // The abort marker opens a new segment: the aborted batch ends the first one. The committed
      // record follows at once, in the same (active) segment, which the cleaner leaves alone.
      await new Promise((r) => setTimeout(r, 1_500));
      await aborted.abort();
      const committed = await producer.transaction();
      await committed.send({ topic: topic!, messages: [{ key: 'after', value: 'kept' }] });
      await committed.commit();
    } finally {
      await producer.disconnect();
    }

    // The cleaner has run once the aborted kilobytes are gone from the log.
    await waitFor(
      async () => ((await javaTopicSizes(brokers, [topic!])).get(topic!) ?? Infinity) < 2_000,
      60_000,
      1_000,
    );

    // eachMessage (kafkajs resolves filtered batches itself) …
    const [record] = await consumeN(topic!, 1, 20_000);
    expect(record?.key).toBe('after');
    expect(Number(record?.offset)).toBeGreaterThan(RECORDS);
    // … and eachBatch, as the service reads: the batch without messages reaches it, the read ends.
    expect(await keysReadToEnd(topic!, brokers)).toEqual(['after']);
  }, 120_000);
});
