// The engine with its Kafka edges faked in memory (test/helpers/fake-kafka.ts): rebuild, live
// processing, reconcile and membership decisions, checked against the brute-force oracle.
import { describe, expect, it } from 'vitest';
import type { Engine } from '../../src/single/engine.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import type { OutputSink } from '../../src/kafka/ports.js';
import { type FakeConsumer, FakeLog } from '../helpers/fake-kafka.js';
import { engineOnFake, SINGLE_TOPICS, singleConfig } from '../helpers/runtimes.js';
import { scenario, type Scenario } from '../helpers/generator.js';
import { bruteForceLists, survivingHistory, type RefEvent } from '../helpers/oracle.js';

const T = SINGLE_TOPICS;
const ORDER = [T.del, T.in, T.sim, T.rec];
const ASSIGNMENT = { [T.del]: [0, 1], [T.in]: [0, 1], [T.sim]: [0, 1], [T.rec]: [0, 1] };
const env = { BATCH_MAX_EVENTS: '40' };
const config = singleConfig(env);

const partitionOf = (userId: string) => [...userId].reduce((h, c) => h + c.charCodeAt(0), 0) % 2;

function produceEvents(log: FakeLog, events: readonly RefEvent[]): void {
  for (const e of events) log.appendJson(T.in, partitionOf(e.userId), e.userId, e, e.occurredAt);
}

function produceDeletions(log: FakeLog, s: Scenario): void {
  for (const d of s.deletions) log.appendJson(T.del, partitionOf(d.userId), d.userId, d, d.requestedAt);
}

function engineOn(
  log: FakeLog,
  sink: OutputSink = log.sink(),
  metrics = createMetrics(),
  cfg = config,
): { engine: Engine; consumer: FakeConsumer } {
  return engineOnFake(log, cfg, { sink, metrics });
}

function newLog(): FakeLog {
  return new FakeLog({ [T.in]: 2, [T.del]: 2, [T.sim]: 2, [T.rec]: 2 });
}

const published = (log: FakeLog) => log.publishedLists(T.sim);

function expected(events: readonly RefEvent[], s: Scenario) {
  return bruteForceLists(
    survivingHistory(events, s.deletions),
    config.model.topK,
    config.model.minCooccurrences,
  );
}

async function start(log: FakeLog, sink?: OutputSink) {
  const { engine, consumer } = engineOn(log, sink);
  consumer.join(engine, ASSIGNMENT);
  await consumer.drain(engine, ORDER);
  await engine.flushNow();
  return { engine, consumer };
}

const s = scenario({ seed: 7, users: 25, items: 30, events: 400, forget: 4 });

describe('the engine (Kafka faked in memory)', () => {
  it('a cold start replays both topics and publishes exactly the brute-force lists and one receipt per request', async () => {
    const log = newLog();
    produceEvents(log, s.before);
    produceDeletions(log, s);
    const { engine } = await start(log);
    expect(engine.phase).toBe('live');
    expect(published(log)).toEqual(expected(s.before, s));
    const receipts = log.compacted(T.rec);
    expect([...receipts.keys()].sort()).toEqual(s.deletions.map((d) => d.requestId).sort());
    for (const v of receipts.values())
      expect(JSON.parse(v.toString())).toMatchObject({ status: 'FORGOTTEN' });
  });

  it('live events and deletions after the rebuild keep every list exact', async () => {
    const log = newLog();
    produceEvents(log, s.before);
    const { engine, consumer } = await start(log);
    produceDeletions(log, s);
    produceEvents(log, s.after);
    await consumer.drain(engine, ORDER);
    await engine.flushNow();
    expect(published(log)).toEqual(expected([...s.before, ...s.after], s));
    expect(log.compacted(T.rec).size).toBe(s.deletions.length);
  });

  it('a restart over unchanged input publishes nothing, and commits cover everything applied', async () => {
    const log = newLog();
    produceEvents(log, s.before);
    produceDeletions(log, s);
    await start(log);
    const written = [0, 1].map((p) => log.records(T.sim, p).length + log.records(T.rec, p).length);
    const { engine } = await start(log);
    expect(engine.phase).toBe('live');
    expect([0, 1].map((p) => log.records(T.sim, p).length + log.records(T.rec, p).length)).toEqual(written);
    for (const w of [...log.watermarks(T.in), ...log.watermarks(T.del)])
      expect(log.commits.get(`${w.topic}/${w.partition}`) ?? 0).toBe(w.high);
  });

  it('the same partitions again: keeps its state, unless another member went ahead meanwhile', async () => {
    const log = newLog();
    produceEvents(log, s.before);
    const { engine, consumer } = await start(log);
    const phases: string[] = [];
    engine.onPhase((p) => phases.push(p));
    consumer.join(engine, ASSIGNMENT);
    await consumer.drain(engine, ORDER);
    expect(phases).toEqual([]); // kept: no rebuild
    // Another member was active: it applied new records and committed past our positions.
    produceEvents(log, s.after);
    for (const w of log.watermarks(T.in)) log.commits.set(`${T.in}/${w.partition}`, w.high);
    consumer.join(engine, ASSIGNMENT);
    await consumer.drain(engine, ORDER);
    await engine.flushNow();
    expect(phases).toEqual(['rebuilding', 'live']);
    expect(published(log)).toEqual(expected([...s.before, ...s.after], { ...s, deletions: [] }));
  });

  it('never applies a batch fetched past its position: it seeks back to the position', async () => {
    const log = newLog();
    produceEvents(log, s.before.slice(0, 100));
    const { engine, consumer } = await start(log);
    const pos = log.watermarks(T.in)[0]!.high;
    for (let k = 0; k < 3; k++)
      log.appendJson(T.in, 0, 'u0', { userId: 'u0', itemId: `x${k}`, action: 'ADD' });
    const ahead = log.records(T.in, 0).filter((m) => Number(m.offset) > pos);
    const noop = () => undefined;
    await engine.eachBatchOf(
      {
        topic: T.in,
        partition: 0,
        highWatermark: pos + 3,
        fetchedOffset: pos + 1,
        messages: ahead,
        lastOffset: pos + 2,
      },
      {
        resolveOffset: noop,
        heartbeat: () => Promise.resolve(),
        isRunning: () => true,
        isStale: () => false,
      },
    );
    expect(engine.model.itemsOf('u0')).not.toContain('x1');
    expect(consumer.seeks.at(-1)).toEqual({ topic: T.in, partition: 0, offset: pos });
  });

  it('live, records deleted unread past its position: counts the gap and moves on, never a seek loop', async () => {
    // Inputs paused past retention (e.g. at the memory budget): the broker answers out of range,
    // the client resets to the log start and fetches from there. Seeking back to the position
    // would loop forever; before, it did (the batch was never applied).
    const log = newLog();
    produceEvents(log, s.before.slice(0, 100));
    const metrics = createMetrics();
    const { engine, consumer } = engineOn(log, log.sink(), metrics);
    consumer.join(engine, ASSIGNMENT);
    await consumer.drain(engine, ORDER);
    const pos = log.watermarks(T.in)[0]!.high;
    for (let k = 0; k < 4; k++)
      log.appendJson(T.in, 0, 'u0', { userId: 'u0', itemId: `x${k}`, action: 'ADD' });
    log.truncate(T.in, 0, pos + 2);
    const seeks = consumer.seeks.length;
    await consumer.drain(engine, ORDER);
    await engine.flushNow();
    expect(engine.phase).toBe('live');
    expect(engine.model.itemsOf('u0')).toEqual(expect.arrayContaining(['x2', 'x3']));
    expect(engine.model.itemsOf('u0')).not.toContain('x0');
    expect(consumer.seeks.slice(seeks)).toEqual([]);
    const gauge = await metrics.registry.getSingleMetric('amnesia_retention_gap_records')!.get();
    expect(gauge.values).toContainEqual({ labels: { topic: T.in, partition: '0' }, value: 2 });
  });

  it('live, deletion requests deleted unread: blocks (not ready, says why) rather than skip them', async () => {
    const log = newLog();
    produceEvents(log, s.before.slice(0, 100));
    const { engine, consumer } = await start(log);
    const pos = log.watermarks(T.del)[0]!.high;
    for (let k = 0; k < 3; k++) log.appendJson(T.del, 0, 'u0', { requestId: `r${k}`, userId: 'u0' });
    log.truncate(T.del, 0, pos + 2);
    await consumer.drain(engine, ORDER);
    expect(engine.phase).toBe('blocked');
  });

  it('an empty assignment makes a standby that holds no state', async () => {
    const log = newLog();
    produceEvents(log, s.before);
    const { engine, consumer } = await start(log);
    consumer.join(engine, {});
    await engine.idle();
    expect(engine.phase).toBe('standby');
    expect(engine.model.itemIds()).toEqual([]);
    expect(engine.consumerLag()).toEqual([]);
  });

  it('retries a failed delivery and commits no offset before its outputs are delivered', async () => {
    const log = newLog();
    produceEvents(log, s.before.slice(0, 60));
    const sink = log.sink({ failures: 2 });
    const { engine } = await start(log, sink);
    expect(engine.phase).toBe('live');
    expect(sink.failures).toBe(0);
    expect(sink.deliveries).toBeGreaterThan(0);
    expect(published(log)).toEqual(expected(s.before.slice(0, 60), { ...s, deletions: [] }));
  });

  it('a snapshot capture sees the flushed state and the positions it reflects', async () => {
    const log = newLog();
    produceEvents(log, s.before);
    const { engine } = await start(log);
    const taken = await engine.atBoundary((state, offsets) => ({ users: state().userIds.length, offsets }));
    expect(taken?.users).toBe(survivingHistory(s.before, []).size);
    expect(new Set(taken?.offsets.map((o) => `${o.topic}/${o.partition}/${o.offset}`))).toEqual(
      new Set(
        [...log.watermarks(T.in), ...log.watermarks(T.del)].map((w) => `${w.topic}/${w.partition}/${w.high}`),
      ),
    );
  });

  it('a deletion request is delivered at once, without the unrelated interactions held before it', async () => {
    const log = newLog();
    const base = s.before.slice(0, 200);
    produceEvents(log, base);
    const { engine, consumer } = await start(log);
    const t = 1_800_000_000_000;
    const victim = base[0]!.userId;
    const other = base.find(
      (e) => e.userId !== victim && partitionOf(e.userId) === partitionOf(victim),
    )!.userId;
    // The victim's held event is recorded before the deletion but claims a later occurredAt: applied
    // before the forget (record order, as a replay would), it is forgotten; applied after, it would stay.
    const held: RefEvent[] = [
      { userId: other, itemId: 'fresh-1', action: 'ADD', occurredAt: t },
      { userId: victim, itemId: 'fresh-2', action: 'ADD', occurredAt: t + 20 },
      { userId: other, itemId: 'fresh-2', action: 'ADD', occurredAt: t + 2 },
    ];
    for (const [k, e] of held.entries()) log.appendJson(T.in, partitionOf(e.userId), e.userId, e, t + k);
    await consumer.poll(engine, ORDER);
    await engine.idle();
    const firstHeld = log.watermarks(T.in)[partitionOf(victim)]!.high - held.length;
    const deletion = { requestId: 'r-fast', userId: victim, requestedAt: t + 10 };
    log.appendJson(T.del, partitionOf(victim), victim, deletion, t + 10);
    await consumer.poll(engine, ORDER);
    await engine.idle();
    // The receipt is out, the victim's held event was applied before the forget, and nothing of the
    // other user's held events is published yet; their offsets are not committed.
    expect(log.compacted(T.rec).has('r-fast')).toBe(true);
    const withoutVictim = { ...s, deletions: [deletion] };
    expect(published(log)).toEqual(expected(base, withoutVictim));
    expect(log.commits.get(`${T.in}/${partitionOf(victim)}`)).toBeLessThanOrEqual(firstHeld);
    await engine.flushNow();
    expect(published(log)).toEqual(expected([...base, held[0]!, held[2]!], withoutVictim));
    expect(log.commits.get(`${T.in}/${partitionOf(victim)}`)).toBe(
      log.watermarks(T.in)[partitionOf(victim)]!.high,
    );
  });

  it('a delivery refused as fenced inside a batch is handled, not thrown: still the member, it goes on with a new producer', async () => {
    const log = newLog();
    const base = s.before.slice(0, 100);
    produceEvents(log, base);
    const sink = log.sink();
    const { engine, consumer } = await start(log, sink);
    const activations = sink.activations;
    sink.active = false; // our transaction timed out (or another producer started with our id)
    const d = s.deletions[0]!;
    log.appendJson(T.del, partitionOf(d.userId), d.userId, d, d.requestedAt);
    // The deletion's fast path delivers inside the batch: the refusal must not escape to kafkajs,
    // where a non-retriable error crashes the consumer for good.
    await consumer.poll(engine, ORDER);
    await engine.idle();
    expect(engine.phase).toBe('live');
    expect(sink.activations).toBe(activations + 1);
    await engine.flushNow();
    expect(log.compacted(T.rec).has(d.requestId)).toBe(true);
    expect(published(log)).toEqual(expected(base, { ...s, deletions: [d] }));
  });

  it('while catching up on a large lag, chunks grow to the flush budget', async () => {
    const log = newLog();
    const { engine } = await start(log);
    const live = (engine as unknown as { live: { chunkLimit(lag: number): number } }).live;
    expect(live.chunkLimit(10)).toBe(config.batch.maxEvents);
    expect(live.chunkLimit(1_000_000)).toBeGreaterThan(config.batch.maxEvents);
  });

  it('a backlog spread over partitions, each under BATCH_MAX_EVENTS, is caught up in few large chunks', async () => {
    // Each partition's lag stays under BATCH_MAX_EVENTS (40) while their sum does not; fetches come
    // more than BATCH_MAX_MS (1 ms) apart, so every fetch would flush on its own unless the catch-up
    // is seen across partitions (and lingers for CATCHUP_FLUSH_MS instead).
    const cfg = singleConfig({ ...env, BATCH_MAX_MS: '1', CATCHUP_FLUSH_MS: '60000' });
    const log = newLog();
    const metrics = createMetrics();
    const { engine, consumer } = engineOn(log, log.sink(), metrics, cfg);
    consumer.join(engine, ASSIGNMENT);
    await consumer.drain(engine, ORDER);
    expect(engine.phase).toBe('live');
    // 50 events per partition: after a first fetch of 10 each partition is 40 behind, the sum 80.
    const taken = [0, 0];
    const events = s.before.filter((e) => taken[partitionOf(e.userId)]!++ < 50);
    expect(events).toHaveLength(100);
    produceEvents(log, events);
    for (;;) {
      await engine.idle();
      await new Promise((r) => setTimeout(r, 3));
      if ((await consumer.poll(engine, ORDER, 10)) === 0) break;
    }
    await engine.flushNow();
    const { values } = await metrics.batchSize.get();
    const chunks = values.find((v) => v.metricName === 'amnesia_batch_size_count')?.value;
    // Five rounds of fetches (10 records from each partition), each flushed alone (5 chunks) if the
    // catch-up went unseen. Seen: the first three rounds go into one chunk (the sum of the lags is
    // 40 or less only at the end of the third), the last two rounds are live with a 1 ms linger.
    expect(chunks).toBeGreaterThan(0);
    expect(chunks).toBeLessThanOrEqual(3);
    expect(published(log)).toEqual(expected(events, { ...s, deletions: [] }));
  });

  it('fenced and no longer holding the partitions: stands down and publishes nothing more', async () => {
    const log = newLog();
    produceEvents(log, s.before.slice(0, 100));
    const sink = log.sink();
    const { engine, consumer } = await start(log, sink);
    sink.active = false; // another instance activated the outputs
    log.members.clear();
    log.members.add('member-2');
    const written = log.records(T.sim, 0).length + log.records(T.sim, 1).length;
    produceEvents(log, s.before.slice(100, 200));
    await consumer.drain(engine, ORDER);
    await engine.flushNow();
    expect(engine.phase).toBe('standby');
    expect(consumer.paused).toEqual(new Set(ORDER));
    expect(log.records(T.sim, 0).length + log.records(T.sim, 1).length).toBe(written);
  });

  it('a lapsed snapshot-holder lease: no snapshot until the role is checked; not holding the partitions → stands down', async () => {
    // A paused ex-active resumes: nothing it publishes shows a fencing (no input came), so only the
    // lapsed lease says another instance may have taken over — and published PURGED meanwhile.
    const log = newLog();
    produceEvents(log, s.before.slice(0, 100));
    const { engine, consumer } = await start(log);
    log.members.clear();
    log.members.add('member-2');
    const check = engine.recheckRole();
    expect(engine.roleInDoubt).toBe(true);
    await check;
    expect(engine.roleInDoubt).toBe(false);
    expect(engine.phase).toBe('standby');
    expect(consumer.paused).toEqual(new Set(ORDER));
    expect(await engine.atBoundary(() => 'taken')).toBeUndefined();
  });

  it('a lapsed lease while still holding the partitions and nobody ahead: stays live, same producer', async () => {
    const log = newLog();
    produceEvents(log, s.before.slice(0, 100));
    const sink = log.sink();
    const { engine } = await start(log, sink);
    await engine.recheckRole();
    expect(engine.phase).toBe('live');
    expect(sink.activations).toBe(1);
    expect(await engine.atBoundary(() => 'taken')).toBe('taken');
  });

  it('fenced while still holding the partitions: a new producer, and nothing lost', async () => {
    const log = newLog();
    produceEvents(log, s.before.slice(0, 100));
    const sink = log.sink();
    const { engine, consumer } = await start(log, sink);
    sink.active = false; // e.g. our transaction timed out during a long pause
    produceEvents(log, s.before.slice(100, 200));
    await consumer.drain(engine, ORDER);
    await engine.flushNow();
    expect(engine.phase).toBe('live');
    expect(sink.activations).toBe(2);
    expect(published(log)).toEqual(expected(s.before.slice(0, 200), { ...s, deletions: [] }));
  });

  it('fenced after another member went ahead: rebuilds, and the lists are exact', async () => {
    const log = newLog();
    produceEvents(log, s.before.slice(0, 100));
    const sink = log.sink();
    const { engine, consumer } = await start(log, sink);
    sink.active = false;
    produceEvents(log, s.before.slice(100, 300));
    for (const w of log.watermarks(T.in)) log.commits.set(`${T.in}/${w.partition}`, w.high);
    const phases: string[] = [];
    engine.onPhase((p) => phases.push(p));
    await consumer.drain(engine, ORDER);
    await engine.flushNow();
    expect(phases).toEqual(['rebuilding', 'live']);
    expect(published(log)).toEqual(expected(s.before.slice(0, 300), { ...s, deletions: [] }));
  });

  it('refuses to go live when retention deleted deletion requests it never applied', async () => {
    const log = newLog();
    produceEvents(log, s.before);
    produceDeletions(log, s);
    log.truncate(T.del, partitionOf(s.deletions[0]!.userId), 1);
    const { engine } = await start(log);
    expect(engine.phase).toBe('blocked');
    expect(log.compacted(T.sim).size).toBe(0);
  });

  it('replays after lost deletion requests when every retained interaction is newer than them', async () => {
    const log = newLog();
    const t = 1_750_000_000_000;
    const users = ['ua', 'ub', 'uc', 'ud', 'ue', 'uf'];
    const deletions = users.map((userId, k) => ({ requestId: `old-${k}`, userId, requestedAt: t + k }));
    for (const d of deletions) log.appendJson(T.del, partitionOf(d.userId), d.userId, d, d.requestedAt);
    const truncated = partitionOf('ua');
    log.truncate(T.del, truncated, 1);
    const events: RefEvent[] = users.flatMap((userId, u) =>
      ['x', 'y', 'z'].slice(0, 1 + (u % 3)).map((itemId, k) => ({
        userId,
        itemId,
        action: 'ADD' as const,
        occurredAt: t + 10_000 + u * 10 + k,
      })),
    );
    produceEvents(log, events);
    const { engine } = await start(log);
    expect(engine.phase).toBe('live');
    expect(published(log)).toEqual(expected(events, { ...s, deletions }));
  });

  it('goes on, with the loss visible, when retention deleted only interactions', async () => {
    const log = newLog();
    produceEvents(log, s.before);
    log.truncate(T.in, 0, 5);
    const metrics = createMetrics();
    const { engine, consumer } = engineOn(log, log.sink(), metrics);
    consumer.join(engine, ASSIGNMENT);
    await consumer.drain(engine, ORDER);
    expect(engine.phase).toBe('live');
    const gauge = await metrics.registry.getSingleMetric('amnesia_retention_gap_records')!.get();
    expect(gauge.values).toEqual([{ labels: { topic: T.in, partition: '0' }, value: 5 }]);
  });

  it('stops, not ready and saying why, rather than grow past its memory budget', async () => {
    const log = newLog();
    const tight = singleConfig({ ...env, MODEL_MEMORY_BYTES: String(16 * 1024 * 1024) });
    for (let u = 0; u < 4; u++)
      for (let i = 0; i < 3_000; i++) {
        const e = {
          userId: `heavy-${u}`,
          itemId: `item-${i}`,
          action: 'ADD',
          occurredAt: 1_700_000_000_000 + i,
        };
        log.appendJson(T.in, partitionOf(e.userId), e.userId, e, e.occurredAt);
      }
    const metrics = createMetrics();
    const { engine, consumer } = engineOn(log, log.sink(), metrics, tight);
    consumer.join(engine, ASSIGNMENT);
    await consumer.drain(engine, ORDER);
    expect(engine.phase).toBe('blocked');
    expect(engine.health()).toMatchObject({ ready: false });
    expect(engine.health().reasons.join()).toContain('memory budget');
    const g = await metrics.registry.getSingleMetric('amnesia_model_memory_exceeded')!.get();
    expect(g.values[0]?.value).toBe(1);
    expect(log.compacted(T.sim).size).toBe(0);
  });
});
