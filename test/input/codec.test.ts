import { describe, expect, it } from 'vitest';
import avro from 'avsc';
import {
  decodeAny,
  decodeDeletion,
  decodeInteraction,
  frame,
  uncachedSchemaIds,
  type InputRecord,
} from '../../src/input/codec.js';
import { confluentFrame, encodeValue } from '../../src/output/encode.js';
import { DECODE_REASONS, type DecodeReason } from '../../src/output/reasons.js';
import { SchemaRegistryClient } from '../../src/kafka/registry.js';
import { localSchema } from '../../src/kafka/schemas.js';

const IA = 11;
const DR = 12;
const OTHER = 13;
const NOT_REGISTERED = 999;

function registry(): SchemaRegistryClient {
  // An unreachable URL: every id the tests use is pre-registered in the client's cache.
  const r = new SchemaRegistryClient({ url: 'http://127.0.0.1:9', timeoutMs: 200 });
  r.remember(IA, localSchema('interaction').type);
  r.remember(DR, localSchema('deletion').type);
  r.remember(
    OTHER,
    avro.Type.forSchema({
      type: 'record',
      name: 'Other',
      namespace: 'x',
      fields: [{ name: 'a', type: 'int' }],
    }),
  );
  return r;
}

const TS = '1700000000000';
const rec = (value: Buffer | string | null, key: string | null = null): InputRecord => ({
  key: key === null ? null : Buffer.from(key),
  value: typeof value === 'string' ? Buffer.from(value) : value,
  timestamp: TS,
});
const json = (o: unknown) => Buffer.from(JSON.stringify(o));

/** An InteractionEvent Avro body written byte by byte (not by avsc): userId given raw, itemId "i", ADD. */
function avroInteraction(userIdBytes: Buffer): Buffer {
  const zigzag = (n: number) => Buffer.from([n * 2]); // lengths < 64 only
  const body = Buffer.concat([
    zigzag(userIdBytes.length),
    userIdBytes,
    zigzag(1),
    Buffer.from('i'),
    Buffer.from([0]), // action: enum index 0 = ADD
    Buffer.from([0]), // occurredAt: union branch 0 = null
    Buffer.from([0]), // eventId: union branch 0 = null
  ]);
  return confluentFrame(IA, body);
}

describe('input codec', () => {
  const reg = registry();

  it('accepts the contract example in JSON', () => {
    const d = decodeInteraction(
      rec('{"userId":"414","itemId":"356","action":"ADD","occurredAt":1493846415000}', '414'),
      reg,
    );
    expect(d).toEqual({
      ok: true,
      format: 'json',
      value: { userId: '414', itemId: '356', action: 'ADD', occurredAt: 1493846415000 },
    });
  });

  it('defaults occurredAt and requestedAt to the record timestamp', () => {
    const i = decodeInteraction(
      rec(json({ userId: 'u', itemId: 'i', action: 'REMOVE', eventId: 'e1' })),
      reg,
    );
    expect(i.ok && i.value).toEqual({
      userId: 'u',
      itemId: 'i',
      action: 'REMOVE',
      occurredAt: 1700000000000,
      eventId: 'e1',
    });
    const d = decodeDeletion(rec('{"requestId":"dsr-2026-0001","userId":"414"}'), reg);
    expect(d.ok && d.value).toEqual({
      requestId: 'dsr-2026-0001',
      userId: '414',
      requestedAt: 1700000000000,
    });
  });

  it('accepts Avro in the Confluent wire format, nulls defaulted', () => {
    const v = encodeValue('interaction', { userId: 'u', itemId: 'i', action: 'ADD' }, IA);
    expect(v[0]).toBe(0);
    expect(v.readUInt32BE(1)).toBe(IA);
    const d = decodeInteraction(rec(v, 'u'), reg);
    expect(d).toEqual({
      ok: true,
      format: 'avro',
      value: { userId: 'u', itemId: 'i', action: 'ADD', occurredAt: 1700000000000 },
    });
    const del = decodeDeletion(
      rec(encodeValue('deletion', { requestId: 'r', userId: 'u', requestedAt: 1_600_000_000_000 }, DR)),
      reg,
    );
    expect(del.ok && del.value).toEqual({ requestId: 'r', userId: 'u', requestedAt: 1_600_000_000_000 });
  });

  it('accepts JSON with surrounding whitespace and unknown extra fields', () => {
    const d = decodeInteraction(rec(' \n{"userId":"u","itemId":"i","action":"ADD","extra":[1]}'), reg);
    expect(d.ok).toBe(true);
  });

  const valid = { userId: 'u', itemId: 'i', action: 'ADD', occurredAt: 1_600_000_000_000 };
  const cases: [string, InputRecord, DecodeReason][] = [
    ['a null value', rec(null), 'null-value'],
    ['an empty value', rec(''), 'empty-value'],
    ['a protobuf-ish first byte', rec(Buffer.from([0x08, 0x01, 0x12])), 'bad-magic-byte'],
    ['a frame with magic 0x01', rec(Buffer.from([0x01, 0, 0, 0, 11, 2, 0x75])), 'bad-magic-byte'],
    ['a frame shorter than its header', rec(Buffer.from([0x00, 0, 0])), 'truncated-frame'],
    ['a header without body', rec(Buffer.from([0x00, 0, 0, 0, IA])), 'truncated-frame'],
    [
      'an unregistered schema id',
      rec(confluentFrame(NOT_REGISTERED, Buffer.from([2, 0x75]))),
      'unknown-schema-id',
    ],
    [
      'a truncated Avro body',
      rec(encodeValue('interaction', valid, IA).subarray(0, 8)),
      'avro-decode-failed',
    ],
    [
      'trailing bytes after the Avro body',
      rec(Buffer.concat([encodeValue('interaction', valid, IA), Buffer.from([1, 2])])),
      'avro-decode-failed',
    ],
    [
      'a deletion request on the interactions topic',
      rec(encodeValue('deletion', { requestId: 'r', userId: 'u' }, DR)),
      'wrong-schema',
    ],
    ['a foreign record schema', rec(confluentFrame(OTHER, Buffer.from([2]))), 'wrong-schema'],
    ['Latin-1 bytes', rec(Buffer.from([0x7b, 0xe9, 0x7d])), 'invalid-utf8'],
    ['plain text', rec('hello'), 'invalid-json'],
    ['cut-off JSON', rec('{"userId":"u","itemId"'), 'invalid-json'],
    ['a JSON array', rec('[1,2]'), 'not-an-object'],
    ['a JSON string', rec('"u"'), 'not-an-object'],
    ['JSON null', rec('null'), 'not-an-object'],
    ['no itemId', rec(json({ userId: 'u', action: 'ADD' })), 'missing-field'],
    ['no action', rec(json({ userId: 'u', itemId: 'i' })), 'missing-field'],
    ['a numeric itemId', rec(json({ ...valid, itemId: 356 })), 'invalid-field'],
    ['an empty userId', rec(json({ ...valid, userId: '' })), 'invalid-field'],
    ['a 257-character itemId', rec(json({ ...valid, itemId: 'x'.repeat(257) })), 'invalid-field'],
    ['a lower-case action', rec(json({ ...valid, action: 'add' })), 'invalid-action'],
    ['an unknown action', rec(json({ ...valid, action: 'RATE' })), 'invalid-action'],
    ['a negative occurredAt', rec(json({ ...valid, occurredAt: -1 })), 'invalid-timestamp'],
    ['a fractional occurredAt', rec(json({ ...valid, occurredAt: 1.5 })), 'invalid-timestamp'],
    ['an ISO-string occurredAt', rec(json({ ...valid, occurredAt: '2026-01-01' })), 'invalid-timestamp'],
    ['a key that is not the userId', rec(json(valid), 'someone-else'), 'key-mismatch'],
    [
      'a lone high surrogate in the userId',
      rec('{"userId":"a\\ud800","itemId":"i","action":"ADD"}'),
      'invalid-unicode',
    ],
    [
      'a lone low surrogate in the itemId',
      rec('{"userId":"u","itemId":"\\udc00x","action":"ADD"}'),
      'invalid-unicode',
    ],
    ['a lone surrogate in the eventId', rec(json({ ...valid, eventId: 'e\ud83d' })), 'invalid-unicode'],
    [
      'invalid UTF-8 in an Avro string',
      rec(avroInteraction(Buffer.from([0x75, 0xed, 0xa0, 0x80]))),
      'invalid-unicode',
    ],
    [
      'an occurredAt more than 5 minutes after the record timestamp',
      rec(json({ ...valid, occurredAt: Number(TS) + 300_001 })),
      'timestamp-in-future',
    ],
    ['an occurredAt before 1990', rec(json({ ...valid, occurredAt: 631_151_999_999 })), 'timestamp-too-old'],
  ];

  it.each(cases)('rejects %s as a value, not an exception', (_name, r, reason) => {
    const d = decodeInteraction(r, reg);
    expect(d.ok).toBe(false);
    if (!d.ok) {
      expect(d.reason).toBe(reason);
      expect(d.message.length).toBeGreaterThan(0);
    }
  });

  it('covers every reason with at least one case', () => {
    const seen = new Set(cases.map((c) => c[2]));
    expect([...DECODE_REASONS].filter((r) => !seen.has(r))).toEqual([]);
    expect(new Set(cases.map((c) => c[0])).size).toBeGreaterThanOrEqual(15);
  });

  it('rejects deletion requests with the same reasons', () => {
    const cases2: [InputRecord, DecodeReason][] = [
      [rec(json({ userId: 'u' })), 'missing-field'],
      [rec(json({ requestId: '', userId: 'u' })), 'invalid-field'],
      [rec(json({ requestId: 'r', userId: 'u', requestedAt: -5 })), 'invalid-timestamp'],
      [rec(json({ requestId: 'r', userId: 'u' }), 'v'), 'key-mismatch'],
      [rec(encodeValue('interaction', valid, IA)), 'wrong-schema'],
    ];
    for (const [r, reason] of cases2) {
      const d = decodeDeletion(r, reg);
      expect(d.ok ? 'ok' : d.reason).toBe(reason);
    }
  });

  it('rejects ids that differ only in a lone surrogate instead of letting them collide as keys', () => {
    const a = decodeInteraction(rec('{"userId":"u","itemId":"x\\ud800","action":"ADD"}'), reg);
    const b = decodeInteraction(rec('{"userId":"u","itemId":"x\\ud801","action":"ADD"}'), reg);
    // Both would encode to the same UTF-8 bytes (x + EF BF BD): neither may get through.
    expect(Buffer.from('x\ud800').equals(Buffer.from('x\ud801'))).toBe(true);
    expect([a.ok || a.reason, b.ok || b.reason]).toEqual(['invalid-unicode', 'invalid-unicode']);
    const d = decodeDeletion(rec('{"requestId":"r\\udfff","userId":"u"}'), reg);
    expect(d.ok || d.reason).toBe('invalid-unicode');
  });

  it('accepts ids that genuinely contain U+FFFD or astral characters, in JSON and Avro', () => {
    const replacement = Buffer.from('u\uFFFD'); // the bytes 75 EF BF BD: valid UTF-8
    const avro = decodeInteraction(rec(avroInteraction(replacement)), reg);
    expect(avro.ok && avro.value.userId).toBe('u\uFFFD');
    const j = decodeInteraction(rec(json({ ...valid, userId: 'u\uFFFD😀', itemId: '𝄞' })), reg);
    expect(j.ok && [j.value.userId, j.value.itemId]).toEqual(['u\uFFFD😀', '𝄞']);
  });

  it('bounds event times by the record timestamp, not the wall clock', () => {
    const at = (occurredAt: number, timestamp: string, rules?: { maxFutureSkewMs: number }) => {
      const d = decodeInteraction(
        { key: null, value: json({ ...valid, occurredAt }), timestamp },
        reg,
        rules,
      );
      return d.ok ? 'ok' : d.reason;
    };
    const t = 1_700_000_000_000; // 2023: long past by the wall clock
    expect(at(t + 300_000, String(t))).toBe('ok'); // exactly the default 5 minutes ahead
    expect(at(t + 300_001, String(t))).toBe('timestamp-in-future');
    expect(at(t + 1, String(t), { maxFutureSkewMs: 0 })).toBe('timestamp-in-future');
    expect(at(t + 3_600_000, String(t), { maxFutureSkewMs: 3_600_000 })).toBe('ok');
    const y2100 = 4_102_444_800_000; // a record written in 2100 may carry events of 2100
    expect(at(y2100, String(y2100))).toBe('ok');
    // No usable record timestamp: nothing to judge the future by.
    expect(at(y2100, '-1')).toBe('ok');
    expect(at(631_152_000_000, String(t))).toBe('ok'); // 1990-01-01T00:00:00Z
    expect(at(631_151_999_999, String(t))).toBe('timestamp-too-old');
    expect(at(1_700_000_000, String(t))).toBe('timestamp-too-old'); // seconds, not milliseconds
  });

  it('applies the same time bounds to deletion requests and to defaulted times', () => {
    const del = (requestedAt: number | undefined, timestamp = TS) => {
      const d = decodeDeletion(
        { key: null, value: json({ requestId: 'r', userId: 'u', requestedAt }), timestamp },
        reg,
      );
      return d.ok ? 'ok' : d.reason;
    };
    expect(del(Number(TS) + 600_000)).toBe('timestamp-in-future');
    expect(del(0)).toBe('timestamp-too-old');
    expect(del(undefined)).toBe('ok');
    // A record timestamp from 1970 (a producer setting its own) is as broken as an explicit one.
    expect(del(undefined, '1000')).toBe('timestamp-too-old');
    const i = decodeInteraction(
      { key: null, value: json({ userId: 'u', itemId: 'i', action: 'ADD' }), timestamp: '5' },
      reg,
    );
    expect(i.ok || i.reason).toBe('timestamp-too-old');
  });

  it('never puts the offending text (which may hold a user id) in the message', () => {
    const d = decodeInteraction(rec('user-secret-42 is not json'), reg);
    expect(!d.ok && d.message).not.toMatch(/secret/);
    const d2 = decodeInteraction(rec(json({ ...valid, userId: 'secret-x', occurredAt: 'soon' })), reg);
    expect(!d2.ok && d2.message).not.toMatch(/secret/);
  });

  it('without a registry, Avro records are unknown schema ids', () => {
    const d = decodeInteraction(rec(encodeValue('interaction', valid, IA)));
    expect(!d.ok && d.reason).toBe('unknown-schema-id');
  });

  it('lists the schema ids that need a registry lookup', () => {
    const values = [
      encodeValue('interaction', valid, IA),
      confluentFrame(77, Buffer.from([1])),
      json(valid),
      null,
      confluentFrame(77, Buffer.from([1])),
    ];
    expect(uncachedSchemaIds(values, reg)).toEqual([77]);
    expect(uncachedSchemaIds(values, undefined)).toEqual([]);
  });

  it('reports an unreachable registry as a retriable error, not a bad record', async () => {
    await expect(reg.schemaById(4242)).rejects.toMatchObject({
      code: 'REGISTRY_UNAVAILABLE',
      retriable: true,
    });
    expect(reg.cached(4242)).toBeUndefined();
  });

  it('frames JSON and Avro outputs that decodeAny reads back', async () => {
    const r = new SchemaRegistryClient({ url: 'http://127.0.0.1:9' });
    r.remember(21, localSchema('neighbors').type);
    const list = {
      itemId: 'a',
      interactions: 3,
      neighbors: [{ itemId: 'b', similarity: 0.5, cooccurrences: 2 }],
      updatedAt: 9,
    };
    expect(await decodeAny(encodeValue('neighbors', list, 21), r)).toEqual(list);
    expect(await decodeAny(encodeValue('neighbors', list), r)).toEqual(list);
    expect(await decodeAny(null, r)).toBeNull();
    expect(frame(encodeValue('neighbors', list, 21)).ok).toBe(true);
  });
});
