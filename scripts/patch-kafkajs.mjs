#!/usr/bin/env node
// Mends kafkajs 2.2.4 so that a consumer moves past a record batch that log compaction emptied
// (run by `npm install` / `npm ci` through package.json "postinstall"; idempotent).
//
// The defect: the log cleaner keeps a producer's last batch, and since Kafka 3.9 (KAFKA-17076) the
// last batch of every cleaning round, even when compaction removed all of its records, so that the
// producer's sequence state and the log end survive. Such a batch holds only a header. The Java
// consumer moves its position to the batch's last offset + 1; kafkajs decodes no record from it,
// drops the batch and fetches the same offset again, forever (tulios/kafkajs#562) — when the batch
// ends a segment, the fetch returns nothing else. amnesia reads compacted changelogs (partitioned
// mode) and compacted outputs; a restore stalled there for good after a broker restart or a moved
// partition, because those are the moments old producers stop writing and their last batches empty.
//
// The mend: a batch without records yields one control record at the batch's last offset, which
// kafkajs already treats as a filtered batch (position moved past it, END_BATCH_PROCESS with
// batchSize 0, no message handed to the application). src/stream/kafkajs-fix.ts checks at start-up
// that the installed kafkajs behaves so and refuses to start otherwise.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const MARKER = 'amnesia: empty-batch fix';
const VERSION = '2.2.4';
const FILE = 'src/protocol/requests/fetch/v4/decodeMessages.js';

const ORIGINAL = `        const recordBatch = await RecordBatchDecoder(messagesDecoder)
        records.push(...recordBatch.records)`;
const MENDED = `        const recordBatch = await RecordBatchDecoder(messagesDecoder)
        // ${MARKER} (scripts/patch-kafkajs.mjs in amnesia): a batch emptied by log compaction
        // still moves the position past its last offset, as the Java consumer does.
        if (recordBatch.records.length > 0) records.push(...recordBatch.records)
        else records.push(emptyBatchMark(recordBatch))`;
const HELPER = `
// ${MARKER}: one control record at the last offset of a batch that holds no record.
const emptyBatchMark = batch => ({
  magicByte: MAGIC_BYTE,
  attributes: 0,
  timestamp: batch.maxTimestamp,
  offset: (BigInt(batch.firstOffset) + BigInt(batch.lastOffsetDelta)).toString(),
  key: null,
  value: null,
  headers: {},
  isControlRecord: true,
  batchContext: batch,
})
`;
const ANCHOR = 'const decodeMessages = async decoder => {';

function fail(message) {
  console.error(`patch-kafkajs: ${message}`);
  process.exit(1);
}

const require = createRequire(import.meta.url);
let root;
try {
  root = path.dirname(require.resolve('kafkajs/package.json'));
} catch {
  fail('kafkajs is not installed');
}
const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const file = path.join(root, FILE);
const text = readFileSync(file, 'utf8');
if (text.includes(MARKER)) process.exit(0);
if (version !== VERSION || !text.includes(ORIGINAL) || !text.includes(ANCHOR))
  fail(
    `kafkajs ${version} is not the ${VERSION} this mend was written for (${FILE} differs): ` +
      'check whether it still drops record batches emptied by compaction, then update this script',
  );
writeFileSync(file, text.replace(ORIGINAL, MENDED).replace(ANCHOR, `${HELPER}\n${ANCHOR}`));
console.log(`patch-kafkajs: kafkajs ${version} moves past record batches emptied by compaction`);
