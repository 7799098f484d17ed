// Temporary directories (removed after each test) and byte searches in them, for tests of what the
// service writes to disk.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';

/** A maker of temporary directories that are all removed after each test of the file. */
export function tempDirs(prefix: string): () => Promise<string> {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });
  return async () => {
    const d = await mkdtemp(path.join(os.tmpdir(), `${prefix}-`));
    dirs.push(d);
    return d;
  };
}

/**
 * Names of the files under dir whose bytes contain `needle`. A file that vanishes while it is read
 * (a snapshot's temporary file renamed or removed by the service) restarts the scan, so the answer is
 * one whole listing of the directory, never one missing the file it was renamed to.
 */
export async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const bytes = Buffer.from(needle, 'utf8');
  for (let attempt = 0; ; attempt++) {
    try {
      const out: string[] = [];
      for (const name of await readdir(dir)) {
        if ((await readFile(path.join(dir, name))).includes(bytes)) out.push(name);
      }
      return out;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 20) throw e;
    }
  }
}
