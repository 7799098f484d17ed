// The tombstone key is never a built-in constant: TOMBSTONE_KEY, else a generated key kept beside the
// snapshots (0600), else one for this process; a snapshot written under another key is refused.
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDirs } from '../helpers/files.js';
import { ConfigError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import {
  checkKeyFingerprint,
  KEY_FILE,
  keyFingerprint,
  resolveTombstoneKey,
} from '../../src/state/tombstone-key.js';

const log = createLogger('silent');
const tempDir = tempDirs('amnesia-key');
const dir = tempDir;

describe('the tombstone key', () => {
  it('is TOMBSTONE_KEY when set', async () => {
    const k = await resolveTombstoneKey('an operator key of some length', await dir(), log);
    expect(k).toMatchObject({ key: 'an operator key of some length', source: 'TOMBSTONE_KEY' });
    expect(k.fingerprint).toBe(keyFingerprint('an operator key of some length'));
  });

  it('is generated once beside the snapshots (256 bits, mode 0600) and reused', async () => {
    const d = await dir();
    const first = await resolveTombstoneKey(undefined, d, log);
    expect(first.source).toBe('new key file');
    expect(first.key).toMatch(/^[0-9a-f]{64}$/);
    expect((await stat(path.join(d, KEY_FILE))).mode & 0o777).toBe(0o600);
    const again = await resolveTombstoneKey(undefined, d, log);
    expect(again).toMatchObject({ key: first.key, source: 'key file' });
    expect((await readFile(path.join(d, KEY_FILE), 'utf8')).trim()).toBe(first.key);
  });

  it('is random per process without a snapshot directory, never a constant', async () => {
    const a = await resolveTombstoneKey(undefined, undefined, log);
    const b = await resolveTombstoneKey(undefined, undefined, log);
    expect(a.source).toBe('this process only');
    expect(a.key).not.toBe(b.key);
  });

  it('refuses a snapshot written under another key, naming the variable, without showing a key', async () => {
    const d = await dir();
    await writeFile(path.join(d, KEY_FILE), 'x'.repeat(40));
    const k = await resolveTombstoneKey(undefined, d, log);
    expect(() => checkKeyFingerprint(k.fingerprint, k, log)).not.toThrow();
    expect(() => checkKeyFingerprint(undefined, k, log)).not.toThrow(); // format 1: no fingerprint
    let error: unknown;
    try {
      checkKeyFingerprint(keyFingerprint('another key entirely'), k, log);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe('TOMBSTONE_KEY');
    expect((error as Error).message).not.toContain('x'.repeat(40));
  });
});
