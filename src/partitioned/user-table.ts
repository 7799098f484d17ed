// The user stage's state of one input partition: per user (by token, never by id) the items held
// with their arrival rank, the eventId window, and the tombstones of forgotten users. The rules are
// the single mode's (model.interaction, model.forget, dedup.ts): a late event of a forgotten user is
// dropped (and leaves no record behind: its eventId is not noted), duplicates change nothing, an ADD
// at MAX_ITEMS_PER_USER first evicts the oldest item, a repeated eventId is dropped. Within a chunk
// it remembers each changed user's items at the chunk start (K0) and which changelog records
// changed, so that a flush can turn the chunk into deltas and changelog records.
// With INTERACTION_TTL_MS each pair also keeps its time (the model's rules, src/model/model.ts
// expireBefore: an ADD before the cutoff is 'expired', a re-ADD keeps the later time, the cap keeps
// the most recent by time, a REMOVE always applies), written as the pair record's fourth field.
import { hash53, notesEventId } from '../input/dedup.js';
import { pairHash } from './ids.js';
import { oldest, resizeRing, type UserRecord } from './user-record.js';

export type Outcome = 'applied' | 'duplicate' | 'suppressed_late' | 'duplicate_event' | 'expired';

export interface UserEvent {
  readonly itemId: string;
  readonly action: 'ADD' | 'REMOVE';
  readonly occurredAt: number;
  readonly eventId?: string | undefined;
}

/** One changed user of a chunk: items at the chunk start and now, and the deletions among the changes. */
export interface UserChange {
  readonly token: string;
  readonly before: ReadonlySet<string>;
  readonly after: ReadonlySet<string>;
  /** Offsets of the deletion requests applied to this user in the chunk. */
  readonly markers: readonly number[];
}

/** A changelog record: key and value (null: a tombstone). */
export interface ChangelogRecord {
  readonly key: string;
  readonly value: string | null;
}

export interface UserTableOptions {
  readonly maxItemsPerUser: number;
  readonly dedupWindow: number;
  readonly tombstoneRetentionMs: number;
  /** INTERACTION_TTL_MS (0 or absent: off) and TTL_CHECK_MS (absent: the TTL). */
  readonly interactionTtlMs?: number;
  readonly ttlCheckMs?: number;
  /** Counts the pairs expired (amnesia_interactions_expired_total). */
  readonly onExpired?: (pairs: number) => void;
}

const EMPTY: ReadonlySet<string> = new Set();

export class UserTable {
  private readonly users = new Map<string, UserRecord>();
  private readonly tombstones = new Map<string, number>();
  private pairs = 0;
  // The chunk in progress.
  private base = new Map<string, ReadonlySet<string>>();
  private touched = new Map<string, Set<string>>();
  private metaTouched = new Set<string>();
  private tombTouched = new Set<string>();
  private markers = new Map<string, number[]>();
  private readonly timed: boolean;
  /** ADDs before it are refused ('expired'); pairs before it were expired. */
  private expiredBefore = -Infinity;
  /** A restored pair record had no time while the TTL is on (restoreRefusal). */
  private untimedRestored = false;
  private lastTtlCheck = -Infinity;

  /** `nowMs`: with the TTL on, ADDs before nowMs − TTL are refused from the start. */
  constructor(
    private readonly options: UserTableOptions,
    nowMs = -Infinity,
  ) {
    this.timed = (options.interactionTtlMs ?? 0) > 0;
    this.expireDue(nowMs);
  }

  /** Estimated bytes held (MODEL_MEMORY_BYTES), the pairs' times included with the TTL on. */
  stateBytes(): number {
    const window = this.options.dedupWindow;
    const ring = window === 0 ? 0 : 32 + 8 * window;
    const pair = this.timed ? 90 + 40 : 90;
    return this.pairs * pair + this.users.size * (150 + ring) + this.tombstones.size * 60;
  }

  get size(): { users: number; pairs: number; tombstones: number } {
    return { users: this.users.size, pairs: this.pairs, tombstones: this.tombstones.size };
  }

  /** The items a user holds (right of access; tests). */
  itemsOf(token: string): string[] {
    return [...(this.users.get(token)?.items.keys() ?? [])];
  }

  /** Whether the chunk in progress changed anything. */
  get dirty(): boolean {
    return this.base.size > 0 || this.metaTouched.size > 0 || this.tombTouched.size > 0;
  }

  interaction(token: string, e: UserEvent): Outcome {
    const found = this.users.get(token);
    const window = this.options.dedupWindow;
    let eventHash: number | undefined;
    if (e.eventId !== undefined && window > 0) {
      eventHash = hash53(e.eventId);
      if (found?.ring?.includes(eventHash)) return 'duplicate_event';
    }
    const outcome = this.apply(token, found, e);
    // Not for a forgotten user's late event: noting it would re-create their record (dedup.ts).
    if (eventHash !== undefined && notesEventId(outcome)) {
      const u = this.users.get(token) ?? this.record(token);
      u.ring ??= new Array<number>(window).fill(-1);
      u.ring[u.ringNext] = eventHash;
      u.ringNext = (u.ringNext + 1) % window;
      this.metaTouched.add(token);
    }
    return outcome;
  }

  private apply(token: string, found: UserRecord | undefined, e: UserEvent): Outcome {
    const bound = this.tombstones.get(token);
    if (bound !== undefined && e.occurredAt <= bound) return 'suppressed_late';
    if (this.timed && e.action === 'ADD' && e.occurredAt < this.expiredBefore) return 'expired';
    if (e.action === 'REMOVE') {
      if (!found?.items.has(e.itemId)) return 'duplicate';
      this.noteBase(token, found);
      this.removeItem(token, found, e.itemId);
      return 'applied';
    }
    if (found?.items.has(e.itemId)) {
      const held = found.times?.get(e.itemId);
      if (held !== undefined && e.occurredAt > held) {
        found.times?.set(e.itemId, e.occurredAt);
        found.items.set(e.itemId, found.nextRank++);
        this.touch(token, e.itemId);
        this.metaTouched.add(token);
      }
      return 'duplicate';
    }
    const cap = this.options.maxItemsPerUser;
    if (found?.times && found.items.size === cap && e.occurredAt < found.times.get(oldest(found))!)
      return 'applied';
    const u = found ?? this.record(token);
    this.noteBase(token, u);
    while (u.items.size >= cap) this.removeItem(token, u, oldest(u));
    u.items.set(e.itemId, u.nextRank++);
    if (u.times) {
      u.times.set(e.itemId, e.occurredAt);
      u.minTime = Math.min(u.minTime, e.occurredAt);
    }
    this.pairs++;
    this.touch(token, e.itemId);
    this.metaTouched.add(token);
    return 'applied';
  }

  /** Forgets the user: items, eventIds and all; a tombstone drops their late events. Returns items removed. */
  forget(token: string, requestedAt: number, marker: number): number {
    const prev = this.tombstones.get(token);
    if (prev === undefined || requestedAt > prev) {
      this.tombstones.set(token, requestedAt);
      this.tombTouched.add(token);
    }
    const u = this.users.get(token);
    let removed = 0;
    if (u) {
      this.noteBase(token, u);
      removed = u.items.size;
      for (const item of u.items.keys()) this.touch(token, item);
      this.pairs -= removed;
      this.users.delete(token);
      this.metaTouched.add(token);
    } else if (!this.base.has(token)) this.base.set(token, EMPTY);
    const list = this.markers.get(token);
    if (list) list.push(marker);
    else this.markers.set(token, [marker]);
    return removed;
  }

  /**
   * INTERACTION_TTL_MS: forgets every pair with a time before `cutoffMs` (the caller's now − TTL), as
   * a REMOVE would, in the chunk in progress; later ADDs before it are refused. Returns pairs expired.
   */
  expireBefore(cutoffMs: number): number {
    if (!this.timed || !(cutoffMs > this.expiredBefore)) return 0;
    this.expiredBefore = cutoffMs;
    let n = 0;
    for (const [token, u] of this.users) {
      if (!(u.minTime < cutoffMs) || !u.times) continue;
      let min = Infinity;
      for (const [item, t] of u.times) {
        if (t >= cutoffMs) {
          min = Math.min(min, t);
          continue;
        }
        this.noteBase(token, u);
        this.removeItem(token, u, item);
        n++;
      }
      u.minTime = min;
      // A user left with nothing: their meta record goes too (unless an eventId window keeps it).
      if (u.items.size === 0) this.metaTouched.add(token);
    }
    return n;
  }

  /** expireBefore(now − TTL): at once, or (`due`) only when TTL_CHECK_MS passed since the last. */
  expireDue(nowMs: number, due = false): number {
    const ttl = this.options.interactionTtlMs ?? 0;
    if (ttl === 0 || (due && nowMs - this.lastTtlCheck < (this.options.ttlCheckMs ?? ttl))) return 0;
    this.lastTtlCheck = nowMs;
    const n = this.expireBefore(nowMs - ttl);
    if (n > 0) this.options.onExpired?.(n);
    return n;
  }

  /** After endRestore: why the changelog does not fit the configuration, or undefined. */
  restoreRefusal(): string | undefined {
    return this.untimedRestored
      ? 'INTERACTION_TTL_MS is on but the users changelog holds interactions without their time ' +
          '(written with the TTL off): their expiry cannot be exact (docs/operations.md, interaction TTL)'
      : undefined;
  }

  /** Drops tombstones older than the retention (their changelog records go with the next chunk). */
  expireTombstones(nowMs: number): number {
    let n = 0;
    for (const [token, t] of this.tombstones)
      if (t + this.options.tombstoneRetentionMs <= nowMs) {
        this.tombstones.delete(token);
        this.tombTouched.add(token);
        n++;
      }
    return n;
  }

  /** Ends the chunk: every changed user's before/after, and the changelog records to write. */
  takeChunk(): { changes: UserChange[]; changelog: ChangelogRecord[] } {
    const changes: UserChange[] = [];
    for (const [token, before] of this.base) {
      const after = new Set(this.users.get(token)?.items.keys() ?? []);
      const markers = this.markers.get(token) ?? [];
      if (markers.length > 0 || !sameSet(before, after)) changes.push({ token, before, after, markers });
    }
    const changelog: ChangelogRecord[] = [];
    for (const [token, items] of this.touched) {
      const u = this.users.get(token);
      for (const item of items) {
        const rank = u?.items.get(item);
        const key = `h${pairHash(token, item)}`;
        const time = u?.times?.get(item);
        const pair = time === undefined ? [token, item, rank] : [token, item, rank, time];
        changelog.push({ key, value: rank === undefined ? null : JSON.stringify(pair) });
      }
    }
    for (const token of this.metaTouched) {
      const u = this.users.get(token);
      const value =
        u && (u.items.size > 0 || u.ring)
          ? JSON.stringify({ t: token, r: u.nextRank, ...(u.ring ? { d: u.ring, n: u.ringNext } : {}) })
          : null;
      if (u && value === null) this.users.delete(token);
      changelog.push({ key: metaKey(token), value });
    }
    for (const token of this.tombTouched) {
      const t = this.tombstones.get(token);
      changelog.push({ key: `t${token}`, value: t === undefined ? null : String(t) });
    }
    this.base = new Map();
    this.touched = new Map();
    this.metaTouched = new Set();
    this.tombTouched = new Set();
    this.markers = new Map();
    return { changes, changelog };
  }

  /** Restores one changelog record (read from the start of the partition; later ones win). */
  restore(key: string, value: string | null): void {
    const kind = key[0];
    if (kind === 'h') {
      // The record's value names its user and item; a null replaced it, and the put it replaced
      // was read before (compaction keeps the order).
      const hash = key.slice(1);
      if (value === null) {
        const at = this.restoredPairs.get(hash);
        if (at) {
          const u = this.users.get(at[0]);
          u?.items.delete(at[1]);
          u?.times?.delete(at[1]);
          this.restoredPairs.delete(hash);
        }
        return;
      }
      const [token, item, rank, time] = JSON.parse(value) as [string, string, number, number?];
      const u = this.users.get(token) ?? this.record(token);
      u.items.set(item, rank);
      if (u.times && time === undefined) this.untimedRestored = true;
      if (u.times && time !== undefined) {
        u.times.set(item, time);
        u.minTime = Math.min(u.minTime, time);
      }
      u.nextRank = Math.max(u.nextRank, rank + 1);
      this.restoredPairs.set(hash, [token, item]);
    } else if (kind === 'm') {
      if (value === null) {
        const token = this.restoredMeta.get(key);
        if (token !== undefined) this.users.delete(token);
        this.restoredMeta.delete(key);
        return;
      }
      const m = JSON.parse(value) as { t: string; r: number; d?: number[]; n?: number };
      this.restoredMeta.set(key, m.t);
      const u = this.users.get(m.t) ?? this.record(m.t);
      u.nextRank = Math.max(u.nextRank, m.r);
      if (m.d) [u.ring, u.ringNext] = resizeRing(m.d, m.n ?? 0, this.options.dedupWindow);
    } else if (kind === 't') {
      const token = key.slice(1);
      if (value === null) this.tombstones.delete(token);
      else this.tombstones.set(token, Number(value));
    }
  }

  /** After the last restored record: counts and the transient index; expired at `nowMs` (TTL on). */
  endRestore(nowMs = -Infinity): void {
    this.restoredPairs.clear();
    this.restoredMeta.clear();
    this.pairs = 0;
    for (const [token, u] of this.users) {
      if (u.items.size === 0 && !u.ring) this.users.delete(token);
      this.pairs += u.items.size;
    }
    this.expireDue(nowMs);
  }

  private readonly restoredPairs = new Map<string, [string, string]>();
  private readonly restoredMeta = new Map<string, string>();

  private record(token: string): UserRecord {
    const u: UserRecord = {
      items: new Map(),
      times: this.timed ? new Map() : undefined,
      minTime: Infinity,
      nextRank: 0,
      ring: undefined,
      ringNext: 0,
    };
    this.users.set(token, u);
    return u;
  }

  private noteBase(token: string, u: UserRecord): void {
    if (!this.base.has(token)) this.base.set(token, new Set(u.items.keys()));
  }

  private touch(token: string, item: string): void {
    let s = this.touched.get(token);
    if (!s) this.touched.set(token, (s = new Set()));
    s.add(item);
  }

  private removeItem(token: string, u: UserRecord, item: string): void {
    u.items.delete(item);
    u.times?.delete(item);
    this.pairs--;
    this.touch(token, item);
  }
}

/** A user's meta record is keyed by a hash too: once compacted, its tombstone names no one. */
function metaKey(token: string): string {
  return `m${pairHash(token, '')}`;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}
