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
 * Every file under dir with its bytes, as one whole listing: a file that vanishes while it is read (a
 * snapshot's temporary file renamed or removed by the running service) restarts the read, so the
 * answer never misses the file it was renamed to.
 */
export async function filesIn(dir: string): Promise<{ name: string; bytes: Buffer }[]> {
  for (let attempt = 0; ; attempt++) {
    try {
      const out: { name: string; bytes: Buffer }[] = [];
      for (const name of await readdir(dir)) out.push({ name, bytes: await readFile(path.join(dir, name)) });
      return out;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 20) throw e;
    }
  }
}

/** Names of the files under dir whose bytes contain `needle` (one whole listing, as filesIn). */
export async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const bytes = Buffer.from(needle, 'utf8');
  return (await filesIn(dir)).filter((f) => f.bytes.includes(bytes)).map((f) => f.name);
}
