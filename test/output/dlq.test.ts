import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { boundDlqMessage, DLQ_HEADERS, dlqMessage, headerString, recordBytes } from '../../src/output/dlq.js';
import { dlqTopic } from '../../src/kafka/topics.js';

describe('dead-letter records', () => {
  it('go to <topic>.dlq', () => {
    expect(dlqTopic('interactions')).toBe('interactions.dlq');
  });

  it('keep the original key, value and headers and add reason and origin', () => {
    const key = Buffer.from('u1');
    const value = Buffer.from('{oops');
    const m = dlqMessage(
      {
        topic: 'interactions',
        partition: 2,
        offset: '41',
        key,
        value,
        headers: { trace: Buffer.from('abc') },
        timestamp: '1700000000000',
      },
      { ok: false, reason: 'invalid-json', message: 'the value is UTF-8 text but not valid JSON' },
    );
    expect(m.key).toBe(key);
    expect(m.value).toBe(value);
    expect(m.timestamp).toBe('1700000000000');
    expect(headerString(m.headers, 'trace')).toBe('abc');
    expect(headerString(m.headers, DLQ_HEADERS.reason)).toBe('invalid-json');
    expect(headerString(m.headers, DLQ_HEADERS.message)).toMatch(/not valid JSON/);
    expect(headerString(m.headers, DLQ_HEADERS.topic)).toBe('interactions');
    expect(headerString(m.headers, DLQ_HEADERS.partition)).toBe('2');
    expect(headerString(m.headers, DLQ_HEADERS.offset)).toBe('41');
  });

  it('keep a null value null', () => {
    const m = dlqMessage(
      { topic: 't', partition: 0, offset: '0', key: null, value: null, timestamp: '0' },
      { ok: false, reason: 'null-value', message: 'the record value is null' },
    );
    expect(m.value).toBeNull();
    expect(m.key).toBeNull();
  });

  it('replace our headers when a dead letter is fed back in', () => {
    const m = dlqMessage(
      {
        topic: 't',
        partition: 0,
        offset: '7',
        key: null,
        value: Buffer.from('x'),
        headers: { [DLQ_HEADERS.reason]: 'null-value' },
        timestamp: '0',
      },
      { ok: false, reason: 'invalid-json', message: 'x' },
    );
    expect(headerString(m.headers, DLQ_HEADERS.reason)).toBe('invalid-json');
  });
});

describe('bounded dead-letter copies', () => {
  const failure = { ok: false as const, reason: 'invalid-json' as const, message: 'not JSON' };
  const source = (value: Buffer, headers: Record<string, string> = {}) => ({
    topic: 'interactions',
    partition: 1,
    offset: '42',
    key: Buffer.from('u1'),
    value,
    headers,
    timestamp: '1700000000000',
  });

  it('keeps a copy that fits as it is', () => {
    const m = dlqMessage(source(Buffer.from('{oops')), failure);
    expect(boundDlqMessage(m, 10_000)).toBe(m);
  });

  it('replaces an oversized copy by one that keeps key, reason, headers, original size and SHA-256', () => {
    const value = Buffer.alloc(200_000, 0x61);
    const m = dlqMessage(source(value, { trace: 'abc' }), failure);
    const b = boundDlqMessage(m, 50_000);
    expect(recordBytes(b)).toBeLessThanOrEqual(50_000);
    expect(b.key).toEqual(Buffer.from('u1'));
    expect(b.value).toEqual(Buffer.alloc(0));
    expect(headerString(b.headers, DLQ_HEADERS.reason)).toBe('invalid-json');
    expect(headerString(b.headers, DLQ_HEADERS.offset)).toBe('42');
    expect(headerString(b.headers, 'trace')).toBe('abc');
    expect(headerString(b.headers, DLQ_HEADERS.originalBytes)).toBe('200000');
    expect(headerString(b.headers, DLQ_HEADERS.originalSha256)).toBe(
      createHash('sha256').update(value).digest('hex'),
    );
  });

  it('drops the original headers, counted, when even they do not fit', () => {
    const m = dlqMessage(source(Buffer.alloc(10), { big: 'x'.repeat(20_000), small: 'y' }), failure);
    const b = boundDlqMessage(m, 5_000);
    expect(recordBytes(b)).toBeLessThanOrEqual(5_000);
    expect(headerString(b.headers, 'big')).toBeUndefined();
    expect(headerString(b.headers, DLQ_HEADERS.headersDropped)).toBe('2');
    expect(headerString(b.headers, DLQ_HEADERS.reason)).toBe('invalid-json');
  });
});
