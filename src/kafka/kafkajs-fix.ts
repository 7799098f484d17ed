// Whether the installed kafkajs carries the six mends of patches/kafkajs+2.2.4+00N+*.patch (applied
// by patch-package at `npm install` / `npm ci`; each patch's header says what it fixes, the kafkajs
// issue and the test): 1. a batch emptied by log compaction moves the position past its last offset
// (kafkajs 2.2.4 fetched the same offset forever); 2. a fetch whose records were all filtered out
// reaches eachBatch with no message, so that the stages' own positions follow it and isStale()
// applies to it; 3. read_committed filtering skips every aborted transaction a fetch lists (kafkajs
// leaked one of two begun before a record); 4. an out-of-range position is reset without committing
// anything to the group (kafkajs overwrote the transactionally committed offsets); 5. a produce
// request is grouped by partition in linear time; 6. the transaction and group coordinators are
// looked up once and kept (kafkajs asked before every transactional request). Start-up refuses to
// run without all six. The checks run kafkajs's own code (fetch decoding and batch bookkeeping on a
// header-only batch, the runner handing a filtered batch to eachBatch, the aborted-transaction
// filter, the offset manager's reset, the grouping, the transaction manager on a fake cluster); the
// fifth, a performance mend, is told by the per-message copy being gone.
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

interface RunnerLike {
  running: boolean;
  handleBatch(batch: unknown): Promise<void>;
}
type RunnerClass = new (options: Record<string, unknown>) => RunnerLike;

/** The batches the installed kafkajs runner hands to eachBatch for `batch` (no broker involved). */
export async function handedToEachBatch(batch: KafkajsBatch): Promise<unknown[]> {
  const Runner = require('kafkajs/src/consumer/runner') as RunnerClass;
  const quiet = { info() {}, debug() {}, warn() {}, error() {}, namespace: () => quiet };
  const handed: unknown[] = [];
  const runner = new Runner({
    logger: quiet,
    consumerGroup: {
      heartbeat: () => Promise.resolve(),
      commitOffsets: () => Promise.resolve(),
      commitOffsetsIfNecessary: () => Promise.resolve(),
      resolveOffset: () => undefined,
      hasSeekOffset: () => false,
      isPaused: () => false,
      getNodeIds: () => [],
    },
    instrumentationEmitter: { emit: () => undefined },
    eachBatchAutoResolve: false,
    autoCommit: false,
    concurrency: 1,
    heartbeatInterval: 3_000,
    onCrash: () => undefined,
    eachBatch: (payload: { batch: unknown }) => {
      handed.push(payload.batch);
      return Promise.resolve();
    },
  });
  runner.running = true;
  await runner.handleBatch(batch);
  return handed;
}

interface AbortedTxn {
  producerId: string;
  firstOffset: string;
}
type FilterAborted = (o: { messages: unknown[]; abortedTransactions: AbortedTxn[] }) => unknown[];

/**
 * The offsets of `records` (offset, producer id; all transactional) that the installed kafkajs
 * keeps as committed, given the aborted transactions a read_committed fetch listed.
 */
export function keptAsCommitted(records: [number, string][], aborted: AbortedTxn[]): number[] {
  const filter = require('kafkajs/src/consumer/filterAbortedMessages') as FilterAborted;
  const messages = records.map(([offset, producerId]) => ({
    offset: String(offset),
    key: Buffer.from('k'),
    batchContext: { producerId, inTransaction: true },
  }));
  return (filter({ messages, abortedTransactions: aborted }) as { offset: string }[]).map((m) =>
    Number(m.offset),
  );
}

interface OffsetManagerLike {
  setDefaultOffset(tp: { topic: string; partition: number }): Promise<void>;
  nextOffset(topic: string, partition: number): { toString(): string };
}
type OffsetManagerClass = new (options: Record<string, unknown>) => OffsetManagerLike;

/**
 * What the installed kafkajs does when a fetch position of a consumer without autoCommit is out of
 * range and the partition starts at `earliest`: the offsets it commits to the group, and the next
 * fetch offset.
 */
export async function offsetReset(earliest: number): Promise<{ commits: number; next: string }> {
  const OffsetManager = require('kafkajs/src/consumer/offsetManager') as OffsetManagerClass;
  let commits = 0;
  const committed: Record<string, Record<number, string>> = {};
  const coordinator = {
    isConnected: () => true,
    offsetCommit: () => {
      commits++;
      return Promise.resolve();
    },
  };
  const m = new OffsetManager({
    cluster: {
      committedOffsets: () => committed,
      defaultOffset: () => '-2',
      fetchTopicsOffset: () =>
        Promise.resolve([{ topic: 't', partitions: [{ partition: 0, offset: String(earliest) }] }]),
    },
    coordinator,
    memberAssignment: { t: [0] },
    autoCommit: false,
    topicConfigurations: { t: { fromBeginning: true } },
    instrumentationEmitter: { emit: () => undefined },
    groupId: 'g',
    generationId: 1,
    memberId: 'm',
  });
  await m.setDefaultOffset({ topic: 't', partition: 0 });
  return { commits, next: m.nextOffset('t', 0).toString() };
}

/** A coordinator as kafkajs's transaction manager uses it (mend 6's check and its tests). */
export interface FakeCoordinator {
  isConnected(): boolean;
  initProducerId(o: unknown): Promise<{ producerId: number; producerEpoch: number }>;
  addPartitionsToTxn(o: unknown): Promise<unknown>;
  addOffsetsToTxn(o: unknown): Promise<unknown>;
  txnOffsetCommit(o: unknown): Promise<unknown>;
  endTxn(o: unknown): Promise<unknown>;
}

/** A coordinator that answers every request, counting them by kind. */
export function answeringCoordinator(calls: string[] = []): FakeCoordinator {
  const ok = (what: string) => () => {
    calls.push(what);
    return Promise.resolve({});
  };
  return {
    isConnected: () => true,
    initProducerId: () => Promise.resolve({ producerId: 1, producerEpoch: 0 }),
    addPartitionsToTxn: ok('AddPartitionsToTxn'),
    addOffsetsToTxn: ok('AddOffsetsToTxn'),
    txnOffsetCommit: ok('TxnOffsetCommit'),
    endTxn: ok('EndTxn'),
  };
}

interface EosManager {
  initProducerId(): Promise<void>;
  beginTransaction(): void;
  addPartitionsToTransaction(topics: { topic: string; partitions: { partition: number }[] }[]): Promise<void>;
  sendOffsets(o: {
    consumerGroupId: string;
    topics: { topic: string; partitions: { partition: number; offset: string }[] }[];
  }): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/**
 * kafkajs's own transaction manager on a cluster whose coordinator lookups return `find()`: an
 * initialised producer, `transaction(k)`, which runs one transaction (a partition, offsets, commit),
 * `abort()` for one that failed, and the lookups so far.
 */
export async function transactionsOnFakeCluster(find: () => FakeCoordinator): Promise<{
  transaction(k: number): Promise<void>;
  abort(): Promise<void>;
  lookups(): number;
}> {
  const create = require('kafkajs/src/producer/eosManager') as (o: unknown) => EosManager;
  let lookups = 0;
  const logger = { debug() {}, info() {}, warn() {}, error() {} };
  const cluster = {
    retry: { retries: 0 },
    refreshMetadataIfNecessary: () => Promise.resolve(),
    findGroupCoordinator: () => {
      lookups++;
      return Promise.resolve(find());
    },
  };
  const eos = create({ logger, cluster, transactionalId: 'check', transactional: true });
  await eos.initProducerId();
  return {
    async transaction(k) {
      eos.beginTransaction();
      await eos.addPartitionsToTransaction([{ topic: 'out', partitions: [{ partition: k }] }]);
      await eos.sendOffsets({
        consumerGroupId: 'g',
        topics: [{ topic: 'in', partitions: [{ partition: 0, offset: String(k) }] }],
      });
      await eos.commit();
    },
    abort: () => eos.abort(),
    lookups: () => lookups,
  };
}

/** Mend 6: three transactions look the two coordinators up once each (kafkajs: four times each). */
async function keepsCoordinators(): Promise<boolean> {
  const coordinator = answeringCoordinator();
  const txns = await transactionsOnFakeCluster(() => coordinator);
  const before = txns.lookups();
  for (let k = 0; k < 3; k++) await txns.transaction(k);
  return txns.lookups() - before === 2;
}

/** The six mends, by patch name (patches/kafkajs+2.2.4+00N+<name>.patch). */
export const KAFKAJS_MENDS = [
  'empty-compacted-batches',
  'filtered-fetch-to-eachbatch',
  'every-aborted-transaction',
  'offset-reset-without-commit',
  'linear-partition-grouping',
  'kept-coordinators',
] as const;
export type KafkajsMend = (typeof KAFKAJS_MENDS)[number];

type Group = (o: {
  topic: string;
  partitionMetadata: unknown[];
  messages: { key: string; partition: number }[];
  partitioner: (o: { message: { partition: number } }) => number;
}) => Record<string, { key: string }[]>;

/** Mend 5: the grouping is right and no longer copies a partition's array per message. */
function groupsInLinearTime(): boolean {
  const group = require('kafkajs/src/producer/groupMessagesPerPartition') as Group;
  const messages = Array.from({ length: 6 }, (_, k) => ({ key: `m${k}`, partition: k % 2 }));
  const grouped = group({
    topic: 't',
    partitionMetadata: [{}, {}],
    messages,
    partitioner: ({ message }) => message.partition,
  });
  const keys = (p: number) => (grouped[p] ?? []).map((m) => m.key).join();
  return keys(0) === 'm0,m2,m4' && keys(1) === 'm1,m3,m5' && !/\[\.\.\.current,/.test(String(group));
}

async function check(f: () => Promise<boolean> | boolean): Promise<boolean> {
  try {
    return await f();
  } catch {
    return false;
  }
}

/** The mends the installed kafkajs lacks (empty when all six are in). */
export async function missingKafkajsMends(): Promise<KafkajsMend[]> {
  const batch = await kafkajsBatch(emptyRecordBatch(100n, 9), 100n).catch(() => undefined);
  // Producers 1 and 2 each aborted a transaction begun before offset 10 (listed out of order).
  const aborted = [
    { producerId: '1', firstOffset: '10' },
    { producerId: '2', firstOffset: '5' },
  ];
  const ok: Record<KafkajsMend, boolean> = {
    'empty-compacted-batches':
      batch !== undefined && batch.isEmpty() && batch.isEmptyDueToFiltering() && batch.lastOffset() === '109',
    'filtered-fetch-to-eachbatch':
      batch !== undefined && (await check(async () => (await handedToEachBatch(batch)).length === 1)),
    'every-aborted-transaction': await check(
      () =>
        keptAsCommitted(
          [
            [10, '2'],
            [11, '1'],
            [12, '3'],
          ],
          aborted,
        ).join() === '12',
    ),
    'offset-reset-without-commit': await check(async () => {
      const reset = await offsetReset(42);
      return reset.commits === 0 && reset.next === '42';
    }),
    'linear-partition-grouping': await check(groupsInLinearTime),
    'kept-coordinators': await check(keepsCoordinators),
  };
  return KAFKAJS_MENDS.filter((m) => !ok[m]);
}

/** True when the installed kafkajs has all six mends. */
export async function kafkajsMended(): Promise<boolean> {
  return (await missingKafkajsMends()).length === 0;
}

/**
 * Start-up: refuses to run on a kafkajs that would stall on a compacted topic, leak aborted records,
 * commit offsets when it resets one, group produce requests in quadratic time or look a coordinator
 * up before every transactional request — naming the missing mends and how to apply them.
 */
export async function assertKafkajsFix(): Promise<void> {
  const missing = await missingKafkajsMends();
  if (missing.length === 0) return;
  throw new AmnesiaError(
    'CONFIG_INVALID',
    `kafkajs is installed without ${missing.length} of its ${KAFKAJS_MENDS.length} mends (${missing.join(', ')}): it would ` +
      'stall on record batches emptied by log compaction, hand over aborted records or commit ' +
      'offsets when it resets one. Mend it with `npx patch-package` in the installation directory ' +
      '(npm install and npm ci run it as postinstall, unless scripts are disabled: --ignore-scripts); ' +
      'the patches are in patches/',
  );
}
