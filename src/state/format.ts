// The snapshot file format, version 2. Little-endian throughout; the layout is defined here, not by
// any in-memory structure (src/state/model-state.ts reads and writes it).
//
//   0   8 bytes   magic "AMNESIA\0"
//   8   u32       format version (2; version-1 files are still read)
//   12  u32       header length h
//   16  h bytes   header, UTF-8 JSON (SnapshotHeader): no user ids, readable by `amnesia snapshot inspect`
//   ..  sections  until the trailer, each: 4-byte ASCII tag, u64 payload length (u32 low, u32 high), payload
//   end 32 bytes  SHA-256 of everything before it
//
// A tag whose first letter is upper case is critical: a reader that does not know it refuses the
// file. Lower case is optional: a reader that does not know it skips it (and hands it to the caller
// in `sections`). New sections therefore need no new version. Each section appears at most once.
//
//   ITEM  u32 slots; per slot a string (u32 byte length + UTF-8), or u32 0xFFFFFFFF for a free slot;
//         u32 f, f × i32: the free slots in reuse order (the last is reused first)
//   USER  u32 users; per user: string id, f64 late-event bound (NaN: none), u32 h, h × i32 item slots
//         in arrival order (oldest first)
//   LIST  per item slot: u32 m (0xFFFFFFFF: no list), then i32 n_i, f64 updatedAt (NaN: none) and
//         m × (i32 neighbour slot, u32 cooccurrences, f64 similarity) — the last reported list
//   TOMB  u32 t; t × (string keyed hash of a forgotten user, f64 request time)
//   topk  u32 slots; per slot: u32 c, c × i32 candidate slots, f64 bound value (negative: none),
//         i32 bound item slot (-1: value-only) — see TopKState; without it, a restore rescans C
//   time  INTERACTION_TTL_MS: the expiry cutoff and each interaction's time (src/state/time-section.ts);
//         written only with the TTL on (the header's settings then carry interactionTtlMs)
//   dedk  the engine's eventId window, keyed by user token (opaque here: src/input/dedup.ts); the
//         older `dedp` (keyed by raw user id) is read and converted there, never written
//
// n is not stored (the column sums of H), nor C (rebuilt from H on load: smaller, and fast enough;
// see docs/durability.md). Version 1 stored one fixed body: items, n, users (histories ascending by
// slot, which a restore takes as their arrival order), lists, tombstones and the top-K index's
// internals. Encoding is a generator of ~256 KiB chunks so that the writer can yield to the event
// loop between them; decoding verifies magic, version and checksum before parsing anything.

import { createHash } from 'node:crypto';
import { stateCounts, type ModelSettings, type ModelState, type StateCounts } from '../model/index.js';
import {
  ChunkWriter,
  Counter,
  itemSection,
  listSection,
  readBodyV1,
  Reader,
  readItems,
  readLists,
  readTombstones,
  readTopk,
  readUsers,
  SnapshotError,
  tombstoneSection,
  topkSection,
  userSection,
  type SectionEncoder,
} from './model-state.js';
import { readTimes, timeSection } from './time-section.js';

export { SnapshotError };

export const MAGIC = Buffer.from('AMNESIA\0', 'latin1');
export const FORMAT_VERSION = 2;
const READABLE_VERSIONS = [1, 2];
const DIGEST_BYTES = 32;
const PREAMBLE = 16;
const TAG = /^[A-Za-z]{4}$/;
const MODEL_TAGS = ['ITEM', 'USER', 'LIST', 'TOMB', 'topk', 'time'];

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
  /** TOP_K, MIN_COOCCURRENCES and SIMILARITY (absent in files written before it: jaccard). */
  readonly settings: ModelSettings;
  readonly counts: StateCounts;
  readonly purges: readonly PendingPurge[];
  /** Identifies the tombstone key the file's keyed hashes were made with (never the key itself). */
  readonly keyFingerprint?: string;
}

export interface Snapshot {
  readonly createdAt: number;
  readonly offsets: readonly TopicOffset[];
  readonly purges: readonly PendingPurge[];
  readonly state: ModelState;
  readonly keyFingerprint?: string;
  /**
   * Optional sections beyond the model's state, by tag (four ASCII letters, the first lower case, not
   * the model's own): written as given; on reading, every optional section this build does not
   * decode itself (e.g. `dedk`).
   */
  readonly sections?: Readonly<Record<string, Uint8Array>>;
}

export function headerOf(s: Snapshot): SnapshotHeader {
  return {
    formatVersion: FORMAT_VERSION,
    createdAt: s.createdAt,
    offsets: s.offsets,
    settings: s.state.settings,
    counts: stateCounts(s.state),
    purges: s.purges,
    ...(s.keyFingerprint === undefined ? {} : { keyFingerprint: s.keyFingerprint }),
  };
}

// ------------------------------------------------------------------------------------ encoding

function sectionsOf(s: Snapshot): [string, SectionEncoder][] {
  const st = s.state;
  const out: [string, SectionEncoder][] = [
    ['ITEM', (w) => itemSection(w, st)],
    ['USER', (w) => userSection(w, st)],
    ['LIST', (w) => listSection(w, st)],
    ['TOMB', (w) => tombstoneSection(w, st)],
  ];
  const topk = st.topk;
  if (topk !== undefined) out.push(['topk', (w) => topkSection(w, topk)]);
  if (st.times !== undefined) out.push(['time', (w) => timeSection(w, st)]);
  for (const [tag, bytes] of Object.entries(s.sections ?? {})) {
    if (!TAG.test(tag) || tag[0] !== (tag[0] as string).toLowerCase() || MODEL_TAGS.includes(tag))
      throw new RangeError(`not a tag for an optional section: ${JSON.stringify(tag)}`);
    out.push([
      tag,
      function* (w) {
        w.raw(bytes);
        yield;
      },
    ]);
  }
  return out;
}

/** The file's bytes, in chunks of about 256 KiB; the last chunk is the checksum. */
export function* encodeSnapshot(s: Snapshot): Generator<Buffer> {
  const w = new ChunkWriter();
  const header = Buffer.from(JSON.stringify(headerOf(s)), 'utf8');
  w.raw(MAGIC);
  w.u32(FORMAT_VERSION);
  w.u32(header.length);
  w.raw(header);
  for (const [tag, encode] of sectionsOf(s)) {
    const count = new Counter();
    for (const _ of encode(count));
    w.raw(Buffer.from(tag, 'latin1'));
    w.u32(count.bytes % 2 ** 32);
    w.u32(Math.floor(count.bytes / 2 ** 32));
    for (const _ of encode(w)) yield* w.take();
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
  if (!READABLE_VERSIONS.includes(version))
    throw new SnapshotError(
      `unsupported snapshot format version ${version} (this build reads ${READABLE_VERSIONS.join(', ')})`,
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

/** The sections of a version-2 body by tag, each as a reader bounded to its payload. */
function splitSections(buf: Buffer, start: number, end: number): Map<string, Reader> {
  const r = new Reader(buf, start, end);
  const found = new Map<string, Reader>();
  while (r.pos < end) {
    const tag = r.bytes(4).toString('latin1');
    const length = r.u32() + r.u32() * 2 ** 32;
    if (!TAG.test(tag)) throw new SnapshotError(`malformed section tag at byte ${r.pos - 12}`);
    if (found.has(tag)) throw new SnapshotError(`section ${tag} appears twice`);
    if (r.pos + length > end) throw new SnapshotError(`section ${tag} runs past the end`);
    found.set(tag, new Reader(buf, r.pos, r.pos + length));
    r.pos += length;
  }
  for (const tag of found.keys())
    if (tag[0] !== (tag[0] as string).toLowerCase() && !MODEL_TAGS.includes(tag))
      throw new SnapshotError(`unknown critical section ${tag} (written by a newer build?)`);
  return found;
}

interface Body {
  readonly state: Omit<ModelState, 'settings'>;
  readonly sections: Readonly<Record<string, Uint8Array>>;
}

function decodeBodyV2(buf: Buffer, start: number, end: number): Body {
  const sections = splitSections(buf, start, end);
  const section = (tag: string): Reader => {
    const r = sections.get(tag);
    if (r === undefined) throw new SnapshotError(`section ${tag} is missing`);
    return r;
  };
  const read = <T>(tag: string, f: (r: Reader) => T): T => {
    const r = section(tag);
    const v = f(r);
    r.done(`section ${tag}`);
    return v;
  };
  const { itemNames, itemFree } = read('ITEM', readItems);
  const users = read('USER', readUsers);
  const lists = read('LIST', (r) => readLists(r, itemNames));
  const tombstones = read('TOMB', readTombstones);
  const topk = sections.has('topk') ? read('topk', (r) => readTopk(r, itemNames.length)) : undefined;
  const times = sections.has('time') ? read('time', (r) => readTimes(r, users.histories)) : {};
  const extra: Record<string, Uint8Array> = {};
  for (const [tag, r] of sections) if (!MODEL_TAGS.includes(tag)) extra[tag] = r.bytes(r.end - r.pos);
  return {
    state: { itemNames, itemFree, ...users, lists, tombstones, ...times, ...(topk ? { topk } : {}) },
    sections: extra,
  };
}

/** Verifies and parses a whole snapshot file (version 1 or 2). Throws SnapshotError for anything invalid. */
export function decodeSnapshot(buf: Buffer): Snapshot {
  const header = verifySnapshot(buf);
  const start = PREAMBLE + buf.readUInt32LE(12);
  const end = buf.length - DIGEST_BYTES;
  const body: Body =
    buf.readUInt32LE(8) === 1
      ? { state: readBodyV1(new Reader(buf, start, end)), sections: {} }
      : decodeBodyV2(buf, start, end);
  return {
    createdAt: header.createdAt,
    offsets: header.offsets,
    purges: header.purges,
    ...(header.keyFingerprint === undefined ? {} : { keyFingerprint: header.keyFingerprint }),
    sections: body.sections,
    state: { settings: header.settings, ...body.state },
  };
}
