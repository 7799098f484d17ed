// Duplicate events by eventId. A producer that retries without idempotence writes the same event
// twice; usually harmless (H is binary), but ADD(e1) REMOVE(e2) ADD(e1 again) would re-add. An
// interaction whose eventId is among the last EVENT_DEDUP_WINDOW eventIds of the same user is
// dropped (counted as `duplicate_event`). The window is per user, so the decision depends only on
// that user's own order — the same live and in a replay.
//
// Nothing of a forgotten user is noted (issue 21): users are keyed by their token (an HMAC under
// the tombstone key, state/tombstone-key.ts), never by their id; a user's entries go with the
// forget; and a late event of a forgotten user, which the state drops, is not noted either
// (`notesEventId`) — noting it would bring the user back into every later snapshot.
//
// Bounded: at most EVENT_DEDUP_MAX_USERS users, the least recently noted dropped first (a Map keeps
// insertion order; noting moves a user to the end). The bound's bytes are set aside from
// MODEL_MEMORY_BYTES (config.ts, memory-limit.ts). A user dropped by the bound loses their window:
// a retry arriving after EVENT_DEDUP_MAX_USERS other users were noted is no longer recognised.
//
// Stored: a 53-bit hash per eventId (a different event is taken for a duplicate with probability
// about window / 2^53), kept in snapshots (optional section `dedk`; the older `dedp`, keyed by raw
// user ids, is read once and converted: see importLegacy).
import { SnapshotError } from '../state/format.js';
import { userToken } from '../state/tombstone-key.js';

/** The snapshot section of the window (version 2: keyed by token). */
export const DEDUP_SECTION = 'dedk';
/** The section of earlier builds (keyed by raw user id): read and converted, never written. */
export const LEGACY_DEDUP_SECTION = 'dedp';
const SECTION_VERSION = 2;

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

/**
 * Whether an event's eventId enters its user's window, given how the state took the event: every
 * event it accepted (applied, or a no-op such as an ADD already held — its retry after a REMOVE must
 * still be recognised), never a late event of a forgotten user that it dropped, nor an ADD already
 * past INTERACTION_TTL_MS (never seen; its retry is as old and refused again). One rule for both
 * modes (the model's outcome names and the partitioned table's).
 */
export function notesEventId(outcome: string): boolean {
  return outcome !== 'suppressed-late' && outcome !== 'suppressed_late' && outcome !== 'expired';
}

interface Ring {
  readonly ids: Float64Array;
  next: number;
  /** The user's id once an event of theirs was noted in this process (memory only, never exported). */
  userId: string | undefined;
}

export interface DedupOptions {
  /** eventIds remembered per user (0: off). */
  readonly window: number;
  /** Most users remembered. */
  readonly maxUsers: number;
  /** The tombstone key: users are kept under their token (userToken). */
  readonly key: string;
}

export class EventDedup {
  private readonly byToken = new Map<string, Ring>();
  /**
   * The tokens of the users in the window (an HMAC costs ~3 µs, five times the rest of an event):
   * entries go with their user's ring — evicted or forgotten — so it never outlives the window.
   */
  private readonly tokens = new Map<string, string>();
  /** Users dropped by the bound since the start (a metric). */
  evicted = 0;

  constructor(private readonly o: DedupOptions) {}

  get window(): number {
    return this.o.window;
  }

  get users(): number {
    return this.byToken.size;
  }

  /** Whether eventIds are remembered at all. */
  get on(): boolean {
    return this.o.window > 0;
  }

  /** The key a user is remembered under (computed once per event by the caller). */
  tokenOf(userId: string): string {
    return this.tokens.get(userId) ?? userToken(this.o.key, userId);
  }

  /** True when the user's last `window` eventIds include this one. */
  seen(token: string, eventId: string): boolean {
    const ring = this.byToken.get(token);
    if (!ring) return false;
    const h = hash53(eventId);
    for (let k = 0; k < ring.ids.length; k++) if (ring.ids[k] === h) return true;
    return false;
  }

  /** Notes the eventId for the user (`userId`: the id `token` was made from, kept with the window). */
  note(token: string, eventId: string, userId?: string): void {
    this.noteHash(token, hash53(eventId), userId);
  }

  /** User ids held in memory beside their tokens (at most one per user in the window; tests). */
  get idsHeld(): number {
    return this.tokens.size;
  }

  /** Whether anything is remembered under the token (tests, the forgetting audit). */
  holds(token: string): boolean {
    return this.byToken.has(token);
  }

  forget(token: string, userId?: string): void {
    const ring = this.byToken.get(token);
    if (ring?.userId !== undefined) this.tokens.delete(ring.userId);
    if (userId !== undefined) this.tokens.delete(userId);
    this.byToken.delete(token);
  }

  /**
   * Snapshot section `dedk`: u32 version (2), u32 window, u32 users, per user from the least to the
   * most recently noted: u32 token length, token (ASCII), u32 next, window × f64 (-1: empty slot).
   */
  export(): Uint8Array {
    const tokens = [...this.byToken.keys()].map((t) => Buffer.from(t, 'latin1'));
    const window = this.o.window;
    let size = 12;
    for (const t of tokens) size += 8 + t.length + window * 8;
    const out = Buffer.alloc(size);
    let pos = out.writeUInt32LE(SECTION_VERSION, 0);
    pos = out.writeUInt32LE(window, pos);
    pos = out.writeUInt32LE(tokens.length, pos);
    let k = 0;
    for (const ring of this.byToken.values()) {
      const t = tokens[k++]!;
      pos = out.writeUInt32LE(t.length, pos);
      pos += t.copy(out, pos);
      pos = out.writeUInt32LE(ring.next, pos);
      for (let i = 0; i < window; i++) pos = out.writeDoubleLE(ring.ids[i]!, pos);
    }
    return out;
  }

  /** Restores a `dedk` section (a window of another size keeps each user's newest entries). */
  import(section: Uint8Array): void {
    const r = new SectionReader(section);
    const version = r.u32();
    if (version !== SECTION_VERSION)
      throw new SnapshotError(
        `eventId window section version ${version} (this build reads ${SECTION_VERSION})`,
      );
    this.clear();
    r.entries((token, hashes) => {
      for (const h of hashes) this.noteHash(token, h);
    });
  }

  /**
   * Converts a section of earlier builds (`dedp`: keyed by raw user id, no version). Each user's
   * entries are kept under their token when `keep(userId)` — the snapshot holds the user's history
   * — and dropped otherwise: that is how the entries those builds noted for forgotten users (their
   * late events) go. Returns the users kept and dropped.
   */
  importLegacy(section: Uint8Array, keep: (userId: string) => boolean): { kept: number; dropped: number } {
    const r = new SectionReader(section);
    this.clear();
    let [kept, dropped] = [0, 0];
    r.entries((userId, hashes) => {
      if (!keep(userId)) return void dropped++;
      kept++;
      const token = this.tokenOf(userId);
      for (const h of hashes) this.noteHash(token, h, userId);
    }, 'utf8');
    return { kept, dropped };
  }

  private clear(): void {
    this.byToken.clear();
    this.tokens.clear();
  }

  private noteHash(token: string, h: number, userId?: string): void {
    if (this.o.window === 0) return;
    let ring = this.byToken.get(token);
    if (ring) this.byToken.delete(token);
    else ring = { ids: new Float64Array(this.o.window).fill(-1), next: 0, userId: undefined };
    this.byToken.set(token, ring); // the most recently noted last
    ring.ids[ring.next] = h;
    ring.next = (ring.next + 1) % this.o.window;
    if (userId !== undefined && ring.userId === undefined) {
      ring.userId = userId;
      this.tokens.set(userId, token);
    }
    if (this.byToken.size > this.o.maxUsers) {
      const [oldest, gone] = this.byToken.entries().next().value!;
      this.byToken.delete(oldest);
      if (gone.userId !== undefined) this.tokens.delete(gone.userId);
      this.evicted++;
    }
  }
}

/** Reads the common body of both section versions: window, users, per user a name and a ring. */
class SectionReader {
  private readonly b: Buffer;
  private pos = 0;

  constructor(section: Uint8Array) {
    this.b = Buffer.from(section.buffer, section.byteOffset, section.byteLength);
  }

  private need(n: number): void {
    if (this.pos + n > this.b.length) throw new SnapshotError('eventId window section truncated');
  }

  u32(): number {
    this.need(4);
    const v = this.b.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  /** Calls `each` per user with their hashes, oldest first (noting them again keeps the newest). */
  entries(each: (name: string, hashes: number[]) => void, encoding: 'latin1' | 'utf8' = 'latin1'): void {
    const window = this.u32();
    const users = this.u32();
    for (let u = 0; u < users; u++) {
      const len = this.u32();
      this.need(len + 4 + window * 8);
      const name = this.b.toString(encoding, this.pos, this.pos + len);
      this.pos += len;
      const next = this.u32();
      const hashes: number[] = [];
      for (let i = 0; i < window; i++) {
        const h = this.b.readDoubleLE(this.pos + ((next + i) % window) * 8);
        if (h >= 0) hashes.push(h);
      }
      this.pos += window * 8;
      each(name, hashes);
    }
    if (this.pos !== this.b.length) throw new SnapshotError('eventId window section has trailing bytes');
  }
}
