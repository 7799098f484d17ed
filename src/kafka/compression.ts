// Kafka record-batch compression beyond kafkajs's built-in gzip: snappy, lz4 and zstd codecs
// registered into kafkajs once (kafka.ts imports this module), so a batch from librdkafka or the Java
// client in any codec decodes instead of killing the consumer, and OUTPUT_COMPRESSION can pick any
// of them for what we produce. The libraries are napi-rs addons whose binaries ship prebuilt in
// per-platform npm packages (no install script, no download).
import { Decoder as ZstdDecoder, Encoder as ZstdEncoder } from '@toondepauw/node-zstd';
import kafkajs, { CompressionTypes } from 'kafkajs';
import { compressFrameSync, decompressFrameSync } from 'lz4-napi';
import { compressSync as snappyCompress, uncompressSync as snappyUncompress } from 'snappy';
import type { Config, OutputCompression } from '../config.js';

/** What kafkajs hands a codec to compress: its encoder, whose `buffer` holds the encoded records. */
interface EncoderLike {
  readonly buffer: Buffer;
}
export interface KafkaCodec {
  compress(encoder: EncoderLike): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

// snappy-java's stream framing ("xerial"), which the Java client writes: an 8-byte magic, two
// int32 versions, then blocks of int32 length + raw snappy. librdkafka writes raw snappy instead
// (so did kafkajs-snappy); both are read. We write the framing, as Java does: every client reads it.
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;
/** snappy-java's default block size. */
const XERIAL_BLOCK_BYTES = 32 * 1024;

function isXerialHeader(buf: Buffer, at: number): boolean {
  return buf.length >= at + XERIAL_HEADER_BYTES && buf.compare(XERIAL_MAGIC, 0, 8, at, at + 8) === 0;
}

export function snappyXerialCompress(data: Buffer): Buffer {
  const header = Buffer.alloc(XERIAL_HEADER_BYTES);
  XERIAL_MAGIC.copy(header);
  header.writeInt32BE(1, 8);
  header.writeInt32BE(1, 12);
  const parts: Buffer[] = [header];
  for (let at = 0; at < data.length; at += XERIAL_BLOCK_BYTES) {
    const block = snappyCompress(data.subarray(at, at + XERIAL_BLOCK_BYTES));
    const len = Buffer.allocUnsafe(4);
    len.writeInt32BE(block.length);
    parts.push(len, block);
  }
  return Buffer.concat(parts);
}

export function snappyDecompress(buf: Buffer): Buffer {
  if (!isXerialHeader(buf, 0)) return snappyUncompress(buf, { asBuffer: true }) as Buffer;
  const parts: Buffer[] = [];
  let at = XERIAL_HEADER_BYTES;
  while (at < buf.length) {
    // snappy-java also reads streams concatenated with their headers.
    if (isXerialHeader(buf, at)) {
      at += XERIAL_HEADER_BYTES;
      continue;
    }
    if (at + 4 > buf.length) throw new Error('snappy: truncated block length');
    const len = buf.readInt32BE(at);
    at += 4;
    if (len < 0 || at + len > buf.length) throw new Error('snappy: truncated block');
    parts.push(snappyUncompress(buf.subarray(at, at + len), { asBuffer: true }) as Buffer);
    at += len;
  }
  return Buffer.concat(parts);
}

/** zstd level 3 is zstd's and the Java client's default. One encoder/decoder, used synchronously. */
const zstdEncoder = new ZstdEncoder(3);
const zstdDecoder = new ZstdDecoder();

// Synchronous calls: at these codecs' speeds a 1 MB batch takes a few ms, less than a round trip
// through the libuv thread pool would save on 2 cores.
/** The result of a synchronous call as a promise; a throw becomes a rejection. */
const settle = <T>(fn: () => T): Promise<T> => new Promise((resolve) => resolve(fn()));

export const CODECS = {
  snappy: {
    compress: (e) => settle(() => snappyXerialCompress(e.buffer)),
    decompress: (b) => settle(() => snappyDecompress(b)),
  },
  // Kafka's LZ4 is the LZ4 frame format (magic 0x184D2204) with independent blocks.
  lz4: {
    compress: (e) => settle(() => compressFrameSync(e.buffer)),
    decompress: (b) => settle(() => decompressFrameSync(b)),
  },
  zstd: {
    compress: (e) => settle(() => zstdEncoder.encodeSync(e.buffer)),
    decompress: (b) => settle(() => zstdDecoder.decodeSync(b)),
  },
} satisfies Record<string, KafkaCodec>;

// kafkajs is CommonJS and Node's ESM loader does not see this export by name: take it off the default.
const { CompressionCodecs } = kafkajs;
let registered = false;

/** Registers snappy, lz4 and zstd into kafkajs (process-wide; idempotent). */
export function registerCompressionCodecs(): void {
  if (registered) return;
  CompressionCodecs[CompressionTypes.Snappy] = () => CODECS.snappy;
  CompressionCodecs[CompressionTypes.LZ4] = () => CODECS.lz4;
  CompressionCodecs[CompressionTypes.ZSTD] = () => CODECS.zstd;
  registered = true;
}

const TYPES: Record<OutputCompression, CompressionTypes> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

/** The kafkajs `compression` of every producer send of the service (OUTPUT_COMPRESSION). */
export function outputCompression(config: Pick<Config, 'outputCompression'>): CompressionTypes {
  return TYPES[config.outputCompression];
}
