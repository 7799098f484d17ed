// The item stage's state of one item partition q: the C rows of the items q owns (c_ij for every j),
// a column index (item j not owned → owned rows containing j), a mirror of n for every item, the
// item sets of the users who hold an item of q (keyed by token), and the last published list of each
// owned item. Deltas are applied as exact per-user differences; a flush recomputes by a full row
// scan the top-K of every affected owned row — rows that changed and rows containing an item whose n
// changed — and reports the lists that differ from the published ones. The changelog also records
// the similarity measure (key MEASURE_KEY): a changelog written under one measure is refused by a
// table of the other, whose restored lists would not be the published ones.
import {
  similarityFn,
  type NeighborList,
  type SimilarityFn,
  type SimilarityMeasure,
} from '../model/index.js';
import { CountMap } from './count-map.js';
import type { DeltaRecord } from './deltas.js';
import { pairHash, type ItemPartitions } from './ids.js';
import { rowTopK, sameList } from './topk.js';
import type { ChangelogRecord } from './user-table.js';

export interface ItemTableOptions {
  readonly partition: number;
  readonly parts: ItemPartitions;
  readonly topK: number;
  readonly minCooccurrences: number;
  /** SIMILARITY (default jaccard). */
  readonly similarity?: SimilarityMeasure;
}

/** Changelog key of the measure the partition's lists were computed with (absent before it existed: Jaccard). */
export const MEASURE_KEY = 's';

/** A marker applied: the request's offset and its user task. */
export interface AppliedMarker {
  readonly id: number;
  readonly origin: number;
}

export interface FlushResult {
  readonly changed: NeighborList[];
  readonly removed: string[];
  readonly changelog: ChangelogRecord[];
  readonly markers: AppliedMarker[];
}

/** Awaited between slices of long work (heartbeats, the event loop). */
export type Pause = () => Promise<void>;

const NONE: ReadonlySet<number> = new Set();

export class ItemTable {
  private readonly slotOf = new Map<string, number>();
  private readonly names: (string | undefined)[] = [];
  private readonly own: boolean[] = [];
  private readonly free: number[] = [];
  private readonly n: number[] = [];
  private readonly rows = new Map<number, CountMap>();
  /**
   * By item slot (an array: looked up on every cell a row gains or loses); a column's keys are
   * owned-row numbers (ownedNo), dense from 0, so that a column naming many owned rows can take
   * CountMap's dense layout (slots of owned items are a 1/Q share of all slots).
   */
  private readonly cols: (CountMap | undefined)[] = [];
  /** Owned slot → its owned-row number, and back; numbers of released slots are reused. */
  private readonly ownedNo: number[] = [];
  private readonly ownedSlot: number[] = [];
  private readonly freeNo: number[] = [];
  private readonly users = new Map<string, Set<number>>();
  private readonly published = new Map<number, NeighborList>();
  private dirty = new Set<number>();
  private nChanged = new Set<number>();
  private pairTouched = new Map<string, Set<number>>();
  private markers: AppliedMarker[] = [];
  private readonly restoredPairs = new Map<string, [string, number]>();
  private cells = 0;
  /** Kept as the tables change, so that stats() is O(1) (the memory guard asks before every batch). */
  private mapBytes = 0;
  private refs = 0;
  /** Neighbours in the published lists (their bytes). */
  private listNeighbors = 0;
  /** Work done since start: C cells updated, C cells scanned for lists. */
  readonly work = { cellUpdates: 0, cellsScanned: 0, ops: 0 };
  private readonly measure: SimilarityMeasure;
  private readonly sim: SimilarityFn;
  /** The measure the restored changelog names (undefined: none recorded). */
  private restoredMeasure: string | undefined;

  constructor(private readonly options: ItemTableOptions) {
    this.measure = options.similarity ?? 'jaccard';
    this.sim = similarityFn(this.measure);
  }

  stats(): { items: number; ownedItems: number; cells: number; users: number; bytes: number } {
    return {
      items: this.slotOf.size,
      ownedItems: this.rows.size,
      cells: this.cells,
      users: this.users.size,
      bytes: this.estimate(this.mapBytes, this.refs, this.listNeighbors),
    };
  }

  /** stats().bytes counted from scratch, walking every row, column and item set (tests). */
  recountBytes(): number {
    let maps = 0;
    for (const r of this.rows.values()) maps += r.bytes;
    for (const c of this.cols) maps += c?.bytes ?? 0;
    let refs = 0;
    for (const s of this.users.values()) refs += s.size;
    let neighbors = 0;
    for (const l of this.published.values()) neighbors += l.neighbors.length;
    return this.estimate(maps, refs, neighbors);
  }

  /**
   * The count maps' own bytes (CountMap.bytes), and per object what V8 takes for it, fitted to the
   * heap (Node 20, x64; test/partitioned/state-bytes.test.ts): a row's Map entry; an item reference
   * in a user's Set; a user's Set, entry and token; an item's slot; a published list, a neighbour.
   */
  private estimate(maps: number, refs: number, neighbors: number): number {
    const { rows, users, slotOf, published } = this;
    const objects = rows.size * 40 + users.size * 110 + slotOf.size * 96 + published.size * 80;
    return maps + objects + refs * 34 + neighbors * 78;
  }

  /** Sets (or, list undefined, deletes) the published list of owned slot i; whether one was there. */
  private publish(i: number, list: NeighborList | undefined): boolean {
    const was = this.published.get(i);
    if (was) this.listNeighbors -= was.neighbors.length;
    if (list) {
      this.published.set(i, list);
      this.listNeighbors += list.neighbors.length;
    } else this.published.delete(i);
    return was !== undefined;
  }

  /** Whether applied deltas wait for a flush. */
  get pending(): boolean {
    return (
      this.dirty.size > 0 || this.nChanged.size > 0 || this.markers.length > 0 || this.pairTouched.size > 0
    );
  }

  get pendingMarkers(): number {
    return this.markers.length;
  }

  /** The last published list of an owned item (tests, queries). */
  list(itemId: string): NeighborList | undefined {
    const s = this.slotOf.get(itemId);
    return s === undefined ? undefined : this.published.get(s);
  }

  /** Every published list of the partition (tests, reconciliation). */
  publishedLists(): NeighborList[] {
    return [...this.published.values()];
  }

  apply(rec: DeltaRecord): void {
    for (const op of rec.o) {
      this.work.ops++;
      const old = this.users.get(op.t) ?? NONE;
      let next: Set<number>;
      if (op.s) next = new Set(op.s.map((i) => this.intern(i)));
      else {
        next = new Set(old);
        for (const i of op.a ?? []) next.add(this.intern(i));
        for (const i of op.r ?? []) next.delete(this.intern(i));
      }
      this.change(op.t, old, next);
    }
    for (const [item, d] of rec.n) {
      const s = this.intern(item);
      const v = this.n[s]! + d;
      if (v < 0) throw new RangeError('n would go negative: deltas out of order');
      this.n[s] = v;
      this.nChanged.add(s);
    }
    for (const id of rec.m) this.markers.push({ id, origin: rec.p });
  }

  /** One user's item set old → next: rows, column index, held sets, changelog marks. */
  private change(token: string, old: ReadonlySet<number>, next: Set<number>): void {
    const heldBefore = this.users.has(token);
    const added: number[] = [];
    const removed: number[] = [];
    for (const i of next) if (!old.has(i)) added.push(i);
    for (const i of old) if (!next.has(i)) removed.push(i);
    // Arrays, not the sets: a row update walks them once per owned item of the user.
    const nextItems = added.length > 0 ? [...next] : [];
    const oldItems = removed.length > 0 ? [...old] : [];
    for (const i of added) if (this.own[i]) this.rowAdd(i, nextItems, 1);
    for (const i of removed) if (this.own[i]) this.rowAdd(i, oldItems, -1);
    for (const i of old)
      if (this.own[i] && next.has(i)) {
        this.rowAdd(i, added, 1);
        this.rowAdd(i, removed, -1);
      }
    const holds = [...next].some((i) => this.own[i]);
    let touched = this.pairTouched.get(token);
    if (!touched) this.pairTouched.set(token, (touched = new Set()));
    this.refs += (holds ? next.size : 0) - (heldBefore ? old.size : 0);
    if (holds) {
      this.users.set(token, next);
      for (const i of added) touched.add(i);
      for (const i of removed) touched.add(i);
      if (!heldBefore) for (const i of next) touched.add(i);
    } else {
      this.users.delete(token);
      for (const i of old) touched.add(i);
    }
  }

  private rowAdd(i: number, items: readonly number[], delta: number): void {
    let row = this.rows.get(i);
    if (!row) this.rows.set(i, (row = new CountMap()));
    else this.mapBytes -= row.bytes;
    let updates = 0;
    const no = this.ownedNo[i]!;
    for (let k = 0; k < items.length; k++) {
      const j = items[k]!;
      if (j === i) continue;
      updates++;
      const r = row.add(j, delta);
      if (r === 0) continue;
      this.cells += r;
      if (this.own[j]) continue;
      let col = this.cols[j];
      if (!col) this.cols[j] = col = new CountMap();
      else this.mapBytes -= col.bytes;
      col.add(no, r);
      if (col.size === 0) this.cols[j] = undefined;
      else this.mapBytes += col.bytes;
    }
    this.mapBytes += row.bytes;
    this.work.cellUpdates += updates;
    this.dirty.add(i);
  }

  /** Recomputes the affected lists; returns what to publish and write, and the markers applied. */
  async flush(pause: Pause): Promise<FlushResult> {
    const affected = this.dirty;
    for (const j of this.nChanged) {
      if (this.own[j]) {
        affected.add(j);
        this.rows.get(j)?.forEach((i) => {
          if (this.own[i]) affected.add(i);
        });
      } else this.cols[j]?.forEach((no) => affected.add(this.ownedSlot[no]!));
    }
    const changed: NeighborList[] = [];
    const removed: string[] = [];
    let k = 0;
    for (const i of affected) {
      if (++k % 64 === 0) await pause();
      const name = this.names[i];
      if (name === undefined) continue;
      if (this.n[i]! > 0) {
        const list = this.computeList(i);
        if (!sameList(this.published.get(i), list)) {
          changed.push(list);
          this.publish(i, list);
        }
      } else if (this.publish(i, undefined)) removed.push(name);
    }
    const changelog = this.changelog();
    const markers = this.markers;
    this.dirty = new Set();
    this.markers = [];
    return { changed, removed, changelog, markers };
  }

  private changelog(): ChangelogRecord[] {
    const out: ChangelogRecord[] = [];
    for (const [token, slots] of this.pairTouched) {
      const held = this.users.get(token);
      for (const s of slots) {
        const item = this.names[s]!;
        out.push({
          key: `h${pairHash(token, item)}`,
          value: held?.has(s) ? JSON.stringify([token, item]) : null,
        });
      }
    }
    for (const s of this.nChanged) {
      const v = this.n[s]!;
      out.push({ key: `n${this.names[s]!}`, value: v > 0 ? String(v) : null });
    }
    for (const s of this.nChanged) if (this.n[s] === 0) this.release(s);
    this.pairTouched = new Map();
    this.nChanged = new Set();
    // With every transaction that changes the state (compaction keeps the last): the measure.
    if (out.length > 0) out.push({ key: MEASURE_KEY, value: this.measure });
    return out;
  }

  private computeList(i: number): NeighborList {
    const row = this.rows.get(i);
    const ni = this.n[i]!;
    const name = this.names[i]!;
    if (!row) return { itemId: name, interactions: ni, neighbors: [] };
    this.work.cellsScanned += row.size;
    const { topK, minCooccurrences } = this.options;
    const neighbors = rowTopK(row, ni, this.n, this.names, topK, minCooccurrences, this.sim);
    return { itemId: name, interactions: ni, neighbors };
  }

  private intern(item: string): number {
    let s = this.slotOf.get(item);
    if (s !== undefined) return s;
    s = this.free.pop() ?? this.names.length;
    this.slotOf.set(item, s);
    this.names[s] = item;
    this.n[s] = 0;
    this.own[s] = this.options.parts.of(item) === this.options.partition;
    if (this.own[s]) {
      const no = this.freeNo.pop() ?? this.ownedSlot.length;
      this.ownedNo[s] = no;
      this.ownedSlot[no] = s;
    }
    return s;
  }

  private release(s: number): void {
    if ((this.rows.get(s)?.size ?? 0) > 0 || this.cols[s]) return;
    this.mapBytes -= this.rows.get(s)?.bytes ?? 0;
    this.rows.delete(s);
    this.publish(s, undefined);
    this.slotOf.delete(this.names[s]!);
    this.names[s] = undefined;
    this.free.push(s);
    // No column names an owned row without cells.
    if (this.own[s]) this.freeNo.push(this.ownedNo[s]!);
  }

  // ---------------------------------------------------------------- restore from the changelog

  restore(key: string, value: string | null): void {
    const kind = key[0];
    if (kind === 'h') {
      const hash = key.slice(1);
      if (value === null) {
        const at = this.restoredPairs.get(hash);
        if (at && this.users.get(at[0])?.delete(at[1])) this.refs--;
        this.restoredPairs.delete(hash);
        return;
      }
      const [token, item] = JSON.parse(value) as [string, string];
      const s = this.intern(item);
      let set = this.users.get(token);
      if (!set) this.users.set(token, (set = new Set()));
      if (!set.has(s)) this.refs++;
      set.add(s);
      this.restoredPairs.set(hash, [token, s]);
    } else if (kind === 'n') {
      const s = this.intern(key.slice(1));
      this.n[s] = value === null ? 0 : Number(value);
    } else if (key === MEASURE_KEY) this.restoredMeasure = value ?? undefined;
  }

  /**
   * After endRestore: why the restored state cannot be used — the changelog was written under
   * another measure (a changelog holding state but no measure predates the setting: Jaccard) —
   * or undefined.
   */
  restoreRefusal(): string | undefined {
    const written = this.restoredMeasure ?? (this.slotOf.size > 0 ? 'jaccard' : undefined);
    if (written === undefined || written === this.measure) return undefined;
    return (
      `the items changelog was written with SIMILARITY=${written.slice(0, 40)}, this instance is ` +
      `configured with SIMILARITY=${this.measure}: set it back, or start a new KAFKA_GROUP_ID ` +
      '(its changelogs are built from the input topics)'
    );
  }

  /** After the last restored record: C rows rebuilt from the item sets; the lists they give are the published ones. */
  async endRestore(pause: Pause): Promise<void> {
    this.restoredPairs.clear();
    let k = 0;
    for (const [token, set] of this.users) {
      if (set.size === 0) {
        this.users.delete(token);
        continue;
      }
      const items = [...set];
      for (const i of set) if (this.own[i]) this.rowAdd(i, items, 1);
      if (++k % 256 === 0) await pause();
    }
    for (const s of [...this.slotOf.values()]) {
      if (this.n[s]! > 0 && this.own[s]) this.publish(s, this.computeList(s));
      else if (this.n[s] === 0) this.release(s);
      if (++k % 256 === 0) await pause();
    }
    this.dirty = new Set();
    this.nChanged = new Set();
    this.pairTouched = new Map();
  }
}
