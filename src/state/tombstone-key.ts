// The secret key of the tombstones' keyed hash (HMAC-SHA-256 of a forgotten user's id): never a
// built-in constant. TOMBSTONE_KEY when set; else, with SNAPSHOT_DIR, a random 256-bit key generated
// once and kept beside the snapshots (`tombstone.key`, mode 0600) so that restores keep suppressing
// late events; else a random key for this process (a warning: a restart forgets the tombstones'
// meaning, which only matters with snapshots). Every snapshot records the key's fingerprint — an
// HMAC of a fixed label, which identifies the key without revealing it — and a restore under another
// key is refused: the tombstones would silently stop matching. The same key makes the user token
// (userToken) under which both modes keep what they keep per user outside the model.
import { createHmac, randomBytes } from 'node:crypto';
import { chmod, open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';

export const KEY_FILE = 'tombstone.key';

export interface TombstoneKey {
  readonly key: string;
  readonly fingerprint: string;
  readonly source: 'TOMBSTONE_KEY' | 'key file' | 'new key file' | 'this process only';
}

/** Characters of a user token (128 bits, base64url). */
export const TOKEN_LENGTH = 22;

/**
 * A user's token: HMAC-SHA-256(key, "amnesia-user\0" + userId), 128 bits, base64url. What the service
 * keeps per user outside the model is keyed by it, never by the id: the partitioned mode's tables and
 * changelogs, the eventId window of both modes.
 */
export function userToken(key: string, userId: string): string {
  return createHmac('sha256', key)
    .update('amnesia-user\0')
    .update(userId)
    .digest('base64url')
    .slice(0, TOKEN_LENGTH);
}

/** Identifies a key without revealing it (first 128 bits of an HMAC of a fixed label). */
export function keyFingerprint(key: string): string {
  return createHmac('sha256', key).update('amnesia tombstone key fingerprint v1').digest('hex').slice(0, 32);
}

async function writeKeyFile(file: string, key: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(`${key}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
  await chmod(file, 0o600);
}

export async function resolveTombstoneKey(
  configured: string | undefined,
  snapshotDir: string | undefined,
  log: Logger,
): Promise<TombstoneKey> {
  if (configured !== undefined)
    return { key: configured, fingerprint: keyFingerprint(configured), source: 'TOMBSTONE_KEY' };
  if (snapshotDir === undefined) {
    log.warn(
      {},
      'no TOMBSTONE_KEY: a random key for this process only (set TOMBSTONE_KEY, or SNAPSHOT_DIR to keep a generated one)',
    );
    const key = randomBytes(32).toString('hex');
    return { key, fingerprint: keyFingerprint(key), source: 'this process only' };
  }
  const file = path.join(snapshotDir, KEY_FILE);
  try {
    const key = (await readFile(file, 'utf8')).trim();
    if (key.length < 16)
      throw new ConfigError('TOMBSTONE_KEY', `${KEY_FILE} in SNAPSHOT_DIR holds no usable key`);
    return { key, fingerprint: keyFingerprint(key), source: 'key file' };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const key = randomBytes(32).toString('hex');
  await writeKeyFile(file, key);
  log.info({ file: KEY_FILE }, 'no TOMBSTONE_KEY: generated one and kept it beside the snapshots');
  return { key, fingerprint: keyFingerprint(key), source: 'new key file' };
}

/** Refuses snapshots written under another key (their tombstones would no longer match). */
export function checkKeyFingerprint(written: string | undefined, current: TombstoneKey, log: Logger): void {
  if (written === undefined) {
    log.warn(
      {},
      'the snapshot records no key fingerprint (format 1): its tombstones are assumed to match the key',
    );
    return;
  }
  if (written !== current.fingerprint)
    throw new ConfigError(
      'TOMBSTONE_KEY',
      `the snapshots in SNAPSHOT_DIR were written with another tombstone key (fingerprint ${written}, ` +
        `this key ${current.fingerprint}, from ${current.source}): restore the key they were written with, ` +
        'or move the snapshots away to rebuild from the topics',
    );
}
