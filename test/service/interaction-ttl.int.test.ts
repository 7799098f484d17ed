// INTERACTION_TTL_MS end to end through Kafka, in both modes (single: JSON in and out, with
// snapshots; partitioned: Avro in and out): ml-latest-small's ratings of users 1–80 from before 2001
// and from 2015 on, their times moved to the present (each block's order and spacing kept, squeezed
// into 20 s and 10 s) so that, with a TTL of 10 minutes, the old block expires while the test runs —
// part of it already on arrival, the rest by the checks (TTL_CHECK_MS) — and the new block stays for
// minutes. After the cutoff has passed the old block plus the stated bound, every published list
// equals the brute force of the new block alone, and the snapshots (single) or the users changelog
// (partitioned) hold nothing of the old block.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Service } from '../../src/service.js';
import { decodeSnapshot } from '../../src/state/format.js';
import { userToken } from '../../src/state/tombstone-key.js';
import { tempDirs } from '../helpers/files.js';
import { bruteForceLists, survivingHistory, type RefEvent } from '../helpers/oracle.js';
import {
  deleteInternalTopicsAfterAll,
  PARTITIONED_KEY,
  partitionedEnv,
  waitPartitionedProcessed,
} from '../helpers/partitioned.js';
import { expectListsEventually, harness, type Harness } from '../helpers/service.js';

const tempDir = tempDirs('amnesia-ttl');
const TTL_MS = 600_000;
const CHECK_MS = 500;
const OLD_BEFORE = Date.UTC(2001, 0, 1) / 1000;
const NEW_FROM = Date.UTC(2015, 0, 1) / 1000;
const K = 10;
/** How long after production the cutoff passes the end of the old block. */
const LEAD = 12_000;

interface Rating {
  readonly userId: string;
  readonly itemId: string;
  readonly ts: number;
}

async function ratings(): Promise<{ old: Rating[]; recent: Rating[] }> {
  const csv = await readFile('bench/data/ml-latest-small/ratings.csv', 'utf8');
  const old: Rating[] = [];
  const recent: Rating[] = [];
  for (const line of csv.split('\n').slice(1)) {
    const [u, m, , t] = line.split(',');
    if (u === undefined || m === undefined || t === undefined || Number(u) > 80) continue;
    const r = { userId: `u${u}`, itemId: `m${m}`, ts: Number(t) };
    if (r.ts < OLD_BEFORE) old.push(r);
    else if (r.ts >= NEW_FROM) recent.push(r);
  }
  return { old, recent };
}

/** A block's times mapped linearly onto [from, from + span] (epoch ms). */
function moved(block: readonly Rating[], from: number, span: number): RefEvent[] {
  const lo = Math.min(...block.map((r) => r.ts));
  const hi = Math.max(...block.map((r) => r.ts));
  return block.map((r) => ({
    userId: r.userId,
    itemId: r.itemId,
    action: 'ADD',
    occurredAt: Math.round(from + ((r.ts - lo) / (hi - lo)) * span),
  }));
}

/**
 * Produced now (P): the old block spans 20 s and ends at A = P − TTL + LEAD (the cutoff, now − TTL,
 * is LEAD before it, inside the block, and passes it LEAD later: what is read by then is applied and
 * expired by a check), the new block ends 5 s ago (the cutoff reaches it only minutes later).
 */
async function produceBlocks(h: Harness, svc: Service, format: 'json' | 'avro') {
  const { old, recent } = await ratings();
  const P = Date.now();
  const oldEvents = moved(old, P - TTL_MS + LEAD - 20_000, 20_000);
  const newEvents = moved(recent, P - 15_000, 10_000);
  const all = [...oldEvents, ...newEvents].sort(
    (a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0) || a.occurredAt - b.occurredAt,
  );
  await h.produceEvents(all, format, svc.schemaIds);
  const expectedH = survivingHistory(newEvents, []);
  return { P, oldEvents, expectedH, expected: bruteForceLists(expectedH, K, 1) };
}

async function expiredCounts(svc: Service): Promise<{ onArrival: number; checked: number }> {
  const v = async (c: Service['metrics']['interactionsExpired']) => (await c.get()).values[0]?.value ?? 0;
  return {
    onArrival: await v(svc.metrics.interactionsExpiredOnArrival),
    checked: await v(svc.metrics.interactionsExpired),
  };
}

/** Until the cutoff has passed the whole old block, plus TTL_CHECK_MS and a flush's margin. */
async function pastTheBound(P: number): Promise<void> {
  const due = P + LEAD + CHECK_MS + 2_000;
  await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
}

function sortedH(h: ReadonlyMap<string, ReadonlySet<string>>): [string, string[]][] {
  return [...h]
    .map(([u, s]): [string, string[]] => [u, [...s].sort()])
    .sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

describe('INTERACTION_TTL_MS end to end (ml-latest-small, part of it expiring)', () => {
  it('single mode, JSON: the lists are the brute force of what has not expired; no snapshot holds the rest', async () => {
    const h = await harness(3);
    const dir = await tempDir();
    const svc = await h.start({
      INTERACTION_TTL_MS: String(TTL_MS),
      TTL_CHECK_MS: String(CHECK_MS),
      TOP_K: String(K),
      OUTPUT_FORMAT: 'json',
      SNAPSHOT_DIR: dir,
      SNAPSHOT_INTERVAL_MS: '1000',
    });
    await svc.waitUntilReady(30_000);
    const { P, oldEvents, expectedH, expected } = await produceBlocks(h, svc, 'json');
    await h.waitProcessed();
    await pastTheBound(P);
    await expectListsEventually(h, expected, 30_000);
    const counts = await expiredCounts(svc);
    // Both ways of expiring ran, and between them every old rating went.
    expect(counts.onArrival).toBeGreaterThan(0);
    expect(counts.checked).toBeGreaterThan(0);
    expect(counts.onArrival + counts.checked).toBe(oldEvents.length);

    // The next snapshot holds only the new block, and the files before it are gone.
    await svc.snapshots!.snapshotNow();
    const files = (await readdir(dir)).filter((f) => f.endsWith('.amnesia'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const s = decodeSnapshot(await readFile(path.join(dir, f)));
      const held = new Map<string, Set<string>>();
      s.state.userIds.forEach((u, k) => {
        const items = Array.from(s.state.histories[k]!, (i) => s.state.itemNames[i]!);
        if (items.length > 0) held.set(u, new Set(items));
        for (const t of s.state.times![k]!) expect(t).toBeGreaterThanOrEqual(P - 15_000);
      });
      expect(sortedH(held), f).toEqual(sortedH(expectedH));
    }
    await svc.stop();
  }, 120_000);

  it('partitioned mode, Avro: the same lists; the users changelog holds nothing of the expired ratings', async () => {
    const h = await harness(2);
    deleteInternalTopicsAfterAll(h.groupId);
    const svc = await h.start(
      partitionedEnv({
        INTERACTION_TTL_MS: String(TTL_MS),
        TTL_CHECK_MS: String(CHECK_MS),
        TOP_K: String(K),
      }),
    );
    await svc.waitUntilReady(60_000);
    const { P, oldEvents, expectedH, expected } = await produceBlocks(h, svc, 'avro');
    await waitPartitionedProcessed(h.kafka, h.groupId, [h.topics.interactions, h.topics.deletions]);
    await pastTheBound(P);
    await expectListsEventually(h, expected, 60_000);
    const counts = await expiredCounts(svc);
    expect(counts.onArrival + counts.checked).toBe(oldEvents.length);

    // The changelog's compacted view: exactly the new block's (token, item) pairs, each with its time.
    const latest = new Map<string, string | null>();
    for (const r of await h.records(`${h.groupId}-users-changelog`))
      if (r.key !== null) latest.set(r.key, r.value?.toString('utf8') ?? null);
    const pairs: string[] = [];
    for (const [key, value] of latest) {
      if (!key.startsWith('h') || value === null) continue;
      const [token, item, , time] = JSON.parse(value) as [string, string, number, number];
      expect(time).toBeGreaterThanOrEqual(P - 15_000);
      pairs.push(`${token} ${item}`);
    }
    const want = [...expectedH].flatMap(([u, items]) =>
      [...items].map((i) => `${userToken(PARTITIONED_KEY, u)} ${i}`),
    );
    expect(pairs.sort()).toEqual(want.sort());
    await svc.stop();
  }, 180_000);
});
