import { describe, expect, it } from 'vitest';
import avro from 'avsc';
import {
  confluentFrame,
  decodeAny,
  decodeDeletion,
  decodeInteraction,
  encodeValue,
  frame,
  uncachedSchemaIds,
  type InputRecord,
} from '../../src/stream/codec.js';
import { DECODE_REASONS, type DecodeReason } from '../../src/stream/reasons.js';
import { SchemaRegistryClient } from '../../src/stream/registry.js';
import { localSchema } from '../../src/stream/schemas.js';

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
      rec(encodeValue('deletion', { requestId: 'r', userId: 'u', requestedAt: 5 }, DR)),
      reg,
    );
    expect(del.ok && del.value).toEqual({ requestId: 'r', userId: 'u', requestedAt: 5 });
  });

  it('accepts JSON with surrounding whitespace and unknown extra fields', () => {
    const d = decodeInteraction(rec(' \n{"userId":"u","itemId":"i","action":"ADD","extra":[1]}'), reg);
    expect(d.ok).toBe(true);
  });

  const valid = { userId: 'u', itemId: 'i', action: 'ADD', occurredAt: 1 };
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
