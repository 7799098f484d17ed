// `amnesia snapshot inspect <file>`: prints a snapshot's header (offsets, counts, settings, pending
// purges) as JSON after verifying magic, version and checksum; exit 1 when the file is invalid.
// Reads no user data out of the body: the header holds none.
import { readFile, stat } from 'node:fs/promises';
import { describeError } from '../errors.js';
import { SnapshotError, verifySnapshot } from '../state/format.js';

export async function snapshotCommand(args: readonly string[], out: (line: string) => void): Promise<number> {
  const [sub, file] = args;
  if (sub !== 'inspect' || file === undefined) {
    out('usage: amnesia snapshot inspect <file>');
    return 2;
  }
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (e) {
    out(JSON.stringify({ file, valid: false, error: describeError(e) }));
    return 1;
  }
  try {
    const header = verifySnapshot(buf);
    const { mtimeMs } = await stat(file);
    out(
      JSON.stringify(
        {
          file,
          valid: true,
          checksum: 'sha256 ok',
          bytes: buf.length,
          formatVersion: header.formatVersion,
          createdAt: new Date(header.createdAt).toISOString(),
          modifiedAt: new Date(mtimeMs).toISOString(),
          settings: header.settings,
          counts: header.counts,
          offsets: header.offsets,
          pendingPurges: header.purges.length,
        },
        null,
        2,
      ),
    );
    return 0;
  } catch (e) {
    out(
      JSON.stringify({
        file,
        valid: false,
        error: e instanceof SnapshotError ? e.message : describeError(e),
      }),
    );
    return 1;
  }
}
