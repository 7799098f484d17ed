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
