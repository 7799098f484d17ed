// Every deletion request gets exactly one terminal answer, the same in both modes (one decision:
// src/input/deletion-answer.ts): a request with a well-formed userId is carried out even when its
// requestedAt is in seconds or far ahead (the record timestamp is used), its key is not the userId,
// or it has no requestId (answered under its position); one without a usable userId, or that does
// not decode, is answered REJECTED with a reason and dead-lettered. Run through the single engine and
// the partitioned tasks (Kafka faked in memory), checked against the brute-force oracle.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { Metrics } from '../../src/telemetry/metrics.js';
import { answerDeletion } from '../../src/input/deletion-answer.js';
import { DEFAULT_INPUT_RULES } from '../../src/input/validate.js';
import { partitionOf as murmurPartition } from '../../src/partitioned/ids.js';
import { FakeLog } from '../helpers/fake-kafka.js';
import { engineOnFake } from '../helpers/runtimes.js';
import { scenario } from '../helpers/generator.js';
import { bruteForceLists, survivingHistory, type RefEvent } from '../helpers/oracle.js';
import { P, publishedLists, pump, TOPICS, world } from '../helpers/partitioned-tasks.js';

const s = scenario({ seed: 11, users: 12, items: 10, events: 240, forget: 0 });
const lastAt = Math.max(...s.before.map((e) => e.occurredAt));
/** Record timestamp of every deletion request. */
const T = lastAt + 60_000;
const HOUR = 3_600_000;
const [uSec, uKey, uNoReq, uFut] = ['u0', 'u1', 'u2', 'u3'];

/** The deletion requests, in order: what each must be answered. */
const REQUESTS: { key: string | null; value: string; answer: string }[] = [
  {
    key: uSec,
    value: JSON.stringify({ requestId: 'r-sec', userId: uSec, requestedAt: Math.floor(T / 1000) }),
    answer: 'FORGOTTEN',
  },
  { key: 'not-the-user', value: JSON.stringify({ requestId: 'r-key', userId: uKey }), answer: 'FORGOTTEN' },
  { key: uNoReq, value: JSON.stringify({ userId: uNoReq }), answer: 'FORGOTTEN' },
  {
    key: uFut,
    value: JSON.stringify({ requestId: 'r-fut', userId: uFut, requestedAt: T + 10 * 24 * HOUR }),
    answer: 'FORGOTTEN',
  },
  { key: 'x', value: JSON.stringify({ requestId: 'r-nouser' }), answer: 'REJECTED missing-user-id' },
  {
    key: 'x',
    value: JSON.stringify({ requestId: 'r-baduser', userId: 42 }),
    answer: 'REJECTED invalid-user-id',
  },
  { key: 'x', value: '{not json', answer: 'REJECTED undecodable' },
];
const FORGOTTEN_USERS = [uSec, uKey, uNoReq, uFut];

/** After the requests: a late event of uSec (before the record time: suppressed) and a new one of uFut. */
const AFTER: RefEvent[] = [
  { userId: uSec, itemId: 'i1', action: 'ADD', occurredAt: T - 1 },
  { userId: uFut, itemId: 'i2', action: 'ADD', occurredAt: T + HOUR },
  { userId: uFut, itemId: 'i3', action: 'ADD', occurredAt: T + HOUR },
];

function expectedLists(topK: number) {
  return bruteForceLists(
    survivingHistory(
      [...s.before, ...AFTER],
      FORGOTTEN_USERS.map((userId) => ({ userId, requestedAt: T })),
    ),
    topK,
    1,
  );
}

/** `requestId status [reason]` of every receipt, given each request's synthetic id when it has none. */
function answers(receipts: Iterable<Buffer>): string[] {
  return [...receipts]
    .map((v) => JSON.parse(v.toString()) as { requestId: string; status: string; reason?: string | null })
    .map((r) => `${r.requestId} ${r.status}${r.reason ? ` ${r.reason}` : ''}`)
    .sort();
}

function expectedAnswers(origins: readonly string[]): string[] {
  return REQUESTS.map((r, k) => {
    const v = (() => {
      try {
        return JSON.parse(r.value) as { requestId?: string };
      } catch {
        return {};
      }
    })();
    return `${v.requestId ?? origins[k]} ${r.answer}`;
  }).sort();
}

async function expectCounted(metrics: Metrics): Promise<void> {
  const corrected = await metrics.registry.getSingleMetricAsString(
    'amnesia_deletion_requests_corrected_total',
  );
  expect(corrected).toContain('field="requestedAt"} 2');
  expect(corrected).toContain('field="key"} 1');
  expect(corrected).toContain('field="requestId"} 1');
  const rejected = await metrics.registry.getSingleMetricAsString('amnesia_deletion_requests_rejected_total');
  for (const r of ['missing-user-id', 'invalid-user-id', 'undecodable'])
    expect(rejected).toContain(`reason="${r}"} 1`);
  expect(corrected + rejected).not.toMatch(/\bu[0-9]+\b/);
}

describe('deletion requests: exactly one terminal answer', () => {
  it('decides each request alike (the shared decision)', () => {
    const rec = (value: string, key: string | null = null) => ({
      key: key === null ? null : Buffer.from(key),
      value: Buffer.from(value),
      timestamp: String(T),
    });
    const at = { topic: 'del', partition: 1, offset: '7' };
    const a = (value: string, key?: string) =>
      answerDeletion(rec(value, key), at, undefined, DEFAULT_INPUT_RULES, undefined);
    expect(a(REQUESTS[0]!.value)).toMatchObject({
      ok: true,
      deletion: { requestId: 'r-sec', requestedAt: T },
      corrections: ['requestedAt'],
    });
    expect(a(JSON.stringify({ requestId: 'r', userId: 'u', requestedAt: 'yesterday' }))).toMatchObject({
      ok: true,
      deletion: { requestedAt: T },
    });
    expect(a(JSON.stringify({ requestId: 'r', userId: 'u', requestedAt: T - 5 }))).toMatchObject({
      ok: true,
      deletion: { requestedAt: T - 5 },
      corrections: [],
    });
    expect(a(JSON.stringify({ requestId: 'r', userId: 'u' }))).toMatchObject({
      ok: true,
      deletion: { requestedAt: T },
      corrections: [],
    });
    expect(a(JSON.stringify({ userId: 'u' }))).toMatchObject({
      ok: true,
      deletion: { requestId: '@del/1/7' },
    });
    expect(a(JSON.stringify({ requestId: 'r', userId: '' }))).toMatchObject({
      ok: false,
      receipt: { requestId: 'r', status: 'REJECTED', reason: 'invalid-user-id' },
    });
    expect(a(JSON.stringify({ requestId: 'r', userId: 'u\ud800' }))).toMatchObject({
      ok: false,
      failure: { reason: 'invalid-unicode' },
    });
    expect(a('[1]')).toMatchObject({
      ok: false,
      receipt: { requestId: '@del/1/7', reason: 'undecodable' },
      failure: { reason: 'not-an-object' },
    });
  });

  it('single mode: carried out or REJECTED, each once, and the lists exact', async () => {
    const T2 = { in: 'in', del: 'del', sim: 'sim', rec: 'rec' };
    const config = loadConfig({
      INTERACTIONS_TOPIC: T2.in,
      DELETIONS_TOPIC: T2.del,
      SIMILARITIES_TOPIC: T2.sim,
      RECEIPTS_TOPIC: T2.rec,
      TOP_K: '3',
      BATCH_MAX_MS: '10000',
      BATCH_MAX_EVENTS: '40',
      LOG_LEVEL: 'silent',
    });
    const log = new FakeLog({ [T2.in]: 2, [T2.del]: 2, [T2.sim]: 2, [T2.rec]: 2, 'in.dlq': 1, 'del.dlq': 1 });
    const part = (u: string) => [...u].reduce((h, c) => h + c.charCodeAt(0), 0) % 2;
    for (const e of s.before) log.appendJson(T2.in, part(e.userId), e.userId, e, e.occurredAt);
    const { engine, consumer, metrics } = engineOnFake(log, config);
    const order = [T2.del, T2.in, T2.sim, T2.rec];
    consumer.join(engine, { [T2.del]: [0, 1], [T2.in]: [0, 1], [T2.sim]: [0, 1], [T2.rec]: [0, 1] });
    await consumer.drain(engine, order);
    const origins = REQUESTS.map((r) => `@del/0/${log.append(T2.del, 0, r.key, Buffer.from(r.value), T)}`);
    await consumer.drain(engine, order);
    for (const e of AFTER) log.appendJson(T2.in, part(e.userId), e.userId, e, e.occurredAt);
    await consumer.drain(engine, order);
    await engine.flushNow();

    const published = new Map<string, unknown>();
    for (const [k, v] of log.compacted(T2.sim)) {
      const { itemId, interactions, neighbors } = JSON.parse(v.toString()) as Record<string, unknown>;
      published.set(k, { itemId, interactions, neighbors });
    }
    expect(published).toEqual(expectedLists(3));
    const all = [0, 1].flatMap((p) => log.records(T2.rec, p).map((m) => m.value!));
    expect(answers(all)).toEqual(expectedAnswers(origins));
    expect(log.records('del.dlq', 0)).toHaveLength(3);
    await expectCounted(metrics);
  });

  it('partitioned mode: carried out or REJECTED, each once, and the lists exact', async () => {
    const w = world(() => T + 2 * HOUR);
    for (const e of s.before)
      w.log.append(
        TOPICS.interactions,
        murmurPartition(e.userId, P),
        e.userId,
        JSON.stringify(e),
        e.occurredAt,
      );
    await pump(w);
    // Each request on its user's partition (routing by a key that is not the userId is the
    // partitioned routing's concern, not this decision's).
    const origins = REQUESTS.map((r) => {
      let userId: unknown;
      try {
        userId = (JSON.parse(r.value) as { userId?: unknown }).userId;
      } catch {
        userId = undefined;
      }
      const p = typeof userId === 'string' ? murmurPartition(userId, P) : 0;
      return `@del/${p}/${w.log.append(TOPICS.deletions, p, r.key, r.value, T)}`;
    });
    await pump(w);
    for (const e of AFTER)
      w.log.append(
        TOPICS.interactions,
        murmurPartition(e.userId, P),
        e.userId,
        JSON.stringify(e),
        e.occurredAt,
      );
    await pump(w);

    expect(publishedLists(w)).toEqual(expectedLists(4));
    expect(answers(w.log.records(TOPICS.receipts, 0).map((m) => m.value!))).toEqual(expectedAnswers(origins));
    expect(w.log.records('del.dlq', 0)).toHaveLength(3);
    await expectCounted(w.metrics);
  });
});
