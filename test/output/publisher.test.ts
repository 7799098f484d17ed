// Publishing: a dead-letter copy the broker refuses as too large (the DLQ topic's limit is below
// DLQ_MAX_RECORD_BYTES) is bounded tighter and sent again, never left to stall the outputs.
import { describe, expect, it } from 'vitest';
import { AmnesiaError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { DLQ_HEADERS } from '../../src/output/dlq.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { Outbox, OutputEncoder } from '../../src/output/outbox.js';
import type { Outgoing, OutputSink } from '../../src/kafka/ports.js';
import { Positions } from '../../src/kafka/positions.js';
import { Publisher } from '../../src/output/publisher.js';

const TOPICS = { similarities: 'sim', receipts: 'rec' };

/** A sink whose broker refuses any record over `limit` bytes, as a topic's max.message.bytes does. */
function sinkWithLimit(limit: number): OutputSink & { delivered: Outgoing[]; refusals: number } {
  return {
    delivered: [],
    refusals: 0,
    activate: () => Promise.resolve(),
    deactivate: () => Promise.resolve(),
    deliver(records) {
      if (records.some((r) => r.bytes > limit)) {
        this.refusals++;
        return Promise.reject(new AmnesiaError('RECORD_REJECTED', 'the broker refused an output record'));
      }
      this.delivered.push(...records);
      return Promise.resolve();
    },
  };
}

describe('publishing outputs', () => {
  it('bounds a dead-letter copy tighter until the broker takes it', async () => {
    const metrics = createMetrics();
    const outbox = new Outbox(TOPICS, new OutputEncoder(undefined), metrics, 1_000_000);
    const sink = sinkWithLimit(100_000);
    const publisher = new Publisher({
      outbox,
      sink,
      positions: new Positions(),
      isInput: () => true,
      log: createLogger('silent'),
      metrics,
    });
    const value = Buffer.alloc(300_000, 0x7b);
    outbox.deadLetters.push({
      topic: 'in.dlq',
      sourceTopic: 'in',
      reason: 'invalid-json',
      message: {
        key: 'k',
        value,
        headers: { [DLQ_HEADERS.reason]: 'invalid-json' },
      },
    });
    await publisher.publish({ stopping: () => false });
    expect(sink.refusals).toBeGreaterThan(0);
    expect(sink.delivered).toHaveLength(1);
    const copy = sink.delivered[0]!.message;
    expect(copy.headers?.[DLQ_HEADERS.originalBytes]).toBe('300000');
    expect((copy.value as Buffer).length).toBe(0);
    expect(outbox.size).toBe(0);
  });

  it('a record refused with nothing left to bound is an error, not an endless retry', async () => {
    const metrics = createMetrics();
    const outbox = new Outbox(TOPICS, new OutputEncoder(undefined), metrics);
    const publisher = new Publisher({
      outbox,
      sink: sinkWithLimit(10),
      positions: new Positions(),
      isInput: () => true,
      log: createLogger('silent'),
      metrics,
    });
    outbox.addTombstone('an-item');
    await expect(publisher.publish({ stopping: () => false })).rejects.toMatchObject({
      code: 'RECORD_REJECTED',
    });
  });
});
