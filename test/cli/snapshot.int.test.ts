// `amnesia snapshot inspect <file>`: header and checksum of a real snapshot file; exit 1 if invalid.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { FORMAT_VERSION } from '../../src/state/format.js';
import { SnapshotStore } from '../../src/state/store.js';
import { sampleSnapshot } from '../helpers/snapshot-sample.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const run = promisify(execFile);
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function inspect(file: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'snapshot', 'inspect', file],
      {
        cwd: ROOT,
      },
    );
    return { code: 0, out: stdout };
  } catch (e) {
    const err = e as { code: number; stdout: string };
    return { code: err.code, out: err.stdout };
  }
}

describe('amnesia snapshot inspect', () => {
  it('prints the header of a valid snapshot and exits 0; a corrupted copy exits 1', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'amnesia-cli-'));
    dirs.push(dir);
    const store = new SnapshotStore({ dir, retain: 2, log: createLogger('silent') });
    await store.init();
    const w = await store.write(sampleSnapshot());
    const ok = await inspect(w.file.path);
    expect(ok.code).toBe(0);
    const header = JSON.parse(ok.out) as Record<string, unknown>;
    expect(header).toMatchObject({
      valid: true,
      formatVersion: FORMAT_VERSION,
      settings: { topK: 5, minCooccurrences: 1 },
      pendingPurges: 1,
    });
    expect(header.offsets).toEqual([
      { topic: 'interactions', partition: 0, offset: 42 },
      { topic: 'deletion-requests', partition: 0, offset: 1 },
    ]);
    expect(ok.out).not.toMatch(/user-/);

    const bad = path.join(dir, 'bad.amnesia');
    const bytes = Buffer.from(await readFile(w.file.path));
    bytes[bytes.length >> 1]! ^= 1;
    await writeFile(bad, bytes);
    const ko = await inspect(bad);
    expect(ko.code).toBe(1);
    expect(JSON.parse(ko.out)).toMatchObject({ valid: false, error: expect.stringMatching(/checksum/) });
  });
});
