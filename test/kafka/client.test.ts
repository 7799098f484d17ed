// Every kafkajs client the service, CLI and inspector make comes from createKafka: loading that
// module must leave kafkajs able to decode (and encode) every Kafka codec.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { CODECS } from '../../src/kafka/compression.js';
import '../../src/kafka/client.js';

interface Codec {
  compress(e: { buffer: Buffer }): Promise<Buffer>;
  decompress(b: Buffer): Promise<Buffer>;
}
// The lookup kafkajs's record-batch decoder itself uses (attributes bits 0-2 → codec).
const { lookupCodecByAttributes } = createRequire(import.meta.url)(
  'kafkajs/src/protocol/message/compression',
) as { lookupCodecByAttributes: (attributes: number) => Codec | null };

describe('the Kafka client module', () => {
  it.each([
    ['snappy', 2],
    ['lz4', 3],
    ['zstd', 4],
  ] as const)('registers %s (attribute %i) where the consumer looks codecs up', async (name, attribute) => {
    const codec = lookupCodecByAttributes(attribute);
    expect(codec).toBe(CODECS[name]);
    const data = Buffer.from('{"userId":"u","itemId":"i","action":"ADD"}'.repeat(100));
    expect((await codec!.decompress(await codec!.compress({ buffer: data }))).equals(data)).toBe(true);
  });

  it('keeps kafkajs gzip and no compression as they are', async () => {
    expect(lookupCodecByAttributes(0)).toBeNull();
    const gzip = lookupCodecByAttributes(1)!;
    const data = Buffer.from('x'.repeat(1000));
    expect((await gzip.decompress(await gzip.compress({ buffer: data }))).equals(data)).toBe(true);
  });
});
