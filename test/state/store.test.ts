// The snapshot store: atomic writes (mode 0600, no user id in names), newest-valid-first loading
// with corrupted files set aside, failed writes that leave the previous snapshot, retention, purge.
import * as fsp from 'node:fs/promises';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { Model } from '../../src/model/index.js';
import { SnapshotStore, type FsOps } from '../../src/state/store.js';
import { sampleModel, sampleSnapshot } from '../helpers/snapshot-sample.js';

const log = createLogger('silent');
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function store(extra: { retain?: number; fs?: FsOps } = {}) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'amnesia-snap-'));
  dirs.push(dir);
  const s = new SnapshotStore({ dir, retain: extra.retain ?? 2, log, ...(extra.fs ? { fs: extra.fs } : {}) });
  await s.init();
  return s;
}

const load = (s: SnapshotStore) => s.loadNewest((snap) => snap);

describe('snapshot store', () => {
  it('writes atomically with mode 0600 and a name without user ids; the newest loads', async () => {
    const s = await store();
    const a = await s.write({ ...sampleSnapshot(sampleModel(1)), createdAt: 1 });
    const b = await s.write({ ...sampleSnapshot(sampleModel(2)), createdAt: 2 });
    expect(b.file.sequence).toBeGreaterThan(a.file.sequence);
    expect(b.file.name).toMatch(/^snapshot-\d{12}-\d{13}\.amnesia$/);
    expect((await stat(b.file.path)).mode & 0o777).toBe(0o600);
    expect((await readdir(s.dir)).filter((n) => n.includes('.tmp'))).toEqual([]);
    expect((await load(s))?.file.name).toBe(b.file.name);
    expect(b.bytes).toBe((await readFile(b.file.path)).length);
  });

  for (const [what, damage] of [
    ['truncated', (b: Buffer) => b.subarray(0, b.length - 7)],
    ['one bit flipped', (b: Buffer) => (((b[b.length >> 1] as number) ^= 4), b)],
    ['unknown version', (b: Buffer) => (b.writeUInt32LE(7, 8), b)],
    ['wrong checksum', (b: Buffer) => (((b[b.length - 3] as number) ^= 0xff), b)],
  ] as const) {
    it(`a ${what} newest snapshot is set aside as .broken and the older one loads`, async () => {
      const s = await store();
      const older = await s.write({ ...sampleSnapshot(sampleModel(1)), createdAt: 1 });
      const newer = await s.write({ ...sampleSnapshot(sampleModel(2)), createdAt: 2 });
      await writeFile(newer.file.path, damage(Buffer.from(await readFile(newer.file.path))));
      const found = await load(s);
      expect(found?.file.name).toBe(older.file.name);
      const names = await readdir(s.dir);
      expect(names).toContain(`${newer.file.name}.broken`);
      expect(names).not.toContain(newer.file.name);
      // The older one restores into a working model.
      expect(Model.fromState(found!.value.state, { topK: 5 }).itemIds()).toEqual(sampleModel(1).itemIds());
    });
  }

  it('no valid snapshot: nothing loads (the caller rebuilds from the topics)', async () => {
    const s = await store();
    const only = await s.write(sampleSnapshot());
    await writeFile(only.file.path, Buffer.from('AMNESIA\0garbage'));
    expect(await load(s)).toBeUndefined();
  });

  for (const [step, failing] of [
    ['write (ENOSPC)', { open: 'write' }],
    ['fsync (EIO)', { open: 'sync' }],
    ['rename (EIO)', { rename: true }],
  ] as const) {
    it(`a failed ${step} leaves the previous snapshot and no temp file`, async () => {
      let fail = false;
      const err = (code: string) => Object.assign(new Error(`injected ${code}`), { code });
      const fs: FsOps = {
        ...fsp,
        open: async (...args: Parameters<typeof fsp.open>) => {
          const fh = await fsp.open(...args);
          if (fail && 'open' in failing) {
            const method = failing.open;
            (fh as unknown as Record<string, unknown>)[method] = () =>
              Promise.reject(err(method === 'write' ? 'ENOSPC' : 'EIO'));
          }
          return fh;
        },
        rename: (async (a: string, b: string) => {
          if (fail && 'rename' in failing) throw err('EIO');
          return fsp.rename(a, b);
        }) as typeof fsp.rename,
      };
      const s = await store({ fs });
      const first = await s.write({ ...sampleSnapshot(sampleModel(1)), createdAt: 1 });
      fail = true;
      await expect(s.write({ ...sampleSnapshot(sampleModel(2)), createdAt: 2 })).rejects.toThrow(
        /snapshot write failed/,
      );
      expect(await readdir(s.dir)).toEqual([first.file.name]);
      expect((await load(s))?.file.name).toBe(first.file.name);
    });
  }

  it('keeps SNAPSHOT_RETAIN snapshots; a purge deletes everything older than the newest', async () => {
    const s = await store({ retain: 2 });
    const written = [];
    for (let k = 1; k <= 4; k++) {
      const w = await s.write({ ...sampleSnapshot(sampleModel(k)), createdAt: k });
      await s.prune(w.file);
      written.push(w.file.name);
    }
    expect((await readdir(s.dir)).sort()).toEqual(written.slice(2));
    await writeFile(path.join(s.dir, 'snapshot-000000000001-0000000000001.amnesia.broken'), 'x');
    const last = await s.write({ ...sampleSnapshot(sampleModel(5)), createdAt: 5 });
    expect(await s.purgeOlderThan(last.file)).toBe(3);
    expect(await readdir(s.dir)).toEqual([last.file.name]);
  });

  it('removes temp files of interrupted writes at start and continues the sequence', async () => {
    const s = await store();
    const w = await s.write(sampleSnapshot());
    await writeFile(path.join(s.dir, `.snapshot-000000000009-0000000000001.amnesia.tmp`), 'partial');
    const again = new SnapshotStore({ dir: s.dir, retain: 2, log });
    await again.init();
    expect(await readdir(s.dir)).toEqual([w.file.name]);
    const next = await again.write(sampleSnapshot());
    expect(next.file.sequence).toBe(w.file.sequence + 1);
  });
});
