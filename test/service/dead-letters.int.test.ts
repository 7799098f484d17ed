// Bad input: every kind lands in <topic>.dlq with its reason and origin headers, the valid events
// around it are all applied, and the service stays live.
import { describe, expect, it } from 'vitest';
import type { Message } from 'kafkajs';
import { confluentFrame, encodeValue } from '../../src/output/encode.js';
import { DLQ_HEADERS } from '../../src/output/dlq.js';
import type { DecodeReason } from '../../src/output/reasons.js';
import { bruteForceLists, survivingHistory, type RefEvent } from '../helpers/oracle.js';
import { expectExact, harness } from '../helpers/service.js';

describe('bad input', () => {
  it('goes to the DLQ with reason and origin, and valid events around it are all applied', async () => {
    const h = await harness(2);
    const svc = await h.start();
    await svc.waitUntilReady(30_000);
    const ids = svc.schemaIds!;
    const ev = (u: string, i: string): RefEvent => ({
      userId: u,
      itemId: i,
      action: 'ADD',
      occurredAt: 1_700_000_000_000,
    });
    const j = (o: unknown) => Buffer.from(JSON.stringify(o));
    const valid = { userId: 'u1', itemId: 'x', action: 'ADD', occurredAt: 1_700_000_000_000 };

    const bad: [string, Message, DecodeReason][] = [
      ['null', { key: 'u1', value: null }, 'null-value'],
      ['empty', { key: 'u1', value: Buffer.alloc(0) }, 'empty-value'],
      ['protobuf', { key: 'u1', value: Buffer.from([0x08, 0x96, 0x01]) }, 'bad-magic-byte'],
      ['short-frame', { key: 'u1', value: Buffer.from([0, 0, 0]) }, 'truncated-frame'],
      [
        'unknown-id',
        { key: 'u1', value: confluentFrame(987_654_321, Buffer.from([2, 0x75])) },
        'unknown-schema-id',
      ],
      [
        'avro-cut',
        { key: 'u1', value: encodeValue('interaction', valid, ids.interaction).subarray(0, 9) },
        'avro-decode-failed',
      ],
      [
        'wrong-schema',
        { key: 'u1', value: encodeValue('deletion', { requestId: 'r', userId: 'u1' }, ids.deletion) },
        'wrong-schema',
      ],
      ['latin1', { key: 'u1', value: Buffer.from([0x7b, 0xe9, 0x7d]) }, 'invalid-utf8'],
      ['text', { key: 'u1', value: Buffer.from('hello there') }, 'invalid-json'],
      ['array', { key: 'u1', value: j([valid]) }, 'not-an-object'],
      ['no-item', { key: 'u1', value: j({ userId: 'u1', action: 'ADD' }) }, 'missing-field'],
      ['number-item', { key: 'u1', value: j({ ...valid, itemId: 7 }) }, 'invalid-field'],
      ['long-item', { key: 'u1', value: j({ ...valid, itemId: 'x'.repeat(300) }) }, 'invalid-field'],
      ['empty-user', { key: null, value: j({ ...valid, userId: '' }) }, 'invalid-field'],
      ['bad-action', { key: 'u1', value: j({ ...valid, action: 'LIKE' }) }, 'invalid-action'],
      ['neg-time', { key: 'u1', value: j({ ...valid, occurredAt: -3 }) }, 'invalid-timestamp'],
      ['frac-time', { key: 'u1', value: j({ ...valid, occurredAt: 2.5 }) }, 'invalid-timestamp'],
      ['key-mismatch', { key: 'u2', value: j(valid) }, 'key-mismatch'],
    ];
    expect(new Set(bad.map((b) => b[2])).size).toBeGreaterThanOrEqual(15);

    // valid events interleaved with the bad ones, in both encodings
    const good: RefEvent[] = [];
    const messages: Message[] = [];
    bad.forEach(([name, m], k) => {
      const e1 = ev(`v${k}`, `i${k % 5}`);
      const e2 = ev(`v${k}`, `i${(k + 1) % 5}`);
      good.push(e1, e2);
      messages.push({
        key: e1.userId,
        value: encodeValue('interaction', e1, k % 2 ? ids.interaction : undefined),
      });
      messages.push({ ...m, headers: { 'test-case': name } });
      messages.push({ key: e2.userId, value: encodeValue('interaction', e2) });
    });
    await h.produce(h.topics.interactions, messages);
    // and on the deletions topic: requests with a usable userId are carried out (v0 forgotten),
    // the others REJECTED and dead-lettered (input/deletion-answer.ts)
    await h.produce(h.topics.deletions, [
      { key: 'v0', value: j({ userId: 'v0' }), headers: { 'test-case': 'del-no-request' } },
      { key: 'v0', value: j({ requestId: 'r0' }), headers: { 'test-case': 'del-no-user' } },
      {
        key: 'v0',
        value: j({ requestId: 'r1', userId: 'v0', requestedAt: 'yesterday' }),
        headers: { 'test-case': 'del-bad-time' },
      },
      {
        key: 'v0',
        value: encodeValue('interaction', valid, ids.interaction),
        headers: { 'test-case': 'del-wrong-schema' },
      },
    ]);
    await h.waitProcessed();

    const dlq = await h.records(`${h.topics.interactions}.dlq`);
    const byCase = new Map(dlq.map((r) => [r.headers['test-case'], r]));
    for (const [name, m, reason] of bad) {
      const r = byCase.get(name);
      expect(r, name).toBeDefined();
      expect(r!.headers[DLQ_HEADERS.reason], name).toBe(reason);
      expect(r!.headers[DLQ_HEADERS.message]?.length, name).toBeGreaterThan(0);
      expect(r!.headers[DLQ_HEADERS.topic]).toBe(h.topics.interactions);
      expect(Number(r!.headers[DLQ_HEADERS.partition])).toBeGreaterThanOrEqual(0);
      expect(Number(r!.headers[DLQ_HEADERS.offset])).toBeGreaterThanOrEqual(0);
      // original key and value, byte for byte
      expect(r!.key).toBe(m.key === null || m.key === undefined ? null : String(m.key));
      if (m.value === null) expect(r!.value).toBeNull();
      else expect(Buffer.compare(r!.value!, m.value as Buffer)).toBe(0);
    }
    expect(dlq).toHaveLength(bad.length);

    const ddlq = await h.records(`${h.topics.deletions}.dlq`);
    expect(
      Object.fromEntries(ddlq.map((r) => [r.headers['test-case'], r.headers[DLQ_HEADERS.reason]])),
    ).toEqual({
      'del-no-user': 'missing-field',
      'del-wrong-schema': 'wrong-schema',
    });

    expectExact(
      await h.similarities(),
      bruteForceLists(
        survivingHistory(good, [{ userId: 'v0', requestedAt: Date.now() }]),
        svc.config.model.topK,
        1,
      ),
    );
    expect(svc.phase).toBe('live');
    const metrics = await svc.metrics.registry.getSingleMetricAsString('amnesia_dlq_records_total');
    expect(metrics).toContain('reason="key-mismatch"');
    expect(metrics).not.toMatch(/u1|v0/);
  });
});
