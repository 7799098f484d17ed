// The snappy, lz4 and zstd codecs against bytes written by independent implementations (snappy-java
// 1.1.10 as the Java client uses it, the lz4 and zstd reference command-line tools), the framing
// we write, and the mapping of OUTPUT_COMPRESSION onto Kafka's codec ids.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CODECS, outputCompression, snappyXerialCompress } from '../../src/kafka/compression.js';

const EVENTS =
  '{"userId":"u1","itemId":"i1","action":"ADD"}{"userId":"u1","itemId":"i2","action":"ADD"}{"userId":"u2","itemId":"i1","action":"REMOVE"}';
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// new SnappyOutputStream(out, 1024).write(EVENTS × 20): the xerial header and three blocks.
const SNAPPY_JAVA_STREAM = hex(`
82534e415050590000000001000000010000006f80084c7b22757365724964223a227531222c226974656d050e0069010e34
616374696f6e223a22414444227d662c000832222c6a2c00011e5a58001452454d4f56456e5b00fe8700fe8700fe8700fe87
00fe8700fe8700fe8700fe8700fe8700fe8700fe8700fe8700fe87007a8700000000798008706e223a22414444227d7b2275
7365724964223a227532222c226974656d050e246931222c22616374696f012c1452454d4f5645362f0001215a2f00425b00
362c000169155b422c00011e5a5800fe8700fe8700fe8700fe8700fe8700fe8700fe8700fe8700fe8700fe8700fe8700fe87
00fe87001587000000608c05803a226931222c22616374696f6e223a22414444227d7b22757365724964223a2275011e0c69
74656d050e046932722c00011e192c013a15581452454d4f56456e5b00322f00fe8700fe8700fe8700fe8700fe8700fe8700
fe8700d28700`);
// Snappy.compress(EVENTS × 20): a raw block, as librdkafka writes.
const SNAPPY_RAW = hex(`
8c154c7b22757365724964223a227531222c226974656d050e0069010e34616374696f6e223a22414444227d662c00083222
2c6a2c00011e5a58001452454d4f56456e5b00fe8700fe8700fe8700fe8700fe8700fe8700fe8700fe8700fe8700fe8700fe
8700fe8700fe8700fe8700fe8700fe8700fe8700fe8700fe8700fe8700fe8700fe8700fe8700fe8700fe8700fe8700fe8700
fe8700fe8700fe8700fe8700fe8700fe8700fe8700fe8700fe8700fe8700fe8700fe8700aa8700`);
// lz4 -BX (block checksums; content checksum on by default) and lz4 --no-frame-crc, of EVENTS.
const LZ4_CHECKSUMS = hex(`
04224d187440bd43000000f1057b22757365724964223a227531222c226974656d0e0010690e00ef616374696f6e223a2241
4444227d2c00071f322c000a001e000f5800048052454d4f5645227d996ddc9500000000b255c658`);
const LZ4_PLAIN = hex(`
04224d1860408243000000f1057b22757365724964223a227531222c226974656d0e0010690e00ef616374696f6e223a2241
4444227d2c00071f322c000a001e000f5800048052454d4f5645227d00000000`);
// `zstd -c < events`: streamed, so the frame header holds no content size.
const ZSTD_STREAMED = hex(`
28b52ffd0458fd0100e4027b22757365724964223a227531222c226974656d69616374696f6e223a22414444227d32323152
454d4f5645227d06008013701cb8d9a74c01bb42984c3c2ce42d`);

describe('compression codecs', () => {
  it('read what snappy-java (the Java client) and raw-snappy writers (librdkafka) produce', async () => {
    expect((await CODECS.snappy.decompress(SNAPPY_JAVA_STREAM)).toString()).toBe(EVENTS.repeat(20));
    expect((await CODECS.snappy.decompress(SNAPPY_RAW)).toString()).toBe(EVENTS.repeat(20));
    // snappy-java also reads streams concatenated with their headers; so do we.
    const twice = Buffer.concat([SNAPPY_JAVA_STREAM, SNAPPY_JAVA_STREAM]);
    expect((await CODECS.snappy.decompress(twice)).toString()).toBe(EVENTS.repeat(40));
  });

  it('read LZ4 frames of the reference tool, with and without checksums', async () => {
    expect((await CODECS.lz4.decompress(LZ4_CHECKSUMS)).toString()).toBe(EVENTS);
    expect((await CODECS.lz4.decompress(LZ4_PLAIN)).toString()).toBe(EVENTS);
  });

  it('read a streamed zstd frame that does not state its content size', async () => {
    expect((await CODECS.zstd.decompress(ZSTD_STREAMED)).toString()).toBe(EVENTS);
  });

  it('write snappy in the framing snappy-java reads: header, then 32 KiB blocks with lengths', () => {
    const data = randomBytes(80_000);
    const out = snappyXerialCompress(data);
    expect(out.subarray(0, 16).toString('hex')).toBe('82534e41505059000000000100000001');
    const blocks: number[] = [];
    for (let at = 16; at < out.length; at += 4 + out.readInt32BE(at)) blocks.push(out.readInt32BE(at));
    expect(blocks).toHaveLength(3); // 32768 + 32768 + 14464 bytes of input
    expect(16 + blocks.reduce((a, b) => a + b + 4, 0)).toBe(out.length);
  });

  it('write LZ4 frames with independent blocks (Kafka readers decode each block on its own)', async () => {
    const out = await CODECS.lz4.compress({ buffer: Buffer.from(EVENTS.repeat(5_000)) });
    expect(out.readUInt32LE(0)).toBe(0x184d2204);
    const flg = out[4]!;
    expect(flg >> 6).toBe(1); // version 01
    expect(flg & 0x20).toBe(0x20); // block independence
  });

  it.each(['snappy', 'lz4', 'zstd'] as const)(
    '%s round-trips empty, small, random and large input',
    async (name) => {
      const codec = CODECS[name];
      for (const input of [
        Buffer.alloc(0),
        Buffer.from('x'),
        randomBytes(100_000),
        Buffer.from(EVENTS.repeat(30_000)), // 4 MB, several blocks
      ]) {
        const out = await codec.compress({ buffer: input });
        expect((await codec.decompress(out)).equals(input)).toBe(true);
      }
    },
  );

  it.each(['snappy', 'lz4', 'zstd'] as const)(
    '%s rejects corrupt input instead of returning garbage',
    async (name) => {
      const good = await CODECS[name].compress({ buffer: Buffer.from(EVENTS.repeat(50)) });
      const cut = good.subarray(0, Math.floor(good.length / 2));
      await expect(CODECS[name].decompress(cut)).rejects.toThrow();
    },
  );

  it("maps OUTPUT_COMPRESSION onto Kafka's codec ids (record batch attributes, bits 0-2)", () => {
    const ids = (['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const).map((c) =>
      outputCompression({ outputCompression: c }),
    );
    expect(ids).toEqual([0, 1, 2, 3, 4]);
  });
});
