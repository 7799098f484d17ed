// Input in every Kafka codec, end to end through the running service: the Apache Kafka Java client
// (an independent producer) writes one block of the event stream per codec — none, gzip, snappy,
// lz4, zstd — into the service's interactions topic, half JSON and half Avro; the published lists
// must equal the brute force over what the topic holds. A codec the consumer could not read would
// crash it or leave its block out: either way the lists would differ.
import { describe, expect, it } from 'vitest';
import { OUTPUT_COMPRESSIONS } from '../../src/config.js';
import { encodeValue } from '../../src/output/encode.js';
import { expectExactEnd } from '../helpers/chaos.js';
import { scenario } from '../helpers/generator.js';
import { javaProduce, type RawRecord } from '../helpers/java-kafka.js';
import { kafkaBrokers } from '../helpers/kafka.js';
import { harness, waitForReceipts } from '../helpers/service.js';

describe('compressed input', () => {
  it('events written in each codec by the Java client are all applied: exact lists', async () => {
    const h = await harness(3);
    const svc = await h.start({ OUTPUT_FORMAT: 'json' });
    await svc.waitUntilReady(30_000);
    const s = scenario({ seed: 17, users: 80, items: 50, events: 2_500, forget: 6 });
    const codecs = OUTPUT_COMPRESSIONS.map((c) => [c, h.topics.interactions] as const);
    const block = Math.ceil(s.before.length / codecs.length);
    const records: RawRecord[] = s.before.map((e, k) => ({
      key: Buffer.from(e.userId),
      value: encodeValue('interaction', e, k % 2 === 0 ? undefined : svc.schemaIds!.interaction),
      // Contiguous blocks, one per codec, written in order: each user's events stay in order.
      target: Math.floor(k / block),
    }));
    await javaProduce(kafkaBrokers(), codecs, records);
    await h.produceDeletions(s.deletions, 'mixed', svc.schemaIds);
    await waitForReceipts(
      h,
      s.deletions.map((d) => d.requestId),
    );
    const end = await expectExactEnd(h);
    expect(end.input.events).toHaveLength(s.before.length);
    expect(new Set(records.map((r) => r.target)).size).toBe(OUTPUT_COMPRESSIONS.length);
    await svc.stop();
  });
});
