// Whether the installed kafkajs moves past a record batch that log compaction emptied (see
// scripts/patch-kafkajs.mjs, which `npm install` runs). Without that mend a consumer of a compacted
// topic fetches the same offset forever once it reaches such a batch, so start-up refuses to run
// without it. The check decodes a header-only batch through kafkajs's own fetch decoding and batch
// bookkeeping: the position must move past the batch's last offset and no message may come out.
import { createRequire } from 'node:module';
import { AmnesiaError } from '../errors.js';

const require = createRequire(import.meta.url);

interface KafkajsBatch {
  isEmpty(): boolean;
  isEmptyDueToFiltering(): boolean;
  lastOffset(): string;
}
type DecodeMessages = (decoder: unknown) => Promise<unknown[]>;
type DecoderClass = new (buffer: Buffer) => unknown;
type BatchClass = new (
  topic: string,
  fetchedOffset: string,
  partitionData: { partition: number; highWatermark: string; messages: unknown[]; abortedTransactions: [] },
) => KafkajsBatch;

/**
 * A record batch (magic 2) from `baseOffset` to `baseOffset + lastOffsetDelta` holding no record, as
 * the log cleaner leaves it, framed as a fetch response's record set (size first).
 */
export function emptyRecordBatch(baseOffset: bigint, lastOffsetDelta: number, producerId = 7n): Buffer {
  const b = Buffer.alloc(4 + 61);
  let o = b.writeInt32BE(61, 0);
  o = b.writeBigInt64BE(baseOffset, o);
  o = b.writeInt32BE(49, o); // batch length: everything after this field
  o = b.writeInt32BE(0, o); // partition leader epoch
  o = b.writeInt8(2, o); // magic
  o = b.writeInt32BE(0, o); // crc (kafkajs does not check it)
  o = b.writeInt16BE(0x10, o); // attributes: transactional, uncompressed
  o = b.writeInt32BE(lastOffsetDelta, o);
  o = b.writeBigInt64BE(1n, o); // first timestamp
  o = b.writeBigInt64BE(1n, o); // max timestamp
  o = b.writeBigInt64BE(producerId, o);
  o = b.writeInt16BE(0, o); // producer epoch
  o = b.writeInt32BE(0, o); // base sequence
  b.writeInt32BE(0, o); // record count
  return b;
}

/** The installed kafkajs's view of a fetch that returned `recordSet` from `fetchedOffset`. */
export async function kafkajsBatch(recordSet: Buffer, fetchedOffset: bigint): Promise<KafkajsBatch> {
  const decodeMessages = require('kafkajs/src/protocol/requests/fetch/v4/decodeMessages') as DecodeMessages;
  const Decoder = require('kafkajs/src/protocol/decoder') as DecoderClass;
  const Batch = require('kafkajs/src/consumer/batch') as BatchClass;
  const messages = await decodeMessages(new Decoder(recordSet));
  return new Batch('t', fetchedOffset.toString(), {
    partition: 0,
    highWatermark: '1000000',
    messages,
    abortedTransactions: [],
  });
}

/** True when the installed kafkajs moves past a record batch emptied by compaction. */
export async function kafkajsSkipsEmptyBatches(): Promise<boolean> {
  try {
    const batch = await kafkajsBatch(emptyRecordBatch(100n, 9), 100n);
    return batch.isEmpty() && batch.isEmptyDueToFiltering() && batch.lastOffset() === '109';
  } catch {
    return false;
  }
}

/** Start-up: refuses to run on a kafkajs that would stall on a compacted topic. */
export async function assertKafkajsFix(): Promise<void> {
  if (await kafkajsSkipsEmptyBatches()) return;
  throw new AmnesiaError(
    'CONFIG_INVALID',
    'kafkajs: the installed copy stalls on record batches emptied by log compaction; ' +
      'run `node scripts/patch-kafkajs.mjs` (npm install runs it unless scripts are disabled)',
  );
}
