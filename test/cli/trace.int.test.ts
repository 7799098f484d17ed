// `amnesia trace --user`: the forgetting audit an operator runs. MODE=partitioned (the most places a
// user can leave traces: its changelogs, deltas, acks and routed records), events with eventIds:
// before the forget it finds the user (token, pair keys, event hashes) where the service keeps
// them; after PURGED it finds them only where the contract allows (the input topics, the users
// changelog's tombstone) and exits 0.
import type { Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { trace } from '../../src/cli/trace.js';
import { scenario } from '../helpers/generator.js';
import { waitFor } from '../helpers/kafka.js';
import {
  deleteInternalTopicsAfterAll,
  partitionedEnv,
  waitPartitionedProcessed,
} from '../helpers/partitioned.js';
import { tempDirs } from '../helpers/files.js';
import { harness } from '../helpers/service.js';

const tempDir = tempDirs('amnesia-trace');

/** `amnesia trace --user` as the CLI runs it: its exit code and printed lines. */
async function runTrace(kafka: Kafka, config: Config, userId: string) {
  const lines: string[] = [];
  const code = await trace(kafka, config, undefined, { userId, timeoutMs: 60_000 }, (l) => lines.push(l));
  return { code, lines };
}

describe('amnesia trace --user', () => {
  it('finds what the service keeps of a user, and after PURGED only what the contract allows', async () => {
    const h = await harness(2);
    deleteInternalTopicsAfterAll(h.groupId);
    const env = partitionedEnv({ TOP_K: '5' });
    const s = scenario({ seed: 53, users: 15, items: 12, events: 200, forget: 0 });
    const user = 'trace-me@example.org';
    const mine = ['i1', 'i2', 'i3'].map((itemId, k) => ({
      userId: user,
      itemId,
      action: 'ADD' as const,
      occurredAt: s.before[0]!.occurredAt + k,
      eventId: `evt-${k}`,
    }));
    const svc = await h.start(env);
    await svc.waitUntilReady(60_000);
    await h.produceEvents([...s.before, ...mine], 'json');
    await waitPartitionedProcessed(h.kafka, h.groupId, [h.topics.interactions]);
    const config = h.config(env);
    const run = () => runTrace(h.kafka, config, user);

    const before = await run();
    expect(before.code).toBe(1);
    const found = before.lines.filter((l) => l.startsWith('FOUND'));
    expect(found.some((l) => l.includes(`${h.groupId}-users-changelog`))).toBe(true);
    expect(found.some((l) => l.includes(`${h.groupId}-items-changelog`))).toBe(true);
    expect(before.lines.join('\n')).not.toContain(user); // never prints the id

    await h.produceDeletions(
      [{ requestId: 'trace-1', userId: user, requestedAt: mine[2]!.occurredAt + 1 }],
      'json',
    );
    await waitFor(async () => (await h.receipts()).get('trace-1')?.status === 'PURGED' || undefined, 90_000);
    await waitPartitionedProcessed(h.kafka, h.groupId, [h.topics.interactions, h.topics.deletions]);
    const after = await run();
    expect(after.lines.filter((l) => l.startsWith('FOUND'))).toEqual([]);
    expect(after.code).toBe(0);
    const allowed = after.lines.filter((l) => l.startsWith('allowed'));
    expect(allowed.some((l) => l.includes(`${h.topics.interactions}[`))).toBe(true);
    await svc.stop();
  }, 240_000);

  it('single mode: finds the user in a snapshot until PURGED, then nowhere the contract forbids', async () => {
    const h = await harness(2);
    const dir = await tempDir();
    const env = { SNAPSHOT_DIR: dir, SNAPSHOT_INTERVAL_MS: '1000' };
    const user = 'trace-me-too@example.org';
    const s = scenario({ seed: 59, users: 10, items: 8, events: 100, forget: 0 });
    const svc = await h.start(env);
    await svc.waitUntilReady(30_000);
    await h.produceEvents(
      [...s.before, { userId: user, itemId: 'i1', action: 'ADD', occurredAt: s.before[0]!.occurredAt }],
      'json',
    );
    await h.waitProcessed();
    const config = h.config(env);
    const run = () => runTrace(h.kafka, config, user);
    await waitFor(async () => ((await run()).code === 1 ? true : undefined), 30_000);
    const before = await run();
    expect(before.lines.some((l) => l.startsWith('FOUND') && l.includes(dir) && l.endsWith(': id'))).toBe(
      true,
    );
    await h.produceDeletions([{ requestId: 'trace-2', userId: user }], 'json');
    await waitFor(async () => (await h.receipts()).get('trace-2')?.status === 'PURGED' || undefined, 60_000);
    const after = await run();
    expect(after.lines.filter((l) => l.startsWith('FOUND'))).toEqual([]);
    expect(after.code).toBe(0);
    await svc.stop();
  }, 120_000);
});
