// Snapshot files in SNAPSHOT_DIR: atomic writes, newest-valid-first loading, retention and purge.
//
// A write goes to a temp file in the same directory (mode 0600), is fsynced, renamed into place and
// the directory fsynced: a crash at any step leaves either the previous files or the new one, never a
// partial file under a snapshot name. A failed write (ENOSPC, EIO...) removes its temp file and
// leaves the previous snapshots as they were. Names carry a sequence and the creation time, never a
// user id: `snapshot-<sequence>-<epoch ms>.amnesia`. An invalid file is renamed `*.broken` and the
// next older one tried. Temp and broken files may hold personal data: they are removed at start
// (temp) and by every purge (both).

import * as nodeFs from 'node:fs/promises';
import path from 'node:path';
import { AmnesiaError, describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { decodeSnapshot, encodeSnapshot, SnapshotError, type Snapshot } from './format.js';

const NAME = /^snapshot-(\d{12})-(\d{13})\.amnesia$/;
const BROKEN = /^snapshot-(\d{12})-(\d{13})\.amnesia(?:\.\d+)?\.broken$/;
const TEMP = /^\.snapshot-.*\.tmp$/;

export type FsOps = Pick<typeof nodeFs, 'open' | 'rename' | 'unlink' | 'readdir' | 'readFile' | 'mkdir'>;

/** Points in a write where AMNESIA_FAULT=snapshot:<step> kills the process (crash tests). */
export const FAULT_STEPS = [
  'after-temp-write',
  'after-fsync',
  'after-rename',
  'after-dir-fsync',
  'after-purge',
] as const;
export type FaultStep = (typeof FAULT_STEPS)[number];

export interface SnapshotFile {
  readonly name: string;
  readonly path: string;
  readonly sequence: number;
  readonly createdAt: number;
}

export interface WriteResult {
  readonly file: SnapshotFile;
  readonly bytes: number;
  readonly durationMs: number;
  /** Longest synchronous stretch of encoding between two awaits (event-loop stall). */
  readonly maxStallMs: number;
}

export interface StoreOptions {
  readonly dir: string;
  /** Snapshots kept (newest first) when no purge is due; at least 1. */
  readonly retain: number;
  readonly log: Logger;
  /** AMNESIA_FAULT value (`snapshot:<step>`): SIGKILL self at that step. */
  readonly fault?: string | undefined;
  /** File system operations (tests inject failures). */
  readonly fs?: FsOps;
}

export class SnapshotStore {
  private readonly fs: FsOps;
  private readonly log: Logger;
  private nextSequence = 1;

  constructor(private readonly options: StoreOptions) {
    this.fs = options.fs ?? nodeFs;
    this.log = options.log.child({ module: 'snapshots' });
  }

  get dir(): string {
    return this.options.dir;
  }

  /** Creates the directory, removes temp files of interrupted writes, learns the next sequence. */
  async init(): Promise<void> {
    await this.fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    for (const name of await this.fs.readdir(this.dir)) {
      if (TEMP.test(name)) {
        await this.fs.unlink(path.join(this.dir, name)).catch(() => undefined);
        this.log.info({ file: name }, 'removed the temp file of an interrupted snapshot');
      }
      const m = NAME.exec(name) ?? BROKEN.exec(name);
      if (m) this.nextSequence = Math.max(this.nextSequence, Number(m[1]) + 1);
    }
  }

  /** Snapshot files by name, newest (highest sequence) first. */
  async list(): Promise<SnapshotFile[]> {
    const out: SnapshotFile[] = [];
    for (const name of await this.fs.readdir(this.dir)) {
      const m = NAME.exec(name);
      if (m)
        out.push({ name, path: path.join(this.dir, name), sequence: Number(m[1]), createdAt: Number(m[2]) });
    }
    return out.sort((a, b) => b.sequence - a.sequence);
  }

  /** Writes a snapshot atomically. Throws SNAPSHOT_FAILED (after cleaning up) on any failure. */
  async write(snapshot: Snapshot): Promise<WriteResult> {
    const t0 = performance.now();
    const sequence = this.nextSequence++;
    const name = `snapshot-${String(sequence).padStart(12, '0')}-${String(snapshot.createdAt).padStart(13, '0')}.amnesia`;
    const final = path.join(this.dir, name);
    const temp = path.join(this.dir, `.${name}.tmp`);
    let bytes = 0;
    let maxStallMs = 0;
    let handle: nodeFs.FileHandle | undefined;
    try {
      handle = await this.fs.open(temp, 'wx', 0o600);
      const chunks = encodeSnapshot(snapshot);
      for (;;) {
        const s0 = performance.now();
        const next = chunks.next();
        maxStallMs = Math.max(maxStallMs, performance.now() - s0);
        if (next.done) break;
        bytes += await writeAll(handle, next.value);
      }
      this.fault('after-temp-write');
      await handle.sync();
      this.fault('after-fsync');
      await handle.close();
      handle = undefined;
      await this.fs.rename(temp, final);
      this.fault('after-rename');
      await this.syncDir();
      this.fault('after-dir-fsync');
    } catch (e) {
      await handle?.close().catch(() => undefined);
      await this.fs.unlink(temp).catch(() => undefined);
      throw new AmnesiaError('SNAPSHOT_FAILED', `snapshot write failed: ${describeError(e)}`, {
        cause: e,
        retriable: true,
      });
    }
    const file = { name, path: final, sequence, createdAt: snapshot.createdAt };
    return { file, bytes, durationMs: performance.now() - t0, maxStallMs };
  }

  /**
   * Loads the newest snapshot that decodes and that `use` accepts. A file that fails verification
   * or that `use` rejects with a SnapshotError/RangeError is renamed `*.broken` and the next older
   * one is tried; `use` returning undefined skips a valid but unusable file (other settings).
   */
  async loadNewest<T>(
    use: (s: Snapshot, file: SnapshotFile) => T | undefined,
  ): Promise<{ file: SnapshotFile; value: T } | undefined> {
    for (const file of await this.list()) {
      let value: T | undefined;
      try {
        const snapshot = decodeSnapshot(await this.fs.readFile(file.path));
        value = use(snapshot, file);
      } catch (e) {
        if (!(e instanceof SnapshotError || e instanceof RangeError)) throw e;
        const broken = `${file.path}.broken`;
        await this.fs.rename(file.path, broken).catch(() => undefined);
        this.log.error(
          { file: file.name, err: describeError(e) },
          'invalid snapshot set aside as .broken; trying an older one',
        );
        continue;
      }
      if (value === undefined) {
        this.log.warn(
          { file: file.name },
          'snapshot not usable with this configuration; trying an older one',
        );
        continue;
      }
      return { file, value };
    }
    return undefined;
  }

  /** Keeps the newest `retain` snapshots (never `keep` itself); returns how many were deleted. */
  async prune(keep: SnapshotFile): Promise<number> {
    const files = await this.list();
    let deleted = 0;
    for (const f of files.slice(Math.max(1, this.options.retain))) {
      if (f.sequence >= keep.sequence) continue;
      if (await this.remove(f.path)) deleted++;
    }
    return deleted;
  }

  /**
   * Deletes every snapshot older than `newest`, and every broken or temp file: after this, no file in
   * the directory predates `newest`. Returns how many were deleted.
   */
  async purgeOlderThan(newest: SnapshotFile): Promise<number> {
    return this.purgeWhere((name, m) =>
      m
        ? Number(m[1]) < newest.sequence
        : BROKEN.test(name) || (TEMP.test(name) && !name.includes(newest.name)),
    );
  }

  /** Deletes every snapshot, broken and temp file (a standby holds none). Returns how many were deleted. */
  async purgeAll(): Promise<number> {
    return this.purgeWhere((name, m) => m !== null || BROKEN.test(name) || TEMP.test(name));
  }

  private async purgeWhere(
    old: (name: string, snapshot: RegExpExecArray | null) => boolean,
  ): Promise<number> {
    let deleted = 0;
    let failed = 0;
    for (const name of await this.fs.readdir(this.dir)) {
      if (!old(name, NAME.exec(name))) continue;
      if (await this.remove(path.join(this.dir, name))) deleted++;
      else failed++;
    }
    if (deleted > 0) await this.syncDir();
    if (failed > 0)
      throw new AmnesiaError('SNAPSHOT_FAILED', `${failed} older snapshot file(s) could not be deleted`);
    this.fault('after-purge');
    return deleted;
  }

  private async remove(p: string): Promise<boolean> {
    try {
      await this.fs.unlink(p);
      return true;
    } catch (e) {
      this.log.warn({ file: path.basename(p), err: describeError(e) }, 'could not delete an old snapshot');
      return false;
    }
  }

  private async syncDir(): Promise<void> {
    const d = await this.fs.open(this.dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  }

  private fault(step: FaultStep): void {
    if (this.options.fault === `snapshot:${step}`) {
      this.log.warn({ step }, 'AMNESIA_FAULT: killing the process');
      process.kill(process.pid, 'SIGKILL');
    }
  }
}

async function writeAll(handle: nodeFs.FileHandle, chunk: Buffer): Promise<number> {
  let off = 0;
  while (off < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, off, chunk.length - off);
    off += bytesWritten;
  }
  return chunk.length;
}

export { SnapshotError };
