// Crash recovery: the service process is SIGKILLed again and again — during ingestion, between
// batches, and at every step of a snapshot write (AMNESIA_FAULT=snapshot:<step>) — and restarted each
// time from its snapshot directory. In the end the published lists equal the brute-force top-K of
// the surviving events, no forgotten user is back, and no file on disk holds a forgotten user's id.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { filesIn } from '../helpers/files.js';
import { waitFor } from '../helpers/kafka.js';
import { isLive, killChildren, runService } from '../helpers/process.js';
import { expectListsEventually, harness, type Harness } from '../helpers/service.js';
import { bruteForceLists, survivingHistory, type RefEvent } from '../helpers/oracle.js';
import { rng } from '../helpers/generator.js';

const dirs: string[] = [];
afterAll(async () => {
  killChildren();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const run = runService;

/** Waits until `groupId` has committed both input topics to their end. */
async function waitCommitted(h: Harness, groupId: string): Promise<void> {
  const admin = h.kafka.admin();
  await admin.connect();
  try {
    await waitFor(async () => {
      for (const topic of [h.topics.interactions, h.topics.deletions]) {
        const ends = await h.endOffsets(topic);
        const [c] = await admin.fetchOffsets({ groupId, topics: [topic] });
        for (const p of c!.partitions) if (Number(p.offset) < (ends[p.partition] ?? 0)) return undefined;
      }
      return true;
    }, 30_000);
  } finally {
    await admin.disconnect();
  }
}

const MODES = [
  'ingest',
  'snapshot:after-temp-write',
  'snapshot:after-fsync',
  'between-batches',
  'snapshot:after-rename',
  'ingest',
  'snapshot:after-dir-fsync',
  'snapshot:after-purge',
  'between-batches',
  'snapshot:after-rename',
  'ingest',
  'snapshot:after-temp-write',
] as const;

describe('crash recovery', () => {
  it('SIGKILL at random moments and at every step of a snapshot write: exact lists, nobody forgotten comes back', async () => {
    const h = await harness(2);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'amnesia-crash-'));
    dirs.push(dir);
    const tag = randomUUID().slice(0, 8);
    const user = (u: number) => `user-${u}-${tag}`;
    const c = h.config();
    const env = (k: number, extra: Record<string, string> = {}) => ({
      KAFKA_BROKERS: c.kafka.brokers.join(','),
      SCHEMA_REGISTRY_URL: c.registry!.url,
      // A fresh group per run: the dead member never holds the partitions, and the group's
      // commits play no part (the snapshot is the truth).
      KAFKA_GROUP_ID: `${h.prefix}-g${k}`,
      INTERACTIONS_TOPIC: h.topics.interactions,
      DELETIONS_TOPIC: h.topics.deletions,
      SIMILARITIES_TOPIC: h.topics.similarities,
      RECEIPTS_TOPIC: h.topics.receipts,
      OUTPUT_FORMAT: 'json',
      SNAPSHOT_DIR: dir,
      SNAPSHOT_INTERVAL_MS: '1000',
      BATCH_MAX_EVENTS: '50',
      HTTP_PORT: '0',
      LOG_LEVEL: 'info',
      ...extra,
    });

    const rand = rng(99);
    const events: RefEvent[] = [];
    const deletions: { requestId: string; userId: string; requestedAt: number }[] = [];
    const forgotten = new Set<number>();
    let t = 1_700_000_000_000;
    const chunk = (size: number): RefEvent[] => {
      const out: RefEvent[] = [];
      while (out.length < size) {
        const u = Math.floor(rand() * 40);
        if (forgotten.has(u)) continue;
        const item = `i${Math.floor(Math.pow(rand(), 2) * 25)}`;
        out.push({ userId: user(u), itemId: item, action: rand() < 0.1 ? 'REMOVE' : 'ADD', occurredAt: t++ });
      }
      events.push(...out);
      return out;
    };
    const forgetOne = async (): Promise<void> => {
      const u = [...new Set(events.map((e) => e.userId))]
        .map((id) => Number(id.split('-')[1]))
        .find((x) => !forgotten.has(x))!;
      forgotten.add(u);
      const d = { requestId: `dsr-${tag}-${u}`, userId: user(u), requestedAt: t++ };
      deletions.push(d);
      await h.produceDeletions([d], 'json');
    };

    const restoredRuns: string[] = [];
    for (let k = 0; k < MODES.length; k++) {
      const mode = MODES[k]!;
      await h.produceEvents(chunk(120), 'json');
      if (k % 2 === 1 || mode === 'snapshot:after-purge') await forgetOne();
      if (mode.startsWith('snapshot:')) {
        const p = run(env(k, { AMNESIA_FAULT: mode }));
        const { signal } = await p.exited;
        expect(signal, `${mode}: ${p.lines.slice(-3).join('\n')}`).toBe('SIGKILL');
        if (p.lines.some((l) => l.includes('"msg":"snapshot found"'))) restoredRuns.push(mode);
        continue;
      }
      const p = run(env(k));
      await waitFor(() => isLive(p), 60_000);
      if (p.lines.some((l) => l.includes('"msg":"snapshot found"'))) restoredRuns.push(mode);
      if (mode === 'ingest') {
        const more = h.produceEvents(chunk(300), 'json');
        await new Promise((r) => setTimeout(r, 50 + Math.floor(rand() * 400)));
        p.child.kill('SIGKILL');
        await more;
      } else {
        await waitCommitted(h, `${h.prefix}-g${k}`);
        p.child.kill('SIGKILL');
      }
      await p.exited;
    }
    // Most runs started from a snapshot written by an earlier, killed run.
    expect(restoredRuns.length).toBeGreaterThanOrEqual(MODES.length / 2);

    const final = run(env(MODES.length));
    await waitFor(() => isLive(final), 60_000).catch((e: Error) => {
      const tail = final.lines.filter((l) => !l.includes('"level":20')).slice(-20);
      throw new Error(`${e.message}; last log lines:\n${tail.join('\n')}`);
    });
    await waitCommitted(h, `${h.prefix}-g${MODES.length}`);
    await expectListsEventually(h, bruteForceLists(survivingHistory(events, deletions), 20, 1));
    // Every request ends PURGED, and then no file holds any forgotten user.
    await waitFor(async () => {
      const r = await h.receipts();
      return deletions.every((d) => r.get(d.requestId)?.status === 'PURGED') ? true : undefined;
    }, 20_000);
    for (const { name, bytes } of await filesIn(dir)) {
      for (const d of deletions)
        expect(bytes.includes(Buffer.from(d.userId)), `${d.userId} in ${name}`).toBe(false);
    }
    final.child.kill('SIGTERM');
    expect((await final.exited).code).toBe(0);
  }, 180_000);
});
