// One input core, two modes: the same malformed and valid records go through the single mode's
// engine and through a partitioned user task (Kafka faked in memory), and both dead-letter exactly
// the same records with the same reasons, original coordinates and bounding (src/input/codec.ts,
// src/input/validate.ts, src/output/dlq.ts: DeadLetters) — so a change to validation or
// dead-lettering, made once there, reaches both. The expectation is written out by hand here, not
// taken from either mode.
//
// INTERACTION_TTL_MS, one rule in both modes: ADDs already older than now − TTL are counted and not
// applied, a REMOVE applies whatever its age, and once the clock passes an interaction's time + TTL
// a check (every TTL_CHECK_MS) forgets it — the expected histories written out by hand too.
import type { KafkaMessage } from 'kafkajs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Outgoing } from '../../src/kafka/ports.js';
import { DLQ_HEADERS, headerString } from '../../src/output/dlq.js';
import { createMetrics, type Metrics } from '../../src/telemetry/metrics.js';
import { FakeLog } from '../helpers/fake-kafka.js';
import {
  capturingSink,
  engineOnFake,
  loneUserTask,
  SINGLE_TOPICS,
  singleConfig,
} from '../helpers/runtimes.js';

const T = SINGLE_TOPICS;
const DLQ_MAX = 4096;
const config = singleConfig({ DLQ_MAX_RECORD_BYTES: String(DLQ_MAX) });

const now = Date.now();
const event = (userId: string, itemId: string, action = 'ADD') =>
  JSON.stringify({ userId, itemId, action, occurredAt: now - 1000 });
const huge = `{"userId": "u9", "itemId": "${'x'.repeat(300_000)}`; // invalid JSON, far over DLQ_MAX

/** Input records, and the dead letter each bad one must become (reason; bounded or not). */
const INPUTS: { topic: string; key: string; value: string | null; dlq?: string; bounded?: true }[] = [
  { topic: T.in, key: 'u1', value: event('u1', 'a') },
  { topic: T.in, key: 'u1', value: '{not json', dlq: 'invalid-json' },
  { topic: T.in, key: 'u2', value: event('u2', 'a', 'JUMP'), dlq: 'invalid-action' },
  { topic: T.in, key: 'u2', value: event('u2', 'b') },
  { topic: T.in, key: 'u3', value: null, dlq: 'null-value' },
  { topic: T.in, key: 'u4', value: '{"userId":"u4"}', dlq: 'missing-field' },
  { topic: T.in, key: 'u5', value: event('u6', 'a'), dlq: 'key-mismatch' },
  { topic: T.in, key: 'u9', value: huge, dlq: 'invalid-json', bounded: true },
  { topic: T.in, key: 'u1', value: event('u1', 'b') },
  { topic: T.del, key: 'u7', value: '[]', dlq: 'not-an-object' },
  { topic: T.del, key: 'u2', value: JSON.stringify({ userId: 'u2', requestId: 'r1', requestedAt: now }) },
];

function newLog(): FakeLog {
  const log = new FakeLog({ [T.in]: 1, [T.del]: 1, [T.sim]: 1, [T.rec]: 1 });
  for (const r of INPUTS) log.append(r.topic, 0, r.key, r.value === null ? null : Buffer.from(r.value), now);
  return log;
}

interface Letter {
  topic: string;
  key: string | null;
  reason: string | undefined;
  source: string | undefined;
  offset: string | undefined;
  bounded: boolean;
}

function letters(out: readonly Outgoing[]): Letter[] {
  return out
    .filter((r) => r.topic.endsWith('.dlq'))
    .map((r) => {
      const h = r.message.headers;
      const value = r.message.value as Buffer | null;
      return {
        topic: r.topic,
        key: r.message.key === null || r.message.key === undefined ? null : String(r.message.key),
        reason: headerString(h, DLQ_HEADERS.reason),
        source: headerString(h, DLQ_HEADERS.topic),
        offset: headerString(h, DLQ_HEADERS.offset),
        bounded: headerString(h, DLQ_HEADERS.originalBytes) !== undefined && (value?.length ?? 0) < DLQ_MAX,
      };
    })
    .sort((a, b) => a.topic.localeCompare(b.topic) || Number(a.offset) - Number(b.offset));
}

/** What the hand-written table says the DLQ must hold. */
function expectedLetters(): Letter[] {
  const offsets = new Map<string, number>();
  const out: Letter[] = [];
  for (const r of INPUTS) {
    const offset = offsets.get(r.topic) ?? 0;
    offsets.set(r.topic, offset + 1);
    if (r.dlq === undefined) continue;
    out.push({
      topic: `${r.topic}.dlq`,
      key: r.key,
      reason: r.dlq,
      source: r.topic,
      offset: String(offset),
      bounded: r.bounded === true,
    });
  }
  return out.sort((a, b) => a.topic.localeCompare(b.topic) || Number(a.offset) - Number(b.offset));
}

async function boundedCount(metrics: Metrics): Promise<number> {
  return (await metrics.dlqBounded.get()).values.reduce((n, v) => n + v.value, 0);
}

async function viaSingleMode(): Promise<{ letters: Letter[]; bounded: number }> {
  const log = newLog();
  const sink = capturingSink();
  const metrics = createMetrics();
  const { engine, consumer } = engineOnFake(log, config, {
    sink,
    metrics,
    dlqMaxBytes: config.dlq.maxRecordBytes,
  });
  consumer.join(engine, { [T.del]: [0], [T.in]: [0], [T.sim]: [0], [T.rec]: [0] });
  await consumer.drain(engine, [T.del, T.in, T.sim, T.rec]);
  await engine.flushNow();
  return { letters: letters(sink.out), bounded: await boundedCount(metrics) };
}

async function viaPartitionedMode(): Promise<{ letters: Letter[]; bounded: number }> {
  const log = newLog();
  const sink = capturingSink();
  const metrics = createMetrics();
  const task = loneUserTask({ config, sink, metrics, topics: T });
  task.phase = 'live';
  const feed = (topic: string): Promise<void> => {
    const msgs: readonly KafkaMessage[] = log.records(topic, 0);
    return task.onRecords(topic, msgs);
  };
  await feed(T.in);
  await feed(T.del);
  await task.flush();
  return { letters: letters(sink.out), bounded: await boundedCount(metrics) };
}

describe('one input core, two modes', () => {
  it('both modes dead-letter the same records, for the same reasons, bounded the same way', async () => {
    const expected = expectedLetters();
    const single = await viaSingleMode();
    const partitioned = await viaPartitionedMode();
    expect(single.letters).toEqual(expected);
    expect(partitioned.letters).toEqual(expected);
    // amnesia_dlq_bounded_total counts the cut-down copy in both (the partitioned copy once did not).
    expect(single.bounded).toBe(1);
    expect(partitioned.bounded).toBe(1);
  });
});

// ------------------------------------------------------------------ INTERACTION_TTL_MS

const MIN = 60_000;
const ttlConfig = singleConfig({ INTERACTION_TTL_MS: String(60 * MIN), TTL_CHECK_MS: '100' });
const start = Date.UTC(2026, 0, 1, 12);

/** [user, item, action, minutes before start]. */
const EVENTS: [string, string, 'ADD' | 'REMOVE', number][] = [
  ['u1', 'a', 'ADD', 120], // expired on arrival
  ['u1', 'b', 'ADD', 10],
  ['u2', 'a', 'ADD', 5],
  ['u2', 'a', 'REMOVE', 180], // old, yet applied: a REMOVE only takes away
  ['u2', 'c', 'ADD', 1],
  ['u3', 'a', 'ADD', 61], // expired on arrival
  ['u1', 'b', 'ADD', 20], // a re-ADD with an earlier time: b keeps 10
];

function ttlLog(): FakeLog {
  const log = new FakeLog({ [T.in]: 1, [T.del]: 1, [T.sim]: 1, [T.rec]: 1 });
  for (const [userId, itemId, action, ago] of EVENTS)
    log.appendJson(T.in, 0, userId, { userId, itemId, action, occurredAt: start - ago * MIN }, start);
  return log;
}

async function counted(metrics: Metrics): Promise<{ onArrival: number; expired: number }> {
  const sum = async (c: Metrics['interactionsExpired']) => (await c.get()).values[0]?.value ?? 0;
  return {
    onArrival: await sum(metrics.interactionsExpiredOnArrival),
    expired: await sum(metrics.interactionsExpired),
  };
}

interface Run {
  items(user: string): string[];
  /** Moves the clock on and lets the mode's check run. */
  advance(ms: number): Promise<void>;
  readonly metrics: Metrics;
}

async function ttlViaSingleMode(): Promise<Run> {
  const metrics = createMetrics();
  const { engine, consumer } = engineOnFake(ttlLog(), ttlConfig, { sink: capturingSink(), metrics });
  consumer.join(engine, { [T.del]: [0], [T.in]: [0], [T.sim]: [0], [T.rec]: [0] });
  await consumer.drain(engine, [T.del, T.in, T.sim, T.rec]);
  await engine.flushNow();
  return {
    items: (u) => engine.model.itemsOf(u),
    advance: async (ms) => {
      vi.setSystemTime(Date.now() + ms);
      // The check runs on its own timer (TTL_CHECK_MS = 100 ms of real time).
      await vi.waitFor(async () => expect((await counted(metrics)).expired).toBeGreaterThan(0), {
        timeout: 5_000,
      });
      await engine.idle();
    },
    metrics,
  };
}

async function ttlViaPartitionedMode(): Promise<Run> {
  const log = ttlLog();
  const metrics = createMetrics();
  const sink = capturingSink();
  const task = loneUserTask({ config: ttlConfig, sink, metrics, topics: T });
  task.phase = 'live';
  await task.onRecords(T.in, log.records(T.in, 0));
  // Routed to the users' home partition, this task's own: read back from the repartition topic.
  const routed = sink.out.filter((r) => r.topic === 'rep');
  await task.onRecords(
    'rep',
    routed.map((r, k): KafkaMessage => ({
      offset: String(k),
      key: null,
      value: r.message.value as Buffer,
      timestamp: String(start),
      attributes: 0,
      headers: {},
    })),
  );
  await task.flush();
  return {
    items: (u) => task.itemsOf(u).sort(),
    advance: async (ms) => {
      vi.setSystemTime(Date.now() + ms);
      await task.periodic(Date.now());
    },
    metrics,
  };
}

describe('INTERACTION_TTL_MS, the same in both modes', () => {
  afterEach(() => vi.useRealTimers());

  for (const [mode, run] of [
    ['single', ttlViaSingleMode],
    ['partitioned', ttlViaPartitionedMode],
  ] as const)
    it(`refuses what arrives expired, and forgets the rest once it expires (${mode})`, async () => {
      vi.useFakeTimers({ toFake: ['Date'], now: start });
      const r = await run();
      expect(['u1', 'u2', 'u3'].map((u) => r.items(u))).toEqual([['b'], ['c'], []]);
      expect(await counted(r.metrics)).toEqual({ onArrival: 2, expired: 0 });
      // 55 minutes on: u1's b (10 minutes old at the start) is past the hour, u2's c is not.
      await r.advance(55 * MIN);
      expect(['u1', 'u2', 'u3'].map((u) => r.items(u))).toEqual([[], ['c'], []]);
      expect(await counted(r.metrics)).toEqual({ onArrival: 2, expired: 1 });
    });
});
