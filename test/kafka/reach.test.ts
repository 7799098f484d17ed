// No broker at the address: the real kafkajs client is pointed at a closed port on 127.0.0.1, and
// what an operator sees is one line per attempt naming the address and the cause — not the
// client's per-socket errors.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/stack.mjs';
import type { KafkaConfig } from '../../src/config.js';
import { kafkaProbe, unreachableReason, waitForKafka } from '../../src/kafka/reach.js';
import { createLogger } from '../../src/log.js';
import { isAmnesiaError } from '../../src/errors.js';

function capture(level: 'info' | 'debug' = 'info') {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  return { lines, log: createLogger(level, sink) };
}

const baseConfig = { clientId: 'amnesia-test', ssl: undefined, sasl: undefined };

describe('reaching Kafka', () => {
  it('names the cause of what kafkajs throws, and nothing else', () => {
    const refused = Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:1'), {
      name: 'KafkaJSConnectionError',
      code: 'ECONNREFUSED',
    });
    const retried = Object.assign(new Error(refused.message), {
      name: 'KafkaJSNumberOfRetriesExceeded',
      originalError: refused,
    });
    expect(unreachableReason(retried)).toBe('connection refused');
    const timeout = Object.assign(new Error('Connection timeout'), { name: 'KafkaJSConnectionError' });
    expect(unreachableReason(timeout)).toBe('connection timed out');
    expect(unreachableReason(Object.assign(new Error('x'), { code: 'ENOTFOUND' }))).toBe('host not found');
    const tls = Object.assign(new Error('x'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    expect(unreachableReason(tls)).toBe('TLS handshake failed (DEPTH_ZERO_SELF_SIGNED_CERT)');
    const sasl = Object.assign(new Error('SASL PLAIN authentication failed'), {
      name: 'KafkaJSSASLAuthenticationError',
    });
    expect(unreachableReason(sasl)).toBeUndefined();
    expect(unreachableReason(new TypeError('boom'))).toBeUndefined();
  });

  it('with no broker, logs one line per attempt naming the address and cause, then gives up as KAFKA_UNAVAILABLE', async () => {
    const broker = `127.0.0.1:${await freePort()}`;
    const { lines, log } = capture('info');
    const config = { ...baseConfig, brokers: [broker] } as unknown as KafkaConfig;
    const waits: number[] = [];
    const err = await waitForKafka(kafkaProbe(config, log), [broker], log, {
      attempts: 3,
      intervalMs: 5_000,
      sleep: (ms) => (waits.push(ms), Promise.resolve()),
    }).catch((e: unknown) => e);
    await new Promise((r) => setImmediate(r));

    expect(isAmnesiaError(err, 'KAFKA_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toBe(`cannot reach Kafka at ${broker}: connection refused`);
    expect(waits).toEqual([5_000, 5_000]);
    // Two retries, two lines — and nothing from kafkajs at info level or above.
    expect(lines.map((l) => l.msg)).toEqual([
      `cannot reach Kafka at ${broker}: connection refused; retrying every 5 s`,
      `cannot reach Kafka at ${broker}: connection refused; retrying every 5 s`,
    ]);
    expect(lines[1]).toMatchObject({ level: 'warn', attempt: 2, reason: 'connection refused' });
  });

  it('resolves at once when the probe connects, and leaves other failures to the steps after it', async () => {
    const { lines, log } = capture('debug');
    await waitForKafka(() => Promise.resolve(), ['b:9092'], log);
    const auth = Object.assign(new Error('SASL authentication failed'), {
      name: 'KafkaJSSASLAuthenticationError',
    });
    let calls = 0;
    await waitForKafka(
      () => {
        calls++;
        return Promise.reject(auth);
      },
      ['b:9092'],
      log,
    );
    expect(calls).toBe(1);
    await new Promise((r) => setImmediate(r));
    expect(lines.filter((l) => l.level === 'warn')).toEqual([]);
  });
});
