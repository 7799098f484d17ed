// `amnesia verify`: the audit that forgetting is exact. Recomputes the state from scratch from the
// input topics (honouring every deletion request) and compares it with what the service published
// (the compacted similarities topic read to its end) or with a snapshot file (recomputed only up to
// the snapshot's offsets). Prints every item whose list differs (item ids only: user ids are never
// printed) and a JSON summary; exit 0 when identical, 1 otherwise. Progress on stderr (a bar on a
// terminal, a line every few seconds otherwise): the topics read, then the recomputation, each with
// its percentage and time left.
import { readFile } from 'node:fs/promises';
import type { Kafka, KafkaMessage } from 'kafkajs';
import type { Config } from '../config.js';
import { Model } from '../model/index.js';
import { decodeSnapshot } from '../state/format.js';
import {
  decodeAny,
  decodeInteraction,
  prefetchSchemas,
  uncachedSchemaIds,
  type Deletion,
} from '../input/codec.js';
import { answerDeletion } from '../input/deletion-answer.js';
import { canonicalList } from '../input/reconcile.js';
import { readToEnd } from '../kafka/reader.js';
import type { SchemaRegistryClient } from '../kafka/registry.js';
import { Progress, type ProgressStream } from './progress.js';

export interface VerifyOptions {
  /** Compare with this snapshot file instead of the published topic. */
  readonly snapshot?: string;
  readonly timeoutMs?: number;
  /** Where progress goes (default stderr). */
  readonly progress?: ProgressStream;
}

type Records = Map<number, KafkaMessage[]>;

/**
 * How much of the topics verify reads is read: by the offset each partition reached (a compacted
 * topic has gaps), against the offsets each held when verify started.
 */
export class ReadProgress {
  private readonly spans = new Map<string, { low: number; reached: number }>();
  private total = 0;
  private done = 0;
  private records = 0;

  constructor(private readonly bar: Progress) {}

  /** The partitions of `topic`, as the admin client reports them. */
  add(topic: string, offsets: readonly { partition: number; low: string; high: string }[]): void {
    for (const o of offsets) {
      const low = Number(o.low);
      this.spans.set(`${topic}/${o.partition}`, { low, reached: low });
      this.total += Math.max(0, Number(o.high) - low);
    }
  }

  /** A record at `offset` was read. */
  read(topic: string, partition: number, offset: number): void {
    this.records++;
    const s = this.spans.get(`${topic}/${partition}`);
    if (s && offset + 1 > s.reached) {
      this.done += offset + 1 - s.reached;
      s.reached = offset + 1;
    }
    this.bar.update(this.records, this.total > 0 ? Math.min(1, this.done / this.total) : undefined);
  }

  end(): void {
    this.bar.done(this.records);
  }
}

async function readAll(
  kafka: Kafka,
  topic: string,
  timeoutMs: number,
  progress: ReadProgress,
  below?: Map<number, number>,
): Promise<Records> {
  const out: Records = new Map();
  await readToEnd(
    kafka,
    topic,
    (m, partition) => {
      progress.read(topic, partition, Number(m.offset));
      const limit = below?.get(partition);
      if (below !== undefined && (limit === undefined || Number(m.offset) >= limit)) return;
      let list = out.get(partition);
      if (list === undefined) out.set(partition, (list = []));
      list.push(m);
    },
    { timeoutMs, groupPrefix: 'amnesia-verify' },
  );
  return out;
}

async function prefetch(records: Records, registry: SchemaRegistryClient | undefined): Promise<void> {
  const values = [...records.values()].flat().map((m) => m.value);
  await prefetchSchemas(uncachedSchemaIds(values, registry), registry);
}

/**
 * The state the inputs define: per user, each deletion request applies just before the user's
 * first interaction recorded after it (users never span partitions: the key is the user id).
 */
export function recompute(
  config: Config,
  interactions: Records,
  deletions: Records,
  registry: SchemaRegistryClient | undefined,
  progress?: Progress,
): Model {
  const model = new Model(config.model);
  const total = [...interactions.values()].reduce((n, list) => n + list.length, 0);
  let done = 0;
  const pending = new Map<string, { d: Deletion; at: number }[]>();
  for (const [partition, list] of deletions)
    for (const m of list) {
      // The service's own decision: carried out (with corrections) or rejected.
      const at = { topic: config.topics.deletions, partition, offset: m.offset };
      const a = answerDeletion(m, at, registry, config.input, undefined);
      if (!a.ok) continue; // REJECTED and dead-lettered by the service too
      const byUser = pending.get(a.deletion.userId) ?? [];
      byUser.push({ d: a.deletion, at: Number(m.timestamp) });
      pending.set(a.deletion.userId, byUser);
    }
  for (const byUser of pending.values()) byUser.sort((a, b) => a.at - b.at);
  const forgetUpTo = (userId: string, before: number) => {
    const byUser = pending.get(userId);
    while (byUser && byUser.length > 0 && byUser[0]!.at < before) model.forget(byUser.shift()!.d);
  };
  for (const list of interactions.values())
    for (const m of list) {
      const e = decodeInteraction(m, registry, config.input);
      progress?.update(++done, done / total);
      if (!e.ok) continue;
      forgetUpTo(e.value.userId, Number(m.timestamp));
      model.interaction(e.value);
    }
  for (const userId of pending.keys()) forgetUpTo(userId, Infinity);
  model.flush();
  progress?.done(total);
  return model;
}

export async function verify(
  kafka: Kafka,
  config: Config,
  registry: SchemaRegistryClient | undefined,
  options: VerifyOptions,
  out: (line: string) => void,
): Promise<number> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const reading = new ReadProgress(new Progress('verify: reading', 'records', options.progress));
  const read = [
    ...(options.snapshot ? [] : [config.topics.similarities]),
    config.topics.interactions,
    config.topics.deletions,
  ];
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (const topic of read) reading.add(topic, await admin.fetchTopicOffsets(topic));
  } finally {
    await admin.disconnect();
  }
  let limits: Map<string, Map<number, number>> | undefined;
  let target: Map<string, string>;
  let targetUsers: number | undefined;
  if (options.snapshot) {
    const snap = decodeSnapshot(await readFile(options.snapshot));
    limits = new Map();
    for (const o of snap.offsets) {
      const m = limits.get(o.topic) ?? new Map<number, number>();
      m.set(o.partition, o.offset);
      limits.set(o.topic, m);
    }
    const restored = Model.fromState(snap.state, config.model);
    target = new Map(restored.itemIds().map((i) => [i, canonicalList(restored.neighbors(i)!)]));
    targetUsers = restored.stats().users;
  } else {
    target = new Map();
    const values = await readAll(kafka, config.topics.similarities, timeoutMs, reading);
    for (const list of values.values())
      for (const m of list) {
        if (m.key === null) continue;
        const item = m.key.toString('utf8');
        if (m.value === null) target.delete(item);
        else {
          const v = await decodeAny(m.value, registry);
          target.set(item, v ? canonicalList(v as never) : '');
        }
      }
  }
  const interactions = await readAll(
    kafka,
    config.topics.interactions,
    timeoutMs,
    reading,
    limits?.get(config.topics.interactions) ?? (limits ? new Map() : undefined),
  );
  const deletions = await readAll(
    kafka,
    config.topics.deletions,
    timeoutMs,
    reading,
    limits?.get(config.topics.deletions) ?? (limits ? new Map() : undefined),
  );
  await prefetch(interactions, registry);
  await prefetch(deletions, registry);
  reading.end();
  const model = recompute(
    config,
    interactions,
    deletions,
    registry,
    new Progress('verify: recomputing', 'records', options.progress),
  );

  const differing: string[] = [];
  const expected = new Map(model.itemIds().map((i) => [i, canonicalList(model.neighbors(i)!)]));
  for (const [item, list] of expected) if (target.get(item) !== list) differing.push(item);
  for (const item of target.keys()) if (!expected.has(item)) differing.push(item);
  differing.sort();
  for (const item of differing.slice(0, 100))
    out(
      `differs: item ${JSON.stringify(item)} (${expected.has(item) ? (target.has(item) ? 'list' : 'missing') : 'should not exist'})`,
    );
  const usersDiffer = targetUsers !== undefined && targetUsers !== model.stats().users;
  const summary = {
    against: options.snapshot ? 'snapshot' : 'published',
    items: expected.size,
    compared: target.size,
    differing: differing.length,
    users: model.stats().users,
    ...(targetUsers !== undefined ? { snapshotUsers: targetUsers } : {}),
    identical: differing.length === 0 && !usersDiffer,
  };
  out(JSON.stringify(summary));
  return summary.identical ? 0 : 1;
}
