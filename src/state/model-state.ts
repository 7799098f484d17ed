// The bytes of the model's state inside a snapshot body (layout: src/state/format.ts): little-endian
// primitives, one encoder and one decoder per section, and the whole body of format version 1.
// Encoders are generators that pause (yield) every so often, so that the file writer can hand out
// chunks and let the event loop run; each runs twice, once to count its bytes (the section length
// comes first) and once to write them.

import { createHash } from 'node:crypto';
import { AmnesiaError } from '../errors.js';
import type { ModelState, Neighbor, NeighborList, TopKState } from '../model/index.js';

export const NONE = 0xffffffff;
const CHUNK = 1 << 18;

export class SnapshotError extends AmnesiaError {
  constructor(message: string) {
    super('SNAPSHOT_INVALID', message);
    this.name = 'SnapshotError';
  }
}

// ------------------------------------------------------------------------------------ writing

export interface Sink {
  u32(v: number): void;
  i32(v: number): void;
  f64(v: number): void;
  raw(b: Uint8Array): void;
  /** u32 byte length, then UTF-8. */
  str(s: string): void;
  typed(a: Int32Array | Uint32Array | Float64Array): void;
}

/** Counts what a section encoder would write. */
export class Counter implements Sink {
  bytes = 0;
  u32(): void {
    this.bytes += 4;
  }
  i32(): void {
    this.bytes += 4;
  }
  f64(): void {
    this.bytes += 8;
  }
  raw(b: Uint8Array): void {
    this.bytes += b.length;
  }
  str(s: string): void {
    this.bytes += 4 + Buffer.byteLength(s, 'utf8');
  }
  typed(a: Int32Array | Uint32Array | Float64Array): void {
    this.bytes += a.byteLength;
  }
}

/** Writes into ~256 KiB chunks and hashes them as they are cut. */
export class ChunkWriter implements Sink {
  private buf = Buffer.allocUnsafe(CHUNK);
  private pos = 0;
  private done: Buffer[] = [];
  private readonly hash = createHash('sha256');

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.cut();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
  }

  private cut(): void {
    if (this.pos === 0) return;
    const chunk = this.buf.subarray(0, this.pos);
    this.hash.update(chunk);
    this.done.push(chunk);
    this.buf = Buffer.allocUnsafe(Math.max(CHUNK, this.buf.length));
    this.pos = 0;
  }

  u32(v: number): void {
    this.room(4);
    this.pos = this.buf.writeUInt32LE(v, this.pos);
  }
  i32(v: number): void {
    this.room(4);
    this.pos = this.buf.writeInt32LE(v, this.pos);
  }
  f64(v: number): void {
    this.room(8);
    this.pos = this.buf.writeDoubleLE(v, this.pos);
  }
  raw(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u32(b.length);
    this.raw(b);
  }
  typed(a: Int32Array | Uint32Array | Float64Array): void {
    this.raw(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }

  /** Completed chunks so far (the caller writes them out). */
  take(): Buffer[] {
    const d = this.done;
    this.done = [];
    return d;
  }

  /** Cuts the last chunk and appends the digest of everything. */
  finish(): Buffer[] {
    this.cut();
    this.done.push(this.hash.digest());
    return this.take();
  }
}

/** A section encoder: writes its payload into `w`, yielding where the writer may hand out chunks. */
export type SectionEncoder = (w: Sink) => Generator<void, void, void>;

export function* itemSection(w: Sink, st: ModelState): Generator<void, void, void> {
  w.u32(st.itemNames.length);
  for (const name of st.itemNames) {
    if (name === undefined) w.u32(NONE);
    else w.str(name);
  }
  w.u32(st.itemFree.length);
  for (const f of st.itemFree) w.i32(f);
  yield;
}

export function* userSection(w: Sink, st: ModelState): Generator<void, void, void> {
  w.u32(st.userIds.length);
  for (let k = 0; k < st.userIds.length; k++) {
    const h = st.histories[k] as Int32Array;
    w.str(st.userIds[k] as string);
    w.f64(st.lateBounds[k] as number);
    w.u32(h.length);
    w.typed(h);
    if ((k & 1023) === 1023) yield;
  }
}

export function* listSection(w: Sink, st: ModelState): Generator<void, void, void> {
  const slotOf = new Map<string, number>();
  st.itemNames.forEach((name, i) => name !== undefined && slotOf.set(name, i));
  for (let i = 0; i < st.lists.length; i++) {
    const l = st.lists[i];
    if (l === undefined) {
      w.u32(NONE);
      continue;
    }
    w.u32(l.neighbors.length);
    w.i32(l.interactions);
    w.f64(l.updatedAt ?? NaN);
    for (const nb of l.neighbors) {
      const j = slotOf.get(nb.itemId);
      if (j === undefined)
        throw new AmnesiaError('SNAPSHOT_FAILED', `list of slot ${i} names an item not in the dictionary`);
      w.i32(j);
      w.u32(nb.cooccurrences);
      w.f64(nb.similarity);
    }
    if ((i & 1023) === 1023) yield;
  }
}

export function* tombstoneSection(w: Sink, st: ModelState): Generator<void, void, void> {
  w.u32(st.tombstones.length);
  for (const [hash, at] of st.tombstones) {
    w.str(hash);
    w.f64(at);
  }
  yield;
}

export function* topkSection(w: Sink, t: TopKState): Generator<void, void, void> {
  const slots = t.offsets.length - 1;
  w.u32(slots);
  for (let k = 0; k < slots; k++) {
    const from = t.offsets[k] as number;
    const to = t.offsets[k + 1] as number;
    w.u32(to - from);
    w.typed(t.candidates.subarray(from, to));
    w.f64(t.boundValue[k] as number);
    w.i32(t.boundItem[k] as number);
    if ((k & 4095) === 4095) yield;
  }
}

// ------------------------------------------------------------------------------------ reading

export class Reader {
  pos: number;
  constructor(
    private readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }
  private need(n: number): void {
    if (this.pos + n > this.end) throw new SnapshotError('body shorter than its contents');
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  f64(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  strOfLength(n: number): string {
    return this.bytes(n).toString('utf8');
  }
  str(): string {
    return this.strOfLength(this.u32());
  }
  /** A string, or undefined where NONE stands instead of a length. */
  optionalStr(): string | undefined {
    const len = this.u32();
    return len === NONE ? undefined : this.strOfLength(len);
  }
  typed<T extends Int32Array | Uint16Array | Uint8Array | Float64Array>(
    make: new (n: number) => T,
    count: number,
  ): T {
    const out = new make(count);
    new Uint8Array(out.buffer).set(this.bytes(out.byteLength));
    return out;
  }
  /** Throws unless exactly everything up to `end` was read. */
  done(what: string): void {
    if (this.pos !== this.end) throw new SnapshotError(`${what}: trailing bytes`);
  }
}

export interface Items {
  readonly itemNames: (string | undefined)[];
  readonly itemFree: number[];
}

export function readItems(r: Reader): Items {
  const slots = r.u32();
  const itemNames = new Array<string | undefined>(slots);
  for (let i = 0; i < slots; i++) itemNames[i] = r.optionalStr();
  const itemFree = Array.from(r.typed(Int32Array, r.u32()));
  return { itemNames, itemFree };
}

export function readUsers(
  r: Reader,
): Pick<ModelState, 'userIds' | 'histories' | 'lateBounds'> & { histories: Int32Array[] } {
  const users = r.u32();
  const userIds = new Array<string>(users);
  const histories = new Array<Int32Array>(users);
  const lateBounds = new Float64Array(users);
  for (let k = 0; k < users; k++) {
    userIds[k] = r.str();
    lateBounds[k] = r.f64();
    histories[k] = r.typed(Int32Array, r.u32());
  }
  return { userIds, histories, lateBounds };
}

export function readLists(
  r: Reader,
  itemNames: readonly (string | undefined)[],
): (NeighborList | undefined)[] {
  const lists = new Array<NeighborList | undefined>(itemNames.length);
  for (let i = 0; i < itemNames.length; i++) {
    const m = r.u32();
    if (m === NONE) continue;
    const itemId = itemNames[i];
    if (itemId === undefined) throw new SnapshotError(`list for free slot ${i}`);
    const interactions = r.i32();
    const updatedAt = r.f64();
    const neighbors = new Array<Neighbor>(m);
    for (let p = 0; p < m; p++) {
      const j = r.i32();
      const name = itemNames[j];
      if (name === undefined) throw new SnapshotError(`list of slot ${i} names free slot ${j}`);
      const cooccurrences = r.u32();
      neighbors[p] = { itemId: name, similarity: r.f64(), cooccurrences };
    }
    lists[i] = Number.isNaN(updatedAt)
      ? { itemId, interactions, neighbors }
      : { itemId, interactions, neighbors, updatedAt };
  }
  return lists;
}

export function readTombstones(r: Reader): [string, number][] {
  const tombstones = new Array<[string, number]>(r.u32());
  for (let t = 0; t < tombstones.length; t++) tombstones[t] = [r.str(), r.f64()];
  return tombstones;
}

export function readTopk(r: Reader, slots: number): TopKState {
  if (r.u32() !== slots) throw new SnapshotError('top-K section does not match the item dictionary');
  const offsets = new Uint32Array(slots + 1);
  const parts: Int32Array[] = [];
  const boundValue = new Float64Array(slots);
  const boundItem = new Int32Array(slots);
  for (let k = 0; k < slots; k++) {
    const part = r.typed(Int32Array, r.u32());
    parts.push(part);
    offsets[k + 1] = (offsets[k] as number) + part.length;
    boundValue[k] = r.f64();
    boundItem[k] = r.i32();
  }
  const candidates = new Int32Array(offsets[slots] as number);
  parts.forEach((p, k) => candidates.set(p, offsets[k]));
  return { offsets, candidates, boundValue, boundItem };
}

/**
 * The body of a version-1 file: items, n, users (histories ascending by slot, taken as their arrival
 * order), lists, tombstones, then the index's internals, of which only the candidates and bounds are
 * kept (and only where their n is the current one; otherwise the restore rescans).
 */
export function readBodyV1(r: Reader): Omit<ModelState, 'settings'> {
  const { itemNames, itemFree } = readItems(r);
  const slots = itemNames.length;
  const n = r.typed(Int32Array, slots);
  const users = readUsers(r);
  const held = new Int32Array(slots);
  for (const h of users.histories)
    for (const i of h) if (i >= 0 && i < slots) held[i] = (held[i] as number) + 1;
  if (held.some((c, i) => c !== n[i])) throw new SnapshotError('n does not match the histories');
  const lists = readLists(r, itemNames);
  const tombstones = readTombstones(r);
  let topk: TopKState | undefined;
  if (r.u32() === 1) {
    const rows = r.u32();
    const lengths = r.typed(Uint16Array, rows);
    const candidates = r.typed(Int32Array, r.u32());
    const boundValue = r.typed(Float64Array, rows);
    const boundN = r.typed(Int32Array, rows);
    const boundItem = new Int32Array(rows);
    const slotOf = new Map<string, number>();
    itemNames.forEach((name, i) => name !== undefined && slotOf.set(name, i));
    for (let k = 0; k < rows; k++) boundItem[k] = slotOf.get(r.optionalStr() ?? '') ?? -1;
    r.typed(Int32Array, rows); // offers since the last scan
    r.typed(Uint8Array, rows); // rescan flags
    r.typed(Int32Array, r.u32()); // rows due for a rescan
    r.f64(); // forced rescans so far
    const offsets = new Uint32Array(rows + 1);
    for (let k = 0; k < rows; k++) offsets[k + 1] = (offsets[k] as number) + (lengths[k] as number);
    const current = rows === slots && boundN.every((b, k) => (n[k] as number) === 0 || b === n[k]);
    if (current && offsets[rows] === candidates.length) topk = { offsets, candidates, boundValue, boundItem };
  }
  r.done('version-1 body');
  return { itemNames, itemFree, ...users, lists, tombstones, ...(topk ? { topk } : {}) };
}
