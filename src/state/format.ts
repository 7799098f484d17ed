// The snapshot file format (version 1). Little-endian throughout.
//
//   0   8 bytes   magic "AMNESIA\0"
//   8   u32       format version
//   12  u32       header length h
//   16  h bytes   header, UTF-8 JSON (SnapshotHeader): no user ids, readable by `amnesia snapshot inspect`
//   ..  body      item dictionary, free slots, n, users (id, late bound, history), last lists, tombstones
//   end 32 bytes  SHA-256 of everything before it
//
// C is not stored: it is rebuilt from H on load (smaller and, measured, fast enough: see
// docs/durability.md). Encoding is a generator of ~256 KiB chunks so that the writer can yield to the
// event loop between them; decoding verifies magic, version and checksum before parsing anything.

import { createHash } from 'node:crypto';
import { AmnesiaError } from '../errors.js';
import {
  stateCounts,
  type ModelState,
  type Neighbor,
  type NeighborIndexState,
  type NeighborList,
  type StateCounts,
} from '../model/index.js';

export const MAGIC = Buffer.from('AMNESIA\0', 'latin1');
export const FORMAT_VERSION = 1;
const DIGEST_BYTES = 32;
const PREAMBLE = 16;
const NONE = 0xffffffff;
const CHUNK = 1 << 18;

export interface TopicOffset {
  readonly topic: string;
  readonly partition: number;
  /** Next offset to apply: the snapshot reflects every record before it and none after. */
  readonly offset: number;
}

/** A deletion request whose PURGED receipt is due once this snapshot is durable (no user id). */
export interface PendingPurge {
  readonly requestId: string;
  readonly interactionsRemoved: number;
  readonly itemsAffected: number;
  /** Record timestamp of the request (receipt latency). */
  readonly recordMs: number;
}

export interface SnapshotHeader {
  readonly formatVersion: number;
  readonly createdAt: number;
  readonly offsets: readonly TopicOffset[];
  readonly settings: { readonly topK: number; readonly minCooccurrences: number };
  readonly counts: StateCounts;
  readonly purges: readonly PendingPurge[];
}

export interface Snapshot {
  readonly createdAt: number;
  readonly offsets: readonly TopicOffset[];
  readonly purges: readonly PendingPurge[];
  readonly state: ModelState;
}

export class SnapshotError extends AmnesiaError {
  constructor(message: string) {
    super('SNAPSHOT_INVALID', message);
    this.name = 'SnapshotError';
  }
}

// ------------------------------------------------------------------------------------ encoding

class ChunkWriter {
  private buf = Buffer.allocUnsafe(CHUNK);
  private pos = 0;
  private done: Buffer[] = [];
  private readonly hash = createHash('sha256');
  bytes = 0;

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.cut();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
  }

  private cut(): void {
    if (this.pos === 0) return;
    const chunk = this.buf.subarray(0, this.pos);
    this.hash.update(chunk);
    this.bytes += chunk.length;
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
  typed(a: Uint16Array | Uint8Array | Float64Array | Int32Array): void {
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
    const digest = this.hash.digest();
    this.bytes += digest.length;
    this.done.push(digest);
    return this.take();
  }
}

export function headerOf(s: Omit<Snapshot, 'state'> & { state: ModelState }): SnapshotHeader {
  return {
    formatVersion: FORMAT_VERSION,
    createdAt: s.createdAt,
    offsets: s.offsets,
    settings: s.state.settings,
    counts: stateCounts(s.state),
    purges: s.purges,
  };
}

/** The file's bytes, in chunks of about 256 KiB; the last chunk is the checksum. */
export function* encodeSnapshot(s: Snapshot): Generator<Buffer> {
  const w = new ChunkWriter();
  const st = s.state;
  const header = Buffer.from(JSON.stringify(headerOf(s)), 'utf8');
  w.raw(MAGIC);
  w.u32(FORMAT_VERSION);
  w.u32(header.length);
  w.raw(header);
  // Item dictionary (slot → id) and the free slots in reuse order.
  const slots = st.itemNames.length;
  const slotOf = new Map<string, number>();
  w.u32(slots);
  for (let i = 0; i < slots; i++) {
    const name = st.itemNames[i];
    if (name === undefined) w.u32(NONE);
    else {
      w.str(name);
      slotOf.set(name, i);
    }
  }
  w.u32(st.itemFree.length);
  for (const f of st.itemFree) w.i32(f);
  w.typed(st.n);
  yield* w.take();
  // Users: id, late-event bound, history as item slots.
  w.u32(st.userIds.length);
  for (let k = 0; k < st.userIds.length; k++) {
    const h = st.histories[k] as Int32Array;
    w.str(st.userIds[k] as string);
    w.f64(st.lateBounds[k] as number);
    w.u32(h.length);
    w.typed(h);
    if ((k & 1023) === 0) yield* w.take();
  }
  // The last reported list per item slot; neighbours as slots.
  for (let i = 0; i < slots; i++) {
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
    if ((i & 1023) === 0) yield* w.take();
  }
  w.u32(st.tombstones.length);
  for (const [hash, at] of st.tombstones) {
    w.str(hash);
    w.f64(at);
  }
  // The top-K candidate buffers and bounds (optional: without them, a restore rescans every row).
  const t = st.topk;
  w.u32(t === undefined ? 0 : 1);
  if (t !== undefined) {
    w.u32(t.lengths.length);
    w.typed(t.lengths);
    w.u32(t.ids.length);
    w.typed(t.ids);
    w.typed(t.betaV);
    w.typed(t.betaN);
    for (const name of t.betaName) {
      if (name === undefined) w.u32(NONE);
      else w.str(name);
    }
    w.typed(t.offered);
    w.typed(t.rescanDue);
    w.u32(t.due.length);
    for (const d of t.due) w.i32(d);
    w.f64(t.forcedRescans);
  }
  yield* w.finish();
}

/** Encodes into one buffer (tests, benchmarks). */
export function encodeSnapshotToBuffer(s: Snapshot): Buffer {
  return Buffer.concat([...encodeSnapshot(s)]);
}

// ------------------------------------------------------------------------------------ decoding

/** Checks magic, version, length and checksum; returns the header. Throws SnapshotError. */
export function verifySnapshot(buf: Buffer): SnapshotHeader {
  if (buf.length < PREAMBLE + DIGEST_BYTES) throw new SnapshotError(`truncated: ${buf.length} bytes`);
  if (!buf.subarray(0, 8).equals(MAGIC)) throw new SnapshotError('not an amnesia snapshot (bad magic)');
  const version = buf.readUInt32LE(8);
  if (version !== FORMAT_VERSION)
    throw new SnapshotError(
      `unsupported snapshot format version ${version} (this build reads ${FORMAT_VERSION})`,
    );
  const h = buf.readUInt32LE(12);
  if (PREAMBLE + h + DIGEST_BYTES > buf.length)
    throw new SnapshotError('truncated: header runs past the end');
  const body = buf.subarray(0, buf.length - DIGEST_BYTES);
  const digest = createHash('sha256').update(body).digest();
  if (!digest.equals(buf.subarray(buf.length - DIGEST_BYTES)))
    throw new SnapshotError('checksum mismatch (truncated or corrupted)');
  try {
    return JSON.parse(buf.subarray(PREAMBLE, PREAMBLE + h).toString('utf8')) as SnapshotHeader;
  } catch {
    throw new SnapshotError('unreadable header');
  }
}

class Reader {
  pos: number;
  constructor(
    private readonly buf: Buffer,
    start: number,
    private readonly end: number,
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
  strOfLength(n: number): string {
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  str(): string {
    return this.strOfLength(this.u32());
  }
  ints(count: number): Int32Array {
    return this.typed(Int32Array, count);
  }
  typed<T extends Int32Array | Uint16Array | Uint8Array | Float64Array>(
    make: new (n: number) => T,
    count: number,
  ): T {
    const out = new make(count);
    const bytes = out.byteLength;
    this.need(bytes);
    new Uint8Array(out.buffer).set(this.buf.subarray(this.pos, this.pos + bytes));
    this.pos += bytes;
    return out;
  }
}

/** Verifies and parses a whole snapshot file. Throws SnapshotError for anything invalid. */
export function decodeSnapshot(buf: Buffer): Snapshot {
  const header = verifySnapshot(buf);
  const r = new Reader(buf, PREAMBLE + buf.readUInt32LE(12), buf.length - DIGEST_BYTES);
  const slots = r.u32();
  const itemNames = new Array<string | undefined>(slots);
  for (let i = 0; i < slots; i++) {
    const len = r.u32();
    itemNames[i] = len === NONE ? undefined : r.strOfLength(len);
  }
  const itemFree = Array.from(r.ints(r.u32()));
  const n = r.ints(slots);
  const users = r.u32();
  const userIds = new Array<string>(users);
  const histories = new Array<Int32Array>(users);
  const lateBounds = new Float64Array(users);
  for (let k = 0; k < users; k++) {
    userIds[k] = r.str();
    lateBounds[k] = r.f64();
    histories[k] = r.ints(r.u32());
  }
  const lists = new Array<NeighborList | undefined>(slots);
  for (let i = 0; i < slots; i++) {
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
  const tombstones = new Array<[string, number]>(r.u32());
  for (let t = 0; t < tombstones.length; t++) tombstones[t] = [r.str(), r.f64()];
  let topk: NeighborIndexState | undefined;
  if (r.u32() === 1) {
    const rows = r.u32();
    const lengths = r.typed(Uint16Array, rows);
    const ids = r.ints(r.u32());
    const betaV = r.typed(Float64Array, rows);
    const betaN = r.ints(rows);
    const betaName = new Array<string | undefined>(rows);
    for (let k = 0; k < rows; k++) {
      const len = r.u32();
      betaName[k] = len === NONE ? undefined : r.strOfLength(len);
    }
    const offered = r.ints(rows);
    const rescanDue = r.typed(Uint8Array, rows);
    const due = Array.from(r.ints(r.u32()));
    const forcedRescans = r.f64();
    topk = { lengths, ids, betaV, betaN, betaName, offered, rescanDue, due, forcedRescans };
  }
  if (r.pos !== buf.length - DIGEST_BYTES) throw new SnapshotError('trailing bytes after the body');
  return {
    createdAt: header.createdAt,
    offsets: header.offsets,
    purges: header.purges,
    state: {
      settings: header.settings,
      itemNames,
      itemFree,
      n,
      userIds,
      histories,
      lateBounds,
      lists,
      tombstones,
      ...(topk ? { topk } : {}),
    },
  };
}
