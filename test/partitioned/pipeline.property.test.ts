// Property: the two stages of the partitioned mode, without Kafka — P user tables turn random adds,
// removes and forgets into deltas, Q item tables apply them in any interleaving of their source
// tasks, flushing at random points, and tasks move at random points (restored from their changelog,
// compacted or not, re-applying what they had not committed), and a chunk's deltas go in one record
// per partition or in many (groups of users). Whatever happens, the lists published
// by the item tables equal the brute-force top-K of the surviving events, and every deletion marker
// is acknowledged exactly once by every item partition.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildDeltas, decodeDelta, encodeDelta, type DeltaRecord } from '../../src/partitioned/deltas.js';
import { ItemPartitions, partitionOf, userToken } from '../../src/partitioned/ids.js';
import { ItemTable } from '../../src/partitioned/item-table.js';
import { UserTable, type ChangelogRecord } from '../../src/partitioned/user-table.js';
import { opArb, timedOpArb } from '../helpers/model-ops.js';
import { Reference, type RefList, type RefMeasure, type RefOp } from '../helpers/oracle.js';

const KEY = 'a-test-key-of-sixteen-chars-or-more';
const TOP_K = 3;
const MIN_COOC = 1;
const noPause = () => Promise.resolve();

/** A changelog partition: every record in order, and the compacted view (last value per key). */
class Changelog {
  readonly log: ChangelogRecord[] = [];
  write(records: readonly ChangelogRecord[]): void {
    this.log.push(...records);
  }
  /** What restore reads: the whole log, or what compaction leaves (latest per key, tombstones dropped). */
  read(compacted: boolean): ChangelogRecord[] {
    if (!compacted) return this.log;
    const last = new Map<string, string | null>();
    for (const r of this.log) {
      last.delete(r.key);
      last.set(r.key, r.value);
    }
    // Compaction keeps offsets in order: the surviving records, each at its last position.
    const positions = new Map<string, number>();
    this.log.forEach((r, k) => positions.set(r.key, k));
    return [...last]
      .filter(([, v]) => v !== null)
      .sort((a, b) => positions.get(a[0])! - positions.get(b[0])!)
      .map(([key, value]) => ({ key, value }));
  }
}

interface UserTask {
  table: UserTable;
  readonly changelog: Changelog;
  /** Inputs since the last flush (re-applied after a move). */
  uncommitted: RefOp[];
  nextMarker: number;
}

interface ItemTask {
  table: ItemTable;
  readonly changelog: Changelog;
  /** Per source task: records consumed but not committed (re-delivered after a move). */
  uncommitted: Map<number, DeltaRecord[]>;
}

const userOptions = (timed: boolean) => ({
  maxItemsPerUser: 1_000,
  dedupWindow: 0,
  tombstoneRetentionMs: 1e15,
  interactionTtlMs: timed ? 1 : 0,
});

async function simulate(
  ops: readonly RefOp[],
  P: number,
  Q: number,
  choices: () => number,
  compacted: boolean,
  groupItems: number,
  measure: RefMeasure,
  timed = false,
): Promise<void> {
  const parts = new ItemPartitions(Q);
  const ref = new Reference(Infinity, timed);
  // INTERACTION_TTL_MS: the cutoff every user task has reached (each expires at it; a moved task
  // expires at it right after its restore, as UserTask.endRestore does with now − TTL).
  let cutoff = -Infinity;
  const userTasks: UserTask[] = Array.from({ length: P }, () => ({
    table: new UserTable(userOptions(timed)),
    changelog: new Changelog(),
    uncommitted: [],
    nextMarker: 0,
  }));
  const itemOptions = (q: number) => ({
    partition: q,
    parts,
    topK: TOP_K,
    minCooccurrences: MIN_COOC,
    similarity: measure,
  });
  const itemTasks: ItemTask[] = Array.from({ length: Q }, (_, q) => ({
    table: new ItemTable(itemOptions(q)),
    changelog: new Changelog(),
    uncommitted: new Map(),
  }));
  // Delta partition q, per source task: records not yet consumed (FIFO per source).
  const queues: DeltaRecord[][][] = Array.from({ length: Q }, () => Array.from({ length: P }, () => []));
  const acks = new Map<string, number>();
  const issued: string[] = [];

  const applyUser = (t: UserTask, p: number, op: RefOp) => {
    if (op.kind === 'flush') return;
    if (op.kind === 'expire') {
      t.table.expireBefore(op.at);
      return;
    }
    const token = userToken(KEY, op.user);
    if (op.kind === 'forget') {
      const marker = t.nextMarker++;
      issued.push(`${p}/${marker}`);
      t.table.forget(token, op.at, marker);
    } else
      t.table.interaction(token, {
        itemId: op.item,
        action: op.kind === 'add' ? 'ADD' : 'REMOVE',
        occurredAt: op.at,
      });
  };
  const flushUser = (p: number) => {
    const t = userTasks[p]!;
    const { changes, changelog } = t.table.takeChunk();
    for (const [q, records] of buildDeltas(changes, parts, p, groupItems))
      for (const r of records) queues[q]![p]!.push(decodeDelta(encodeDelta(r)));
    t.changelog.write(changelog);
    t.uncommitted = [];
  };
  const moveUser = (p: number) => {
    const t = userTasks[p]!;
    const table = new UserTable(userOptions(timed));
    for (const r of t.changelog.read(compacted)) table.restore(r.key, r.value);
    table.endRestore();
    expect(table.restoreRefusal()).toBeUndefined();
    table.expireBefore(cutoff);
    t.table = table;
    // The markers of replayed deletions are issued again with the same offsets.
    const replay = t.uncommitted;
    t.nextMarker -= replay.filter((o) => o.kind === 'forget').length;
    for (const op of replay) {
      if (op.kind === 'forget') issued.pop();
    }
    for (const op of replay) applyUser(t, p, op);
  };
  const consume = (q: number) => {
    const sources = queues[q]!.map((list, p) => [p, list] as const).filter(([, l]) => l.length > 0);
    if (sources.length === 0) return;
    const [p, list] = sources[choices() % sources.length]!;
    const rec = list.shift()!;
    const t = itemTasks[q]!;
    t.table.apply(rec);
    const un = t.uncommitted.get(p) ?? [];
    un.push(rec);
    t.uncommitted.set(p, un);
  };
  const flushItem = async (q: number) => {
    const t = itemTasks[q]!;
    const result = await t.table.flush(noPause);
    t.changelog.write(result.changelog);
    for (const m of result.markers) {
      const k = `${m.origin}/${m.id}`;
      acks.set(k, (acks.get(k) ?? 0) + 1);
    }
    t.uncommitted = new Map();
  };
  const moveItem = async (q: number) => {
    const t = itemTasks[q]!;
    const table = new ItemTable(itemOptions(q));
    for (const r of t.changelog.read(compacted)) table.restore(r.key, r.value);
    await table.endRestore(noPause);
    expect(table.restoreRefusal()).toBeUndefined();
    expect(table.stats().bytes).toBe(table.recountBytes());
    t.table = table;
    for (const [p, recs] of t.uncommitted) queues[q]![p]!.unshift(...recs);
    t.uncommitted = new Map();
  };

  // Everything delivered and flushed: the published lists must be the brute-force ones.
  const sync = async () => {
    for (let p = 0; p < P; p++) flushUser(p);
    for (let q = 0; q < Q; q++) {
      while (queues[q]!.some((l) => l.length > 0)) consume(q);
      await flushItem(q);
    }
    const expected = ref.lists(TOP_K, MIN_COOC, measure);
    // The state size kept as the tables change is the one counted from scratch (memory guard).
    for (const [q, t] of itemTasks.entries())
      expect(t.table.stats().bytes, `state bytes of item partition ${q}`).toBe(t.table.recountBytes());
    const got = new Map<string, RefList>();
    for (const [q, t] of itemTasks.entries())
      for (const l of t.table.publishedLists()) {
        expect(parts.of(l.itemId), `owner of ${l.itemId}`).toBe(q);
        got.set(l.itemId, {
          itemId: l.itemId,
          interactions: l.interactions,
          neighbors: l.neighbors.map((x) => ({ ...x })),
        });
      }
    expect(new Map([...got].sort())).toEqual(new Map([...expected].sort()));
  };

  for (const op of ops) {
    if (op.kind === 'expire') {
      cutoff = op.at;
      ref.apply(op);
      for (const [p, t] of userTasks.entries()) {
        t.uncommitted.push(op);
        applyUser(t, p, op);
      }
    } else if (op.kind !== 'flush') {
      const p = partitionOf(op.user, P);
      ref.apply(op);
      userTasks[p]!.uncommitted.push(op);
      applyUser(userTasks[p]!, p, op);
    }
    // Random background work: chunk ends, deliveries, item flushes, moves, a full sync.
    const c = choices() % 12;
    if (op.kind === 'flush' || c === 0) flushUser(choices() % P);
    else if (c <= 5) consume(choices() % Q);
    else if (c === 6) await flushItem(choices() % Q);
    else if (c === 7) moveUser(choices() % P);
    else if (c === 8) await moveItem(choices() % Q);
    else if (c === 9) await sync();
  }
  await sync();
  for (const m of issued) expect(acks.get(m) ?? 0, `acks of marker ${m}`).toBe(Q);
  expect(acks.size).toBe(issued.length);
}

describe('the partitioned pipeline (user tables → deltas → item tables)', () => {
  it('with INTERACTION_TTL_MS, publishes the brute-force lists of what has not expired', async () => {
    await fc.assert(
      fc.asyncProperty(
        timedOpArb(7, 12),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.infiniteStream(fc.nat()),
        fc.boolean(),
        async (ops, P, Q, stream, compacted) => {
          const it = stream[Symbol.iterator]();
          await simulate(ops, P, Q, () => it.next().value as number, compacted, 6, 'jaccard', true);
        },
      ),
      { numRuns: 400 },
    );
  });

  for (const measure of ['jaccard', 'cosine'] as const)
    it(`publishes exactly the brute-force lists, whatever the interleaving, flushes and moves (${measure})`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(opArb(7, 12), { minLength: 1, maxLength: 120 }),
          fc.integer({ min: 1, max: 3 }),
          fc.integer({ min: 1, max: 4 }),
          fc.infiniteStream(fc.nat()),
          fc.boolean(),
          fc.constantFrom(1, 6, 12_000),
          async (ops, P, Q, stream, compacted, groupItems) => {
            const it = stream[Symbol.iterator]();
            await simulate(ops, P, Q, () => it.next().value as number, compacted, groupItems, measure);
          },
        ),
        { numRuns: 800 },
      );
    });
});
