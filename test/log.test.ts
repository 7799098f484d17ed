import { Writable } from 'node:stream';
import { logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createLogger, kafkaLogCreator } from '../src/log.js';

function captured(): { lines: Record<string, unknown>[]; log: ReturnType<typeof kafkaLogCreator> } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  return { lines, log: kafkaLogCreator(createLogger('debug', sink)) };
}

const entry = (message: string, extra: Record<string, unknown> = {}) => ({
  message,
  timestamp: '2026-12-02T00:00:00Z',
  logger: 'kafkajs',
  ...extra,
});

describe("kafkajs's logs", () => {
  it('keep real errors, demote a retry in progress to a warning and membership chatter to debug', async () => {
    const { lines, log } = captured();
    const write = log(logLevel.DEBUG);
    const concurrent = 'The producer attempted to update a transaction while another concurrent operation';
    write({
      namespace: 'Producer',
      level: logLevel.ERROR,
      label: 'ERROR',
      log: entry(`Failed to send messages: ${concurrent}`, { retryCount: 0, retryTime: 300 }),
    });
    write({ namespace: 'Consumer', level: logLevel.ERROR, label: 'ERROR', log: entry('Crash: boom') });
    write({
      namespace: 'ConsumerGroup',
      level: logLevel.INFO,
      label: 'INFO',
      log: entry('Consumer has joined'),
    });
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => [l.level, l.msg, l.module])).toEqual([
      ['warn', `Failed to send messages: ${concurrent}`, 'kafkajs'],
      ['error', 'Crash: boom', 'kafkajs'],
      ['debug', 'Consumer has joined', 'kafkajs'],
    ]);
    expect(lines[0]).toMatchObject({ namespace: 'Producer', retryCount: 0 });
    expect(lines[0]).not.toHaveProperty('timestamp');
  });

  it('demote each failed connection attempt to debug: the caller says once that Kafka is unreachable', async () => {
    const { lines, log } = captured();
    const write = log(logLevel.DEBUG);
    const refused = 'Connection error: connect ECONNREFUSED 127.0.0.1:1';
    write({ namespace: 'Connection', level: logLevel.ERROR, label: 'ERROR', log: entry(refused) });
    write({
      namespace: 'Connection',
      level: logLevel.ERROR,
      label: 'ERROR',
      log: entry('Connection timeout'),
    });
    write({
      namespace: 'BrokerPool',
      level: logLevel.ERROR,
      label: 'ERROR',
      log: entry(`Failed to connect to seed broker, trying another broker from the list: ${refused}`, {
        retryCount: 0,
      }),
    });
    write({
      namespace: 'Connection',
      level: logLevel.ERROR,
      label: 'ERROR',
      log: entry('Response Metadata'),
    });
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => l.level)).toEqual(['debug', 'debug', 'debug', 'error']);
  });
});
