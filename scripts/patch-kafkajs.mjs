#!/usr/bin/env node
// Mends kafkajs 2.2.4 so that a consumer moves past record batches that hold nothing for it (run by
// `npm install` / `npm ci` through package.json "postinstall"; idempotent), read_committed
// consumers skip every aborted transaction, and an offset reset never commits.
//
// 1. Batches emptied by log compaction (src/protocol/requests/fetch/v4/decodeMessages.js). The log
//    cleaner keeps a producer's last batch, and since Kafka 3.9 (KAFKA-17076) the last batch of every
//    cleaning round, even when compaction removed all of its records. The Java consumer moves its
//    position past such a batch; kafkajs decoded nothing from it and fetched the same offset again,
//    forever (tulios/kafkajs#562) — when the batch ends a segment, the fetch returns nothing else.
//    amnesia reads compacted changelogs (partitioned mode) and compacted outputs; a restore stalled
//    there for good after a broker restart or a moved partition, the moments when old owners' last
//    transactions are aborted. Mend: a batch without records yields one control record at the batch's
//    last offset, which kafkajs then treats as a batch whose records were all filtered out.
// 2. Fetches whose records were all filtered out (src/consumer/runner.js: transaction markers,
//    aborted records, emptied batches). kafkajs moved its own position past them and only emitted
//    END_BATCH_PROCESS, outside eachBatch: an application keeping its own positions had to follow
//    from that event, which carries no fetch offset and cannot tell a batch fetched before a seek
//    from one fetched after it. Mend: with eachBatch, such a fetch is handed to eachBatch with no
//    message (its lastOffset() the last offset filtered), where isStale() tells a stale one.
// 3. Aborted transactions (src/consumer/filterAbortedMessages.js). A read_committed fetch lists the
//    aborted transactions it covers; kafkajs marked at most one of them per message, in the order
//    given, so when two aborted transactions had begun before a message (several producers aborted
//    at once — a broker restart), records of the second leaked through as if committed. amnesia's
//    item stage then applied a user's aborted deltas as well as their committed retry. Mend: sort
//    by first offset and mark every transaction begun at or before the message, as the Java
//    consumer does.
// 4. Offset out of range (src/consumer/offsetManager/index.js, setDefaultOffset). kafkajs answered it
//    by committing the reset offset (-2, "earliest") to the group, even with autoCommit off, with
//    the member's generation: the group's offsets — which amnesia commits in its transactions with
//    the state they belong to — were overwritten, and a task restored before its next commit
//    started from the partition's start and applied deltas twice (a fenced owner whose position
//    the next owner's DeleteRecords had passed, after a broker restart). Mend: with autoCommit off a
//    reset moves the fetch position only, as the Java consumer's auto.offset.reset does.
// 5. Grouping a produce request's messages by partition (src/producer/groupMessagesPerPartition.js)
//    copied each partition's array for every message: quadratic in the messages per partition. A
//    request of small changelog records (≈ 10,000 per partition, partitioned mode) spent ≈ 4 s of a
//    35 s MovieLens run there. Mend: append in place (a performance mend; the order is the same).
//
// src/kafka/kafkajs-fix.ts checks the four correctness mends at start-up and the service refuses
// to start without them.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const MARKER = 'amnesia: kafkajs mend';
const VERSION = '2.2.4';

const MENDS = [
  {
    file: 'src/protocol/requests/fetch/v4/decodeMessages.js',
    edits: [
      [
        `        const recordBatch = await RecordBatchDecoder(messagesDecoder)
        records.push(...recordBatch.records)`,
        `        const recordBatch = await RecordBatchDecoder(messagesDecoder)
        // ${MARKER} (scripts/patch-kafkajs.mjs in amnesia): a batch emptied by log compaction
        // still moves the position past its last offset, as the Java consumer does.
        if (recordBatch.records.length > 0) records.push(...recordBatch.records)
        else records.push(emptyBatchMark(recordBatch))`,
      ],
      [
        'const decodeMessages = async decoder => {',
        `// ${MARKER}: one control record at the last offset of a batch that holds no record.
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

const decodeMessages = async decoder => {`,
      ],
    ],
  },
  {
    file: 'src/consumer/filterAbortedMessages.js',
    edits: [
      [
        `  const remainingAbortedTransactions = [...abortedTransactions]`,
        `  // ${MARKER} (scripts/patch-kafkajs.mjs in amnesia): in offset order, and every aborted
  // transaction begun at or before a message marks its producer (kafkajs marked one per message, so
  // with two aborted transactions begun before a message, the second producer's records leaked).
  const remainingAbortedTransactions = [...abortedTransactions].sort((a, b) =>
    Long.fromValue(a.firstOffset).compare(Long.fromValue(b.firstOffset))
  )`,
      ],
      [
        `    if (
      remainingAbortedTransactions.length &&
      Long.fromValue(message.offset).gte(remainingAbortedTransactions[0].firstOffset)
    ) {`,
        `    while (
      remainingAbortedTransactions.length &&
      Long.fromValue(message.offset).gte(remainingAbortedTransactions[0].firstOffset)
    ) {`,
      ],
    ],
  },
  {
    file: 'src/consumer/offsetManager/index.js',
    edits: [
      [
        `  async setDefaultOffset({ topic, partition }) {
    const { groupId, generationId, memberId } = this`,
        `  async setDefaultOffset({ topic, partition }) {
    // ${MARKER} (scripts/patch-kafkajs.mjs in amnesia): with autoCommit off the application
    // commits its offsets; a reset moves the fetch position only (auto.offset.reset in Java).
    if (!this.autoCommit) {
      const [reset] = await this.cluster.fetchTopicsOffset([
        { topic, partitions: [{ partition }], ...this.topicConfigurations[topic] },
      ])
      const { offset } = reset.partitions.find(p => p.partition === partition)
      this.resolveOffset({ topic, partition, offset: Long.fromValue(offset).subtract(1).toString() })
      return
    }
    const { groupId, generationId, memberId } = this`,
      ],
    ],
  },
  {
    file: 'src/producer/groupMessagesPerPartition.js',
    edits: [
      [
        `  return messages.reduce((result, message) => {
    const partition = partitioner({ topic, partitionMetadata, message })
    const current = result[partition] || []
    return Object.assign(result, { [partition]: [...current, message] })
  }, {})`,
        `  // ${MARKER} (scripts/patch-kafkajs.mjs in amnesia): appended in place, not copied per message.
  const result = {}
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message })
    ;(result[partition] || (result[partition] = [])).push(message)
  }
  return result`,
      ],
    ],
  },
  {
    file: 'src/consumer/runner.js',
    edits: [
      [
        `      if (batch.isEmptyDueToFiltering()) {`,
        `      // ${MARKER} (scripts/patch-kafkajs.mjs in amnesia): with eachBatch, a fetch whose
      // records were all filtered out is handed over with no message (see below), so that the
      // application follows the position and isStale() tells a batch fetched before a seek.
      const filteredForEachBatch = Boolean(this.eachBatch) && batch.isEmptyDueToFiltering()
      if (batch.isEmptyDueToFiltering() && !filteredForEachBatch) {`,
      ],
      [`      if (batch.isEmpty()) {`, `      if (batch.isEmpty() && !filteredForEachBatch) {`],
    ],
  },
];

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
const changed = [];
for (const { file, edits } of MENDS) {
  const full = path.join(root, file);
  let text = readFileSync(full, 'utf8');
  if (text.includes(MARKER)) continue;
  for (const [original, mended] of edits) {
    if (version !== VERSION || text.split(original).length !== 2)
      fail(
        `kafkajs ${version} is not the ${VERSION} this mend was written for (${file} differs): ` +
          'check whether it still stalls on record batches emptied by compaction, then update this script',
      );
    text = text.replace(original, mended);
  }
  writeFileSync(full, text);
  changed.push(file);
}
if (changed.length > 0)
  console.log(
    `patch-kafkajs: kafkajs ${version} mended (${changed.join(', ')}): empty, filtered and aborted batches and offset resets handled as the Java consumer does, produce requests grouped in linear time`,
  );
