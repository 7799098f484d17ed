// The inspector's receipts panel shows the receipts already on the topic when it starts (the demo
// forgets Marge before the page is opened), newest first, at most KEEP_RECEIPTS, and then every new
// one at the front. Against a real broker: receipts spread over two partitions.
import { afterAll, describe, expect, it } from 'vitest';
import { KEEP_RECEIPTS, followReceipts, type ReceiptFeed } from '../../../src/http/inspector/receipts.js';
import { createLogger } from '../../../src/log.js';
import {
  createTopics,
  kafkaBrokers,
  kafkaClient,
  produce,
  uniqueName,
  waitFor,
} from '../../helpers/kafka.js';

const receipt = (n: number) => ({
  requestId: `req-${n}`,
  status: n % 2 === 0 ? 'FORGOTTEN' : 'PURGED',
  interactionsRemoved: n,
  itemsAffected: n,
  completedAt: 1_700_000_000_000 + n * 1000,
});

describe('the inspector receipts feed', () => {
  let feed: ReceiptFeed | undefined;
  afterAll(async () => {
    await feed?.close();
  });

  it('starts with the newest receipts already on the topic, then adds new ones in front', async () => {
    const topic = uniqueName('receipts');
    await createTopics(kafkaBrokers(), [topic], { partitions: 2 });
    // 30 receipts, alternating partitions, so each partition holds 15 (more than its share of 20).
    for (let n = 0; n < 30; n++)
      await produce(topic, [{ key: `req-${n}`, value: JSON.stringify(receipt(n)), partition: n % 2 }]);
    const seen: string[] = [];
    feed = followReceipts({
      kafka: kafkaClient(),
      topic,
      log: createLogger('silent'),
      onReceipt: (r) => seen.push(r.requestId),
    });
    await feed.joined;
    const expected = Array.from({ length: 30 }, (_, n) => receipt(n))
      .sort((a, b) => b.completedAt - a.completedAt)
      .slice(0, KEEP_RECEIPTS)
      .map((r) => r.requestId);
    const f = feed;
    await waitFor(() => f.latest().length === KEEP_RECEIPTS && f.latest()[0]?.requestId === 'req-29');
    // Every partition's last 20 are read; the newest 20 overall are kept, newest first.
    await waitFor(() => seen.length >= 30);
    expect(f.latest().map((r) => r.requestId)).toEqual(expected);
    await produce(topic, [{ key: 'req-99', value: JSON.stringify(receipt(99)), partition: 0 }]);
    await waitFor(() => f.latest()[0]?.requestId === 'req-99');
    expect(f.latest()).toHaveLength(KEEP_RECEIPTS);
    expect(f.latest()[1]?.requestId).toBe('req-29');
  });
});
