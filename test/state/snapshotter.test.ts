// The snapshot schedule's PURGED rule: a forgotten user's PURGED receipt goes out only once this
// disk holds no snapshot older than the forget AND every other replica has confirmed it holds none;
// a standby deletes every snapshot it has.
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDirs } from '../helpers/files.js';
import { createLogger } from '../../src/log.js';
import type { PendingPurge } from '../../src/state/format.js';
import { Snapshotter, type SnapshotSource } from '../../src/state/snapshotter.js';
import { SnapshotStore } from '../../src/state/store.js';
import { ConfigError } from '../../src/errors.js';
import { sampleModel, sampleSnapshot } from '../helpers/snapshot-sample.js';

const log = createLogger('silent');
const tempDir = tempDirs('amnesia-snapshotter');

async function snapshotter(mayWrite?: () => boolean) {
  const dir = await tempDir();
  const s = new Snapshotter({
    store: new SnapshotStore({ dir, retain: 2, log }),
    intervalMs: 3_600_000,
    log,
    ...(mayWrite ? { mayWrite } : {}),
  });
  await s.init();
  const published: PendingPurge[][] = [];
  let othersClean = false;
  const model = sampleModel(3);
  const source: SnapshotSource = {
    atBoundary: (take) =>
      Promise.resolve(take(() => model.exportState(), [{ topic: 'in', partition: 0, offset: 5 }])),
    publishPurged: (p) => {
      published.push([...p]);
      return Promise.resolve();
    },
    othersHoldNoSnapshots: () => Promise.resolve(othersClean),
  };
  s.start(source);
  return { s, dir, published, setOthersClean: (v: boolean) => (othersClean = v) };
}

const purge: PendingPurge = { requestId: 'r-1', interactionsRemoved: 2, itemsAffected: 2, recordMs: 1 };

describe('PURGED receipts', () => {
  it('wait for every other replica to confirm a clean disk, then go out once', async () => {
    const { s, dir, published, setOthersClean } = await snapshotter();
    await s.snapshotNow();
    s.noteForgotten(purge);
    await s.snapshotNow();
    expect((await readdir(dir)).filter((n) => n.endsWith('.amnesia'))).toHaveLength(1); // older one purged
    expect(published).toEqual([]); // the other replicas have not confirmed
    setOthersClean(true);
    await new Promise((r) => setTimeout(r, 1_300));
    expect(published).toEqual([[purge]]);
    await s.snapshotNow();
    expect(published).toHaveLength(1);
    await s.stop();
  });

  it('after interactions expired (INTERACTION_TTL_MS), the next snapshot deletes every older file', async () => {
    const { s, dir, published } = await snapshotter();
    const files = async () => (await readdir(dir)).filter((n) => n.endsWith('.amnesia'));
    await s.snapshotNow();
    await s.snapshotNow();
    expect(await files()).toHaveLength(2); // SNAPSHOT_RETAIN
    s.noteExpired();
    await s.snapshotNow();
    expect(await files()).toHaveLength(1);
    await s.snapshotNow();
    expect(await files()).toHaveLength(2); // once only: then the retention again
    expect(published).toEqual([]);
    await s.stop();
  });

  it('a standby deletes every snapshot and forgets what was pending', async () => {
    const { s, dir, published, setOthersClean } = await snapshotter();
    await s.snapshotNow();
    await writeFile(path.join(dir, 'snapshot-000000000009-1700000000000.amnesia.broken'), 'x');
    s.noteForgotten(purge);
    expect(await s.dropAll()).toBe(2);
    expect(await readdir(dir)).toEqual([]);
    setOthersClean(true);
    await s.stop();
    expect(published).toEqual([]);
  });
});

describe('a snapshot-holder lease that lapsed (a paused ex-active resumes)', () => {
  // While the lease was lapsed another instance may have published PURGED: a snapshot of this
  // state (which may still hold the forgotten user) must not appear on disk afterwards.
  const files = async (dir: string) => (await readdir(dir)).filter((n) => n.endsWith('.amnesia'));

  it('no snapshot is written while the lease is not held, and what was pending stays pending', async () => {
    let held = true;
    const { s, dir, published, setOthersClean } = await snapshotter(() => held);
    await s.snapshotNow();
    expect(await files(dir)).toHaveLength(1);
    held = false;
    s.noteForgotten(purge);
    await s.snapshotNow();
    expect(await files(dir)).toHaveLength(1); // the old one only: renewal (onLeaseLost) deletes it
    held = true;
    setOthersClean(true);
    await s.snapshotNow(); // the purge went with the next snapshot written
    await new Promise((r) => setTimeout(r, 1_300));
    expect(published).toEqual([[purge]]);
    await s.stop();
  });

  it('an expiry noted before a snapshot that was not written still purges the older files with the next one', async () => {
    let held = true;
    const { s, dir } = await snapshotter(() => held);
    await s.snapshotNow();
    const [older] = await files(dir);
    held = false;
    s.noteExpired();
    await s.snapshotNow(); // not written: the expiry waits for the next one
    held = true;
    await s.snapshotNow();
    const now = await files(dir);
    expect(now).toHaveLength(1);
    expect(now).not.toContain(older);
    await s.stop();
  });

  it('a snapshot written while the lease lapsed is deleted at once, with every other', async () => {
    let asked = 0;
    // Held when asked before the write, lapsed when asked after it.
    const { s, dir } = await snapshotter(() => asked++ % 2 === 0);
    await s.snapshotNow();
    expect(await files(dir)).toEqual([]);
    await s.stop();
  });
});

describe('PURGED after a crash', () => {
  it('a pending PURGED the snapshot carries is dropped when the receipts topic has it already', async () => {
    // Crash after PURGED went out, before a snapshot recorded it: the restored snapshot still lists
    // it. The rebuild reads the receipts topic and drops it (rebuild.ts), so it is not sent twice.
    const dir = await tempDir();
    const store = new SnapshotStore({ dir, retain: 2, log });
    await store.init();
    await store.write(sampleSnapshot()); // pending: dsr-1
    const s = new Snapshotter({ store: new SnapshotStore({ dir, retain: 2, log }), intervalMs: 1e6, log });
    await s.init();
    await s.restore((snap) => snap);
    s.noteForgotten(purge); // r-1: not on the topic yet
    s.dropPending((id) => id === 'dsr-1');
    const published: PendingPurge[][] = [];
    const model = sampleModel(3);
    s.start({
      atBoundary: (take) =>
        Promise.resolve(take(() => model.exportState(), [{ topic: 'in', partition: 0, offset: 5 }])),
      publishPurged: (p) => {
        published.push([...p]);
        return Promise.resolve();
      },
      othersHoldNoSnapshots: () => Promise.resolve(true),
    });
    await s.snapshotNow();
    expect(published.flat().map((p) => p.requestId)).toEqual(['r-1']);
    await s.stop();
  });
});

describe('the similarity a snapshot was written under', () => {
  async function written(settings: object): Promise<string> {
    const dir = await tempDir();
    const store = new SnapshotStore({ dir, retain: 2, log });
    await store.init();
    const s = sampleSnapshot();
    await store.write({ ...s, state: { ...s.state, settings: { ...s.state.settings, ...settings } } });
    return dir;
  }
  const restoreUnder = async (dir: string, similarity: 'jaccard' | 'cosine') => {
    const s = new Snapshotter({
      store: new SnapshotStore({ dir, retain: 2, log }),
      intervalMs: 1e6,
      log,
      similarity,
    });
    await s.init();
    return s.restore((snap) => snap);
  };

  it('is recorded in the header: a file of one measure is refused under the other, naming SIMILARITY, and kept', async () => {
    const dir = await written({ similarity: 'jaccard' });
    expect((await restoreUnder(dir, 'jaccard'))?.value.state.settings.similarity).toBe('jaccard');
    const e = await restoreUnder(dir, 'cosine').then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).variable).toBe('SIMILARITY');
    expect((e as Error).message).toMatch(
      /written with SIMILARITY=jaccard.*configured with SIMILARITY=cosine/,
    );
    expect((await readdir(dir)).filter((n) => n.endsWith('.broken'))).toEqual([]);
  });

  it('is jaccard for a file written before the setting existed', async () => {
    const dir = await written({ similarity: undefined });
    expect(await restoreUnder(dir, 'jaccard')).toBeDefined();
    await expect(restoreUnder(dir, 'cosine')).rejects.toThrow(/SIMILARITY=jaccard/);
  });

  it('refuses a measure this build does not know', async () => {
    const dir = await written({ similarity: 'lift' });
    await expect(restoreUnder(dir, 'jaccard')).rejects.toThrow(/SIMILARITY=lift/);
  });
});
