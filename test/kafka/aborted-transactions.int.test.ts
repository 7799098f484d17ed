// Aborted transactions of two producers that overlap in one partition, on the real broker: a
// read_committed reader must skip both. The fetch lists aborted transactions in the order they ended,
// not began; kafkajs 2.2.4 marked at most one per record, in that order, and handed over the records
// of the one that began first as if committed — what made the partitioned mode's item stage apply a
// user's aborted deltas after a broker restart aborted several user tasks' transactions at once
// (patches/kafkajs+2.2.4+003+every-aborted-transaction.patch mends it; this test fails without the mend).
import { describe, expect, it } from 'vitest';
import {
  consumeN,
  createTopics,
  kafkaBrokers,
  keysReadToEnd,
  transactionalProducer,
  uniqueName,
} from '../helpers/kafka.js';

const brokers = kafkaBrokers();
describe('overlapping aborted transactions', () => {
  it('are skipped by a read_committed reader, whichever ended first', async () => {
    const [topic] = await createTopics(brokers, [uniqueName('t-aborted')]);
    const first = transactionalProducer(brokers);
    const second = transactionalProducer(brokers);
    const last = transactionalProducer(brokers);
    await Promise.all([first.connect(), second.connect(), last.connect()]);
    try {
      const a = await first.transaction();
      await a.send({ topic: topic!, messages: [{ key: 'first-1', value: 'x' }] });
      const b = await second.transaction();
      await b.send({ topic: topic!, messages: [{ key: 'second-1', value: 'x' }] });
      await a.send({ topic: topic!, messages: [{ key: 'first-2', value: 'x' }] });
      // The one that began second ends first.
      await b.abort();
      await a.abort();
      const c = await last.transaction();
      await c.send({ topic: topic!, messages: [{ key: 'committed', value: 'x' }] });
      await c.commit();
    } finally {
      await Promise.all([first.disconnect(), second.disconnect(), last.disconnect()]);
    }

    // eachMessage (kafkajs filters) …
    const [record] = await consumeN(topic!, 1, 20_000);
    expect(record?.key).toBe('committed');
    // … and eachBatch, as the service reads.
    expect(await keysReadToEnd(topic!, brokers)).toEqual(['committed']);
  }, 60_000);
});
