import { describe, expect, it } from 'vitest';
import { DLQ_HEADERS, dlqMessage, dlqTopic, headerString } from '../../src/stream/dlq.js';

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
