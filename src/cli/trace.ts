// `amnesia trace --user <id>`: the forgetting audit an operator runs, in either mode. Searches every
// record Kafka still serves (read_uncommitted: aborted transactions too) in the topics the service
// writes — lists, receipts, progress, the DLQs and, in MODE=partitioned, its internal topics — and,
// with a snapshot directory, every file in it, for the user's id bytes and (with the tombstone key)
// what the service derives from it: the user token, the keyed hashes of the user's (user, item)
// changelog keys and eventIds, found from the user's records in the input topics. Prints where each
// trace is and whether the contract allows it — the input topics (the producers' data), the DLQ
// within its retention, the user stage's tombstone for TOMBSTONE_RETENTION_MS — never the id itself.
// Exit 0 when nothing else was found, 1 otherwise.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Kafka, KafkaMessage } from 'kafkajs';
import type { Config } from '../config.js';
import { decodeInteraction } from '../input/codec.js';
import type { SchemaRegistryClient } from '../kafka/registry.js';
import { readToEnd } from '../kafka/reader.js';
import { dlqTopic } from '../kafka/topics.js';
import { pairHash } from '../partitioned/ids.js';
import { partitionedNames } from '../partitioned/topics.js';
import { eventToken } from '../partitioned/route.js';
import { KEY_FILE, userToken } from '../state/tombstone-key.js';

export interface TraceOptions {
  readonly userId: string;
  /** A single instance's SNAPSHOT_DIR to search too (default: the configured one). */
  readonly snapshotDir?: string | undefined;
  readonly timeoutMs?: number;
}

/** One place a trace of the user was found. */
export interface Trace {
  readonly where: string;
  /** What was found: the id's bytes, the token, a pair key, an eventId hash. */
  readonly what: 'id' | 'token' | 'pair key' | 'event hash';
  /** Why the contract allows it, or undefined: it should not be there. */
  readonly allowed?: string;
}

interface Needles {
  readonly id: Buffer;
  readonly token?: Buffer;
  readonly derived: Map<string, Trace['what']>;
}

function find(n: Needles, bytes: Buffer): Trace['what'] | undefined {
  if (bytes.includes(n.id)) return 'id';
  if (n.token && bytes.includes(n.token)) return 'token';
  for (const [s, what] of n.derived) if (bytes.includes(s)) return what;
  return undefined;
}

const bytesOf = (m: KafkaMessage): Buffer =>
  Buffer.concat([
    m.key ?? Buffer.alloc(0),
    Buffer.from([0]),
    m.value ?? Buffer.alloc(0),
    ...Object.values(m.headers ?? {}).flatMap((h) =>
      (Array.isArray(h) ? h : [h]).map((v) => (Buffer.isBuffer(v) ? v : Buffer.from(String(v ?? '')))),
    ),
  ]);

async function listTopics(kafka: Kafka): Promise<Set<string>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return new Set(await admin.listTopics());
  } finally {
    await admin.disconnect();
  }
}

/** The user's items and eventIds, from their records in the interactions topic (for derived keys). */
async function userRecords(
  kafka: Kafka,
  config: Config,
  registry: SchemaRegistryClient | undefined,
  userId: string,
  timeoutMs: number,
): Promise<{ items: Set<string>; eventIds: Set<string> }> {
  const items = new Set<string>();
  const eventIds = new Set<string>();
  await readToEnd(
    kafka,
    config.topics.interactions,
    (m) => {
      const d = decodeInteraction(m, registry, config.input);
      if (!d.ok || d.value.userId !== userId) return;
      items.add(d.value.itemId);
      if (d.value.eventId !== undefined) eventIds.add(d.value.eventId);
    },
    { timeoutMs, groupPrefix: 'amnesia-trace' },
  );
  return { items, eventIds };
}

export async function trace(
  kafka: Kafka,
  config: Config,
  registry: SchemaRegistryClient | undefined,
  options: TraceOptions,
  print: (line: string) => void,
): Promise<number> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const t = config.topics;
  const snapshotDir = options.snapshotDir ?? config.snapshot.dir;
  let key = config.model.tombstoneKey;
  if (key === undefined && snapshotDir !== undefined)
    key = (await readFile(path.join(snapshotDir, KEY_FILE), 'utf8').catch(() => '')).trim() || undefined;
  const derived = new Map<string, Trace['what']>();
  let token: string | undefined;
  if (key !== undefined) {
    token = userToken(key, options.userId);
    const { items, eventIds } = await userRecords(kafka, config, registry, options.userId, timeoutMs);
    for (const item of items) derived.set(`h${pairHash(token, item)}`, 'pair key');
    for (const e of eventIds) derived.set(eventToken(key, e), 'event hash');
  } else print('no TOMBSTONE_KEY (nor a key file in the snapshot directory): searching for the id only');
  const needles: Needles = {
    id: Buffer.from(options.userId, 'utf8'),
    ...(token ? { token: Buffer.from(token) } : {}),
    derived,
  };

  const found: Trace[] = [];
  const dlqRetention = 'the DLQ keeps the original record for its retention (docs/contract.md)';
  const topics: { topic: string; allowed?: (m: KafkaMessage) => string | undefined }[] = [
    { topic: t.interactions, allowed: () => "an input topic: the producers' data, under their retention" },
    { topic: t.deletions, allowed: () => "an input topic: the producers' data, under their retention" },
    { topic: dlqTopic(t.interactions), allowed: () => dlqRetention },
    { topic: dlqTopic(t.deletions), allowed: () => dlqRetention },
    { topic: t.similarities },
    { topic: t.receipts },
    { topic: t.progress },
  ];
  if (config.mode === 'partitioned') {
    const names = partitionedNames(config);
    const tombstone = (m: KafkaMessage) =>
      m.key?.toString('utf8').startsWith('t') === true && m.value !== null
        ? 'the tombstone that drops late events (a keyed hash and the request time), for TOMBSTONE_RETENTION_MS'
        : undefined;
    topics.push(
      { topic: names.usersChangelog, allowed: tombstone },
      { topic: names.itemsChangelog },
      { topic: names.deltas },
      { topic: names.acks },
      { topic: names.usersRepartition },
    );
  }
  const existing = await listTopics(kafka);
  for (const { topic, allowed } of topics) {
    if (!existing.has(topic)) continue;
    await readToEnd(
      kafka,
      topic,
      (m, partition) => {
        // A compacted-away pair leaves a tombstone with its hashed key: no value, nothing of the user.
        const what = find(needles, bytesOf(m));
        if (what === undefined || (what === 'pair key' && m.value === null)) return;
        const why = allowed?.(m);
        found.push({ where: `${topic}[${partition}]@${m.offset}`, what, ...(why ? { allowed: why } : {}) });
      },
      { timeoutMs, groupPrefix: 'amnesia-trace', readUncommitted: true },
    );
  }
  if (snapshotDir !== undefined) {
    const files = await readdir(snapshotDir).catch(() => [] as string[]);
    for (const f of files) {
      if (f === KEY_FILE) continue;
      const what = find(needles, await readFile(path.join(snapshotDir, f)));
      if (what) found.push({ where: `${snapshotDir}/${f}`, what });
    }
  }
  for (const f of found)
    print(
      `${f.allowed ? 'allowed ' : 'FOUND   '} ${f.where}: ${f.what}${f.allowed ? ` (${f.allowed})` : ''}`,
    );
  const unexpected = found.filter((f) => f.allowed === undefined).length;
  print(
    JSON.stringify({
      searched: topics.map((x) => x.topic).concat(snapshotDir ? [snapshotDir] : []),
      found: found.length,
      unexpected,
      token: token !== undefined,
    }),
  );
  return unexpected === 0 ? 0 : 1;
}
