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

/** Names of the files under dir whose bytes contain `needle`. */
export async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readdir(dir)) {
    if ((await readFile(path.join(dir, name))).includes(Buffer.from(needle, 'utf8'))) out.push(name);
  }
  return out;
}
