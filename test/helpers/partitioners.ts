// Producer partitioners other clients use, for tests that produce the same stream as different
// producers would: librdkafka's default (`consistent_random`: CRC32 of the key bytes modulo the
// partition count; a null or empty key goes to a random partition — here a seeded one), as the
// Python, Go, .NET and C clients use by default. kafkajs's and the Java client's default is murmur2.
import type { ICustomPartitioner } from 'kafkajs';

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, as zlib and librdkafka's rd_crc32) of bytes, unsigned. */
export function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const b of data) c = TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** librdkafka's default partitioner as a kafkajs custom partitioner (null/empty keys: seeded spread). */
export const librdkafkaPartitioner: ICustomPartitioner = () => {
  let spread = 0;
  return ({ partitionMetadata, message }) => {
    const n = partitionMetadata.length;
    const key =
      message.key === null || message.key === undefined ? Buffer.alloc(0) : Buffer.from(message.key);
    if (key.length === 0) return spread++ % n;
    return crc32(key) % n;
  };
};
