// Duplicate events by eventId. A producer that retries without idempotence writes the same event
// twice; usually harmless (H is binary), but ADD(e1) REMOVE(e2) ADD(e1 again) would re-add. An
// interaction whose eventId is among the last EVENT_DEDUP_WINDOW eventIds of the same user is
// dropped (counted as `duplicate_event`). The window is per user, so the decision depends only on
// that user's own order — the same live and in a replay — and it is forgotten with the user.
// Stored: a 53-bit hash per eventId (a different event is taken for a duplicate with probability
// about window / 2^53), kept in snapshots (optional section `dedp`).
import { SnapshotError } from '../state/format.js';

/** cyrb53: a fast, well-mixed 53-bit string hash (exact as a double). */
export function hash53(s: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

interface Ring {
  readonly ids: Float64Array;
  next: number;
}

export class EventDedup {
  private readonly byUser = new Map<string, Ring>();

  constructor(readonly window: number) {}

  get users(): number {
    return this.byUser.size;
  }

  /** True when the user's last `window` eventIds include this one. */
  seen(userId: string, eventId: string): boolean {
    const ring = this.byUser.get(userId);
    if (!ring) return false;
    const h = hash53(eventId);
    for (let k = 0; k < ring.ids.length; k++) if (ring.ids[k] === h) return true;
    return false;
  }

  note(userId: string, eventId: string): void {
    this.noteHash(userId, hash53(eventId));
  }

  forget(userId: string): void {
    this.byUser.delete(userId);
  }

  /** Snapshot section: u32 window, u32 users, per user: u32 id length, UTF-8 id, u32 next, window × f64. */
  export(): Uint8Array {
    const ids = [...this.byUser.keys()].map((u) => Buffer.from(u, 'utf8'));
    let size = 8;
    for (const id of ids) size += 8 + id.length + this.window * 8;
    const out = Buffer.alloc(size);
    let pos = out.writeUInt32LE(this.window, 0);
    pos = out.writeUInt32LE(ids.length, pos);
    let k = 0;
    for (const ring of this.byUser.values()) {
      const id = ids[k++]!;
      pos = out.writeUInt32LE(id.length, pos);
      pos += id.copy(out, pos);
      pos = out.writeUInt32LE(ring.next, pos);
      for (let i = 0; i < this.window; i++) pos = out.writeDoubleLE(ring.ids[i]!, pos);
    }
    return out;
  }

  /** Restores an exported section (a window of another size keeps each user's newest entries). */
  import(section: Uint8Array): void {
    const b = Buffer.from(section.buffer, section.byteOffset, section.byteLength);
    const need = (pos: number, n: number) => {
      if (pos + n > b.length) throw new SnapshotError('dedup section truncated');
    };
    need(0, 8);
    const window = b.readUInt32LE(0);
    const users = b.readUInt32LE(4);
    let pos = 8;
    this.byUser.clear();
    for (let u = 0; u < users; u++) {
      need(pos, 4);
      const len = b.readUInt32LE(pos);
      need(pos + 4, len + 4 + window * 8);
      const userId = b.toString('utf8', pos + 4, pos + 4 + len);
      pos += 4 + len;
      const next = b.readUInt32LE(pos);
      pos += 4;
      // Oldest first, so that noting them again keeps the newest `this.window`.
      for (let i = 0; i < window; i++) {
        const h = b.readDoubleLE(pos + ((next + i) % window) * 8);
        if (h >= 0) this.noteHash(userId, h);
      }
      pos += window * 8;
    }
    if (pos !== b.length) throw new SnapshotError('dedup section has trailing bytes');
  }

  private noteHash(userId: string, h: number): void {
    if (this.window === 0) return;
    let ring = this.byUser.get(userId);
    if (!ring) this.byUser.set(userId, (ring = { ids: new Float64Array(this.window).fill(-1), next: 0 }));
    ring.ids[ring.next] = h;
    ring.next = (ring.next + 1) % this.window;
  }
}
