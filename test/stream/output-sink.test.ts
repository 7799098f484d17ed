import type { ProducerBatch } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { AckedSink, requests } from '../../src/stream/output-sink.js';

const rec = (topic: string, key: string, bytes: number) => ({
  topic,
  message: { key, value: Buffer.alloc(1) },
  bytes,
});

describe('delivering outputs', () => {
  it('packs records into requests of bounded size, grouped by topic, in order', () => {
    const out = requests([
      rec('a', '1', 300_000),
      rec('b', '2', 200_000),
      rec('a', '3', 100_000),
      rec('a', '4', 900_000),
    ]);
    expect(out.map((r) => r.map((t) => [t.topic, t.messages.map((m) => m.key)]))).toEqual([
      [
        ['a', ['1']],
        ['b', ['2']],
      ],
      [['a', ['3']]],
      [['a', ['4']]],
    ]);
  });

  it('commits offsets only after every record is acknowledged by all replicas', async () => {
    const calls: string[] = [];
    const producer = {
      sendBatch: (b: ProducerBatch) => {
        calls.push(`send acks=${b.acks}`);
        return Promise.resolve([]);
      },
    };
    const committer = {
      commitOffsets: (o: { offset: string }[]) => {
        calls.push(`commit ${o.map((x) => x.offset).join()}`);
        return Promise.resolve();
      },
    };
    await new AckedSink(producer, committer, () => undefined).deliver(
      [rec('a', '1', 10)],
      [{ topic: 'in', partition: 0, offset: 7 }],
    );
    expect(calls).toEqual(['send acks=-1', 'commit 7']);
    const failing = { sendBatch: () => Promise.reject(new Error('away')) };
    await expect(
      new AckedSink(failing, committer, () => undefined).deliver([rec('a', '1', 10)], []),
    ).rejects.toMatchObject({
      code: 'PUBLISH_FAILED',
      retriable: true,
    });
  });
});
