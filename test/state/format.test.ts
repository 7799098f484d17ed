// The snapshot format: a round trip restores an indistinguishable model; anything truncated, flipped,
// of another version or with a wrong checksum is refused with a clear message.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Model } from '../../src/model/index.js';
import {
  decodeSnapshot,
  encodeSnapshot,
  encodeSnapshotToBuffer,
  SnapshotError,
  verifySnapshot,
} from '../../src/state/format.js';
import { sampleModel, sampleSnapshot } from '../helpers/snapshot-sample.js';

describe('snapshot format', () => {
  it('a round trip restores an indistinguishable model', () => {
    const m = sampleModel();
    const buf = encodeSnapshotToBuffer(sampleSnapshot(m));
    const s = decodeSnapshot(buf);
    expect(s.offsets).toEqual(sampleSnapshot(m).offsets);
    expect(s.purges).toEqual(sampleSnapshot(m).purges);
    const r = Model.fromState(s.state, { topK: 5, tombstoneRetentionMs: 1e12 });
    for (const id of m.itemIds()) expect(r.neighbors(id)).toEqual(m.neighbors(id));
    expect(r.userIds()).toEqual(m.userIds());
    expect(r.stats()).toEqual(m.stats());
    // Late event of the forgotten user still dropped; the same change reports follow.
    const e = { userId: 'user-3!', itemId: 'item-2', action: 'ADD' as const, occurredAt: 400 };
    expect(r.interaction(e)).toBe('suppressed-late');
    expect(m.interaction(e)).toBe('suppressed-late');
    const f = { userId: 'user-9!', itemId: 'item-2', action: 'ADD' as const, occurredAt: 700 };
    r.interaction(f);
    m.interaction(f);
    const sort = (x: { changed: readonly { itemId: string }[] }) =>
      [...x.changed].sort((a, b) => (a.itemId < b.itemId ? -1 : 1));
    expect(sort(r.flush(3000))).toEqual(sort(m.flush(3000)));
  });

  it('the header holds no user id; the forgotten user is nowhere in the file', () => {
    const m = sampleModel();
    const buf = encodeSnapshotToBuffer(sampleSnapshot(m));
    const header = verifySnapshot(buf);
    expect(header.counts.users).toBeGreaterThan(0);
    expect(JSON.stringify(header)).not.toMatch(/user-/);
    for (const kept of m.userIds())
      expect(buf.indexOf(kept), 'the search finds ids that are there').toBeGreaterThan(0);
    expect(buf.indexOf('user-3!')).toBe(-1);
  });

  it('encodes in chunks whose last is the SHA-256 of the rest', () => {
    const chunks = [...encodeSnapshot(sampleSnapshot())];
    const body = Buffer.concat(chunks.slice(0, -1));
    expect(chunks.at(-1)).toEqual(createHash('sha256').update(body).digest());
  });

  const good = encodeSnapshotToBuffer(sampleSnapshot());
  const refused: [string, Buffer, RegExp][] = [
    ['truncated', good.subarray(0, good.length - 100), /checksum|truncated/],
    ['cut to a few bytes', good.subarray(0, 20), /truncated/],
    ['empty', Buffer.alloc(0), /truncated/],
    [
      'one bit flipped',
      (() => {
        const b = Buffer.from(good);
        b[good.length >> 1]! ^= 0x10;
        return b;
      })(),
      /checksum/,
    ],
    ['bad magic', Buffer.concat([Buffer.from('NOTAMNES'), good.subarray(8)]), /bad magic/],
    [
      'unknown version',
      (() => {
        const b = Buffer.from(good);
        b.writeUInt32LE(99, 8);
        return b;
      })(),
      /version 99/,
    ],
    [
      'wrong checksum',
      (() => {
        const b = Buffer.from(good);
        b[b.length - 1]! ^= 1;
        return b;
      })(),
      /checksum/,
    ],
  ];
  for (const [what, buf, message] of refused) {
    it(`refuses a snapshot: ${what}`, () => {
      expect(() => decodeSnapshot(buf)).toThrow(SnapshotError);
      expect(() => decodeSnapshot(buf)).toThrow(message);
    });
  }

  it('refuses every single-bit flip of a small snapshot', () => {
    const small = encodeSnapshotToBuffer(sampleSnapshot(sampleModel(2, 3, 3)));
    for (let bit = 0; bit < small.length * 8; bit += 7) {
      const b = Buffer.from(small);
      b[bit >> 3]! ^= 1 << (bit & 7);
      expect(() => decodeSnapshot(b), `bit ${bit}`).toThrow(SnapshotError);
    }
  });
});

describe('snapshot format version 2', () => {
  const sample = () => sampleSnapshot();
  const sectionTags = (buf: Buffer): string[] => {
    const tags: string[] = [];
    let pos = 16 + buf.readUInt32LE(12);
    while (pos < buf.length - 32) {
      tags.push(buf.toString('latin1', pos, pos + 4));
      pos += 12 + buf.readUInt32LE(pos + 4) + buf.readUInt32LE(pos + 8) * 2 ** 32;
    }
    return tags;
  };
  /** Appends a section before the trailer and re-seals the file with a new checksum. */
  const withSection = (buf: Buffer, tag: string, payload: Buffer): Buffer => {
    const body = buf.subarray(0, buf.length - 32);
    const head = Buffer.alloc(12);
    head.write(tag, 0, 'latin1');
    head.writeUInt32LE(payload.length, 4);
    const all = Buffer.concat([body, head, payload]);
    return Buffer.concat([all, createHash('sha256').update(all).digest()]);
  };

  it('is written as version 2 with the model in tagged sections', () => {
    const buf = encodeSnapshotToBuffer(sample());
    expect(buf.readUInt32LE(8)).toBe(2);
    expect(verifySnapshot(buf).formatVersion).toBe(2);
    expect(sectionTags(buf)).toEqual(['ITEM', 'USER', 'LIST', 'TOMB', 'topk']);
  });

  it('keeps the interaction times and the expiry cutoff of a model under INTERACTION_TTL_MS (section time)', () => {
    const options = { topK: 2, interactionTtlMs: 1000 };
    const m = new Model(options);
    m.interaction({ userId: 'u', itemId: 'b', action: 'ADD', occurredAt: 50 });
    m.interaction({ userId: 'u', itemId: 'a', action: 'ADD', occurredAt: 40.5 });
    m.interaction({ userId: 'v', itemId: 'a', action: 'ADD', occurredAt: 20 });
    m.expireBefore(30);
    m.flush();
    const buf = encodeSnapshotToBuffer({ ...sample(), state: m.exportState() });
    expect(sectionTags(buf)).toEqual(['ITEM', 'USER', 'LIST', 'TOMB', 'topk', 'time']);
    const s = decodeSnapshot(buf);
    expect(s.state.settings.interactionTtlMs).toBe(1000);
    expect(s.state.expiredBefore).toBe(30);
    expect(s.state.times?.map((t) => Array.from(t))).toEqual([[50, 40.5]]);
    const r = Model.fromState(s.state, options);
    expect(r.interaction({ userId: 'w', itemId: 'a', action: 'ADD', occurredAt: 29 })).toBe('expired');
    expect(r.expireBefore(45)).toBe(1);
    expect(r.items('u')).toEqual(['b']);
  });

  it('keeps histories in arrival order, not slot order', () => {
    const m = new Model({ topK: 2 });
    for (const item of ['c', 'a', 'b'])
      m.interaction({ userId: 'u', itemId: item, action: 'ADD', occurredAt: 1 });
    m.interaction({ userId: 'v', itemId: 'b', action: 'ADD', occurredAt: 1 });
    m.interaction({ userId: 'u', itemId: 'a', action: 'REMOVE', occurredAt: 2 });
    m.interaction({ userId: 'u', itemId: 'a', action: 'ADD', occurredAt: 3 });
    m.flush();
    const s = decodeSnapshot(encodeSnapshotToBuffer({ ...sample(), state: m.exportState() }));
    const u = s.state.userIds.indexOf('u');
    expect(Array.from(s.state.histories[u]!, (i) => s.state.itemNames[i])).toEqual(['c', 'b', 'a']);
    const again = Model.fromState(s.state, { topK: 2 }).exportState();
    expect(again.histories[again.userIds.indexOf('u')]).toEqual(s.state.histories[u]);
  });

  it('carries the key fingerprint in the header and optional sections through', () => {
    const dedup = Buffer.from('opaque table');
    const buf = encodeSnapshotToBuffer({ ...sample(), keyFingerprint: 'kf-1', sections: { dedu: dedup } });
    expect(verifySnapshot(buf).keyFingerprint).toBe('kf-1');
    const s = decodeSnapshot(buf);
    expect(s.keyFingerprint).toBe('kf-1');
    expect(Buffer.from(s.sections?.dedu ?? [])).toEqual(dedup);
    expect(decodeSnapshot(encodeSnapshotToBuffer(sample())).keyFingerprint).toBeUndefined();
  });

  it('skips an optional section it does not know and refuses a critical one', () => {
    const good = encodeSnapshotToBuffer(sample());
    const skipped = decodeSnapshot(withSection(good, 'zzzz', Buffer.from([1, 2, 3])));
    expect(skipped.state.userIds).toEqual(decodeSnapshot(good).state.userIds);
    expect(Buffer.from(skipped.sections?.zzzz ?? [])).toEqual(Buffer.from([1, 2, 3]));
    expect(() => decodeSnapshot(withSection(good, 'ZZZZ', Buffer.alloc(0)))).toThrow(/critical section ZZZZ/);
    expect(() => decodeSnapshot(withSection(good, 'TOMB', Buffer.alloc(4)))).toThrow(/twice/);
  });

  it('restores without its top-K section by rescanning', () => {
    const m = sampleModel();
    const { topk: _, ...state } = m.exportState();
    const buf = encodeSnapshotToBuffer({ ...sample(), state });
    expect(sectionTags(buf)).not.toContain('topk');
    const r = Model.fromState(decodeSnapshot(buf).state, { topK: 5, tombstoneRetentionMs: 1e12 });
    for (const id of m.itemIds()) expect(r.neighbors(id)).toEqual(m.neighbors(id));
  });

  it('refuses an optional section under a tag it owns or a malformed one', () => {
    expect(() => encodeSnapshotToBuffer({ ...sample(), sections: { topk: Buffer.alloc(0) } })).toThrow(
      /optional section/,
    );
    expect(() => encodeSnapshotToBuffer({ ...sample(), sections: { Dedu: Buffer.alloc(0) } })).toThrow(
      /optional section/,
    );
  });
});
