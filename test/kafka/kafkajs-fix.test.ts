// kafkajs's own fetch decoding, batch bookkeeping and runner on record sets as the log cleaner leaves
// them: a batch emptied by compaction must move the position past its last offset without handing a
// message over, alone or before a batch that holds records, and reach eachBatch as a batch without
// messages (patches/kafkajs+2.2.4+00N+*.patch; the real broker's version is test/stream/empty-batch.int.test.ts);
// aborted transactions filtered, and offset resets that commit nothing.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  assertKafkajsFix,
  emptyRecordBatch,
  handedToEachBatch,
  kafkajsBatch,
  keptAsCommitted,
  kafkajsMended,
  KAFKAJS_MENDS,
  missingKafkajsMends,
  offsetReset,
  answeringCoordinator,
  transactionsOnFakeCluster,
  type FakeCoordinator,
} from '../../src/kafka/kafkajs-fix.js';

/** The files the six patches change, in patch order. */
const KAFKAJS_FILES = [
  'src/protocol/requests/fetch/v4/decodeMessages.js',
  'src/consumer/runner.js',
  'src/consumer/filterAbortedMessages.js',
  'src/consumer/offsetManager/index.js',
  'src/producer/groupMessagesPerPartition.js',
  'src/producer/eosManager/index.js',
];

const require = createRequire(import.meta.url);
type Encoded = { buffer: Buffer };
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as {
  RecordBatch: (o: Record<string, unknown>) => Promise<Encoded>;
};
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (
  o: Record<string, unknown>,
) => Encoded;
const Long = require('kafkajs/src/utils/long') as { fromValue: (v: string) => unknown };

/** A record batch holding `keys` from `firstOffset` on, as bytes on the wire. */
async function recordBatch(firstOffset: bigint, keys: string[]): Promise<Buffer> {
  const encoded = await RecordBatch({
    firstOffset: Long.fromValue(firstOffset.toString()),
    lastOffsetDelta: keys.length - 1,
    records: keys.map((key, i) => Record({ offsetDelta: i, key, value: `v-${key}` })),
  });
  return encoded.buffer;
}

/** Batches framed as one fetch response's record set. */
function recordSet(...batches: Buffer[]): Buffer {
  const body = Buffer.concat(batches);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

describe('the installed kafkajs and batches emptied by compaction', () => {
  it('passes the start-up check', async () => {
    expect(await kafkajsMended()).toBe(true);
    expect(await missingKafkajsMends()).toEqual([]);
    await expect(assertKafkajsFix()).resolves.toBeUndefined();
  });

  it('moves past an empty batch that ends a fetch, handing nothing over', async () => {
    const batch = await kafkajsBatch(emptyRecordBatch(309n, 9), 309n);
    expect(batch.isEmpty()).toBe(true);
    expect(batch.isEmptyDueToFiltering()).toBe(true);
    expect(batch.lastOffset()).toBe('318');
  });

  it('moves past it from an offset inside it', async () => {
    const batch = await kafkajsBatch(emptyRecordBatch(309n, 9), 314n);
    expect(batch.isEmptyDueToFiltering()).toBe(true);
    expect(batch.lastOffset()).toBe('318');
  });

  it('hands over the records of the batches after it, and only those', async () => {
    const empty = emptyRecordBatch(100n, 4).subarray(4);
    const set = recordSet(empty, await recordBatch(105n, ['a', 'b']));
    const batch = (await kafkajsBatch(set, 100n)) as unknown as {
      messages: { offset: string; key: Buffer }[];
      lastOffset(): string;
    };
    expect(batch.messages.map((m) => [m.offset, m.key.toString()])).toEqual([
      ['105', 'a'],
      ['106', 'b'],
    ]);
    expect(batch.lastOffset()).toBe('106');
  });

  it('hands a fetch whose records were all filtered out to eachBatch, with no message', async () => {
    const batch = await kafkajsBatch(emptyRecordBatch(309n, 9), 309n);
    const handed = (await handedToEachBatch(batch)) as { messages: unknown[]; lastOffset(): string }[];
    expect(handed).toHaveLength(1);
    expect(handed[0]!.messages).toEqual([]);
    expect(handed[0]!.lastOffset()).toBe('318');
  });

  it('skips the records of every aborted transaction a fetch lists, in any order', () => {
    // Producers 7 and 8 aborted transactions begun before offset 20; producer 9 committed.
    const records: [number, string][] = [
      [20, '8'],
      [21, '7'],
      [22, '9'],
      [23, '8'],
    ];
    const aborted = [
      { producerId: '7', firstOffset: '15' },
      { producerId: '8', firstOffset: '12' },
    ];
    expect(keptAsCommitted(records, aborted)).toEqual([22]);
    expect(keptAsCommitted(records, [...aborted].reverse())).toEqual([22]);
    // A transaction aborted later than a record does not touch it.
    expect(keptAsCommitted([[5, '7']], [{ producerId: '7', firstOffset: '15' }])).toEqual([5]);
  });

  it('resets an out-of-range position without committing anything to the group', async () => {
    // kafkajs committed "earliest" over the offsets a transaction had committed with the state.
    expect(await offsetReset(42)).toEqual({ commits: 0, next: '42' });
  });

  it('groups a produce request by partition in message order (mended: appended, not copied)', () => {
    const group = require('kafkajs/src/producer/groupMessagesPerPartition') as (o: {
      topic: string;
      partitionMetadata: unknown[];
      messages: { key: string; partition: number }[];
      partitioner: (o: { message: { partition: number } }) => number;
    }) => Record<string, { key: string }[]>;
    const messages = Array.from({ length: 9 }, (_, k) => ({ key: `m${k}`, partition: k % 3 }));
    const grouped = group({
      topic: 't',
      partitionMetadata: [{}, {}, {}],
      messages,
      partitioner: ({ message }) => message.partition,
    });
    expect(Object.fromEntries(Object.entries(grouped).map(([p, l]) => [p, l.map((m) => m.key)]))).toEqual({
      0: ['m0', 'm3', 'm6'],
      1: ['m1', 'm4', 'm7'],
      2: ['m2', 'm5', 'm8'],
    });
    expect(String(group)).toContain('amnesia: kafkajs mend');
  });

  it('is mended by patch-package at npm install (six patches), and applying them again changes nothing', () => {
    const files = KAFKAJS_FILES.map((f) => readFileSync(require.resolve(`kafkajs/${f}`), 'utf8'));
    const out = execFileSync(
      process.execPath,
      [require.resolve('patch-package/index.js'), '--error-on-fail'],
      {
        encoding: 'utf8',
      },
    );
    for (const [i, mend] of KAFKAJS_MENDS.entries())
      expect(out).toContain(`kafkajs@2.2.4 (${i + 1} ${mend}) ✔`);
    expect(KAFKAJS_FILES.map((f) => readFileSync(require.resolve(`kafkajs/${f}`), 'utf8'))).toEqual(files);
  });

  it('has one patch file per mend, each with a header naming what it fixes, the kafkajs issue and the test', () => {
    const patches = readdirSync('patches').sort();
    expect(patches).toEqual(KAFKAJS_MENDS.map((m, i) => `kafkajs+2.2.4+00${i + 1}+${m}.patch`));
    for (const p of patches) {
      const header = readFileSync(path.join('patches', p), 'utf8').split('\ndiff --git')[0]!;
      expect(header, p).toMatch(new RegExp(`^# kafkajs 2\\.2\\.4 mend \\d of ${KAFKAJS_MENDS.length}`));
      expect(header, p).toMatch(/^# kafkajs issue: .*tulios\/kafkajs#\d+/m);
      const tests = [...header.matchAll(/test\/[\w/.-]+\.test\.ts/g)].map((m) => m[0]);
      expect(tests.length, p).toBeGreaterThan(0);
      for (const t of tests) expect(existsSync(t), `${p} names ${t}`).toBe(true);
    }
  });
});

describe('the installed kafkajs and its transaction and group coordinators (mend 6)', () => {
  const { createErrorFromCode } = require('kafkajs/src/protocol/error') as {
    createErrorFromCode: (code: number) => Error & { type: string };
  };
  type Kind = 'addOffsetsToTxn' | 'endTxn';
  /** A coordinator that answers like `answeringCoordinator`, except that each of `failures` fails once. */
  const failingOnce = (
    calls: string[],
    failures: Partial<Record<Kind, Error>>,
    onFail: () => void = () => undefined,
  ): FakeCoordinator => {
    const c = answeringCoordinator(calls);
    const fails = (kind: Kind, name: string) => (o: unknown) => {
      const e = failures[kind];
      if (e === undefined) return c[kind](o);
      delete failures[kind];
      calls.push(`${name} failed`);
      onFail();
      return Promise.reject(e);
    };
    return {
      ...c,
      addOffsetsToTxn: fails('addOffsetsToTxn', 'AddOffsetsToTxn'),
      endTxn: fails('endTxn', 'EndTxn'),
    };
  };
  const ALL = ['AddPartitionsToTxn', 'AddOffsetsToTxn', 'TxnOffsetCommit', 'EndTxn'];

  it('looks the coordinators up once for many transactions, sending each request once', async () => {
    const calls: string[] = [];
    const coordinator = answeringCoordinator(calls);
    const txns = await transactionsOnFakeCluster(() => coordinator);
    const before = txns.lookups();
    for (let k = 0; k < 5; k++) await txns.transaction(k);
    // kafkajs 2.2.4 asked before each of the four requests: 20 lookups.
    expect(txns.lookups() - before).toBe(2);
    expect(calls).toEqual(Array.from({ length: 5 }, () => ALL).flat());
  });

  it('looks a coordinator up again when the connection to the kept one is down', async () => {
    const calls: string[] = [];
    let connected = true;
    const first = { ...answeringCoordinator(), isConnected: () => connected };
    const reconnected = answeringCoordinator(calls);
    const txns = await transactionsOnFakeCluster(() => (connected ? first : reconnected));
    await txns.transaction(0);
    const kept = txns.lookups();
    connected = false;
    await txns.transaction(1);
    // Both coordinators looked up again (the fake has one connection), then kept.
    expect(txns.lookups() - kept).toBe(2);
    expect(calls).toEqual(ALL);
  });

  it('sends a request refused because the coordinator moved again, once, to the one a new lookup finds', async () => {
    const oldCalls: string[] = [];
    const newCalls: string[] = [];
    let current: FakeCoordinator;
    const moved = answeringCoordinator(newCalls);
    const old = failingOnce(oldCalls, { endTxn: createErrorFromCode(16) }, () => (current = moved));
    current = old;
    const txns = await transactionsOnFakeCluster(() => current);
    await txns.transaction(0);
    expect(oldCalls).toEqual(['AddPartitionsToTxn', 'AddOffsetsToTxn', 'TxnOffsetCommit', 'EndTxn failed']);
    expect(newCalls).toEqual(['EndTxn']);
  });

  it('forgets the kept coordinator when a request fails otherwise, and lets the failure through unsent', async () => {
    const calls: string[] = [];
    const failures: Partial<Record<Kind, Error>> = {};
    const coordinator = failingOnce(calls, failures);
    const txns = await transactionsOnFakeCluster(() => coordinator);
    await txns.transaction(0);
    const kept = txns.lookups();
    // A timeout: the request may have been carried out, so it is not sent again here.
    failures.addOffsetsToTxn = Object.assign(new Error('Request AddOffsetsToTxn timed out'), {
      type: 'REQUEST_TIMED_OUT',
    });
    await expect(txns.transaction(1)).rejects.toThrow('timed out');
    expect(calls.slice(ALL.length)).toEqual(['AddPartitionsToTxn', 'AddOffsetsToTxn failed']);
    await txns.abort();
    expect(txns.lookups() - kept).toBe(1);
    expect(calls.at(-1)).toBe('EndTxn');
  });
});
