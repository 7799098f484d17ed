import type { Producer, ProducerBatch } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { AckedSink, requests, TransactionalSink } from '../../src/kafka/output-sink.js';

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

  it('never starts another transaction on a producer whose transaction failed', async () => {
    // kafkajs rolls back the sequence numbers of a failed produce request, also for partitions the
    // broker appended: a retry on the same producer would be dropped as duplicates of the aborted ones.
    const made: { calls: string[] }[] = [];
    let failNext = true;
    const makeProducer = () => {
      const p = { calls: [] as string[] };
      made.push(p);
      const txn = {
        sendBatch: () => {
          p.calls.push('send');
          if (!failNext) return Promise.resolve([]);
          failNext = false;
          return Promise.reject(Object.assign(new Error('too large'), { type: 'MESSAGE_TOO_LARGE' }));
        },
        sendOffsets: () => Promise.resolve(),
        commit: () => (p.calls.push('commit'), Promise.resolve()),
        abort: () => (p.calls.push('abort'), Promise.resolve()),
      };
      return {
        connect: () => Promise.resolve(),
        disconnect: () => (p.calls.push('disconnect'), Promise.resolve()),
        transaction: () => Promise.resolve(txn),
      } as unknown as Producer;
    };
    const sink = new TransactionalSink({ makeProducer, groupId: 'g', log: createLogger('silent') });
    await sink.activate();
    await expect(sink.deliver([rec('a', '1', 10)], [])).rejects.toMatchObject({ code: 'RECORD_REJECTED' });
    expect(made[0]!.calls).toEqual(['abort', 'send', 'abort', 'disconnect']);
    // Refused until the engine decides this instance may start a new producer.
    await expect(sink.deliver([rec('a', '1', 10)], [])).rejects.toMatchObject({ code: 'PRODUCER_FENCED' });
    await sink.activate();
    await sink.deliver([rec('a', '1', 10)], []);
    expect(made).toHaveLength(2);
    expect(made[1]!.calls).toEqual(['abort', 'send', 'commit']);
  });

  it('repeats the offsets of a transaction while the coordinator is still completing the previous one', async () => {
    // CONCURRENT_TRANSACTIONS: the previous transaction's markers are being written; the request did
    // nothing and the same transaction may go on. Dropping the producer would cost a re-activation.
    const calls: string[] = [];
    let busy = 3;
    const concurrent = () =>
      Object.assign(new Error('concurrent operation on the same transaction'), {
        type: 'CONCURRENT_TRANSACTIONS',
      });
    const txn = {
      sendBatch: () => (calls.push('send'), Promise.resolve([])),
      sendOffsets: () => {
        calls.push('offsets');
        return busy-- > 0 ? Promise.reject(concurrent()) : Promise.resolve();
      },
      commit: () => (calls.push('commit'), Promise.resolve()),
      abort: () => (calls.push('abort'), Promise.resolve()),
    };
    const producer = {
      connect: () => Promise.resolve(),
      disconnect: () => (calls.push('disconnect'), Promise.resolve()),
      transaction: () => Promise.resolve(txn),
    } as unknown as Producer;
    const sink = new TransactionalSink({
      makeProducer: () => producer,
      groupId: 'g',
      log: createLogger('silent'),
    });
    await sink.activate();
    await sink.deliver([rec('a', '1', 10)], [{ topic: 'in', partition: 0, offset: 7 }]);
    expect(calls).toEqual(['abort', 'send', 'offsets', 'offsets', 'offsets', 'offsets', 'commit']);
    // Any other failure of the offsets still ends the producer.
    txn.sendOffsets = () => Promise.reject(Object.assign(new Error('gone'), { type: 'UNKNOWN_PRODUCER_ID' }));
    await expect(
      sink.deliver([rec('a', '1', 10)], [{ topic: 'in', partition: 0, offset: 8 }]),
    ).rejects.toThrow();
    expect(calls.slice(-2)).toEqual(['abort', 'disconnect']);
  });

  describe('a transaction prepared ahead of its delivery', () => {
    const at = (offset: number) => [{ topic: 'in', partition: 0, offset }];
    /** A producer whose transactions log their calls, each with its transaction's number. */
    const logged = (opts: { failOffsets?: boolean } = {}) => {
      const calls: string[] = [];
      let n = 0;
      const producer = {
        connect: () => Promise.resolve(),
        disconnect: () => (calls.push('disconnect'), Promise.resolve()),
        transaction: () => {
          const k = n++;
          return Promise.resolve({
            sendBatch: () => (calls.push(`${k} send`), Promise.resolve([])),
            sendOffsets: (o: { topics: { partitions: { offset: string }[] }[] }) => {
              calls.push(`${k} offsets ${o.topics[0]!.partitions[0]!.offset}`);
              return opts.failOffsets && k > 0
                ? Promise.reject(Object.assign(new Error('gone'), { type: 'UNKNOWN_PRODUCER_ID' }))
                : Promise.resolve();
            },
            commit: () => (calls.push(`${k} commit`), Promise.resolve()),
            abort: () => (calls.push(`${k} abort`), Promise.resolve()),
          });
        },
      } as unknown as Producer;
      const sink = new TransactionalSink({
        makeProducer: () => producer,
        groupId: 'g',
        log: createLogger('silent'),
      });
      return { sink, calls };
    };

    it('sends the offsets before the records are there, then the records, then commits', async () => {
      const { sink, calls } = logged();
      await sink.activate();
      sink.prepare(at(7));
      // The offsets go out while the caller is still computing its records.
      await new Promise((r) => setImmediate(r));
      expect(calls).toEqual(['0 abort', '1 offsets 7']);
      await sink.deliver([rec('a', '1', 10)], at(7));
      expect(calls).toEqual(['0 abort', '1 offsets 7', '1 send', '1 commit']);
      // The next delivery, unprepared, sends its offsets after its records as before.
      await sink.deliver([rec('a', '2', 10)], at(8));
      expect(calls.slice(4)).toEqual(['2 send', '2 offsets 8', '2 commit']);
    });

    it("is aborted when the delivery names other offsets: only the delivery's offsets commit", async () => {
      const { sink, calls } = logged();
      await sink.activate();
      sink.prepare(at(7));
      await sink.deliver([rec('a', '1', 10)], at(5));
      expect(calls).toEqual(['0 abort', '1 offsets 7', '1 abort', '2 send', '2 offsets 5', '2 commit']);
    });

    it('ends the producer as any failed delivery does when its offsets fail', async () => {
      const { sink, calls } = logged({ failOffsets: true });
      await sink.activate();
      sink.prepare(at(7));
      await expect(sink.deliver([rec('a', '1', 10)], at(7))).rejects.toMatchObject({
        code: 'PUBLISH_FAILED',
      });
      expect(calls).toEqual(['0 abort', '1 offsets 7', '1 abort', 'disconnect']);
      await expect(sink.deliver([rec('a', '1', 10)], at(7))).rejects.toMatchObject({
        code: 'PRODUCER_FENCED',
      });
    });

    it('goes with its producer: after a deactivation nothing prepared is reused', async () => {
      const { sink, calls } = logged();
      await sink.activate();
      sink.prepare(at(7));
      await sink.deactivate();
      await sink.activate();
      await sink.deliver([rec('a', '1', 10)], at(7));
      expect(calls.slice(-3)).toEqual(['3 send', '3 offsets 7', '3 commit']);
    });
  });
});
