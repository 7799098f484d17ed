// Item-only deltas between the stages. A user task turns each changed user's K0 → K1 into, per item
// partition q: an op {token, A, R} when q holds the user before (some item of K0 is q's), an op
// {token, S = K1} when q starts holding them, nothing otherwise; every partition gets Δn. Users go in
// groups whose ops, Δn and deletion markers travel in one record per partition, so every record is
// self-contained: any prefix of the records applied is the state of whole user changes.
import type { ItemPartitions } from './ids.js';
import type { UserChange } from './user-table.js';

export interface DeltaOp {
  readonly t: string;
  /** Items added and removed (the partition holds the user before). */
  readonly a?: readonly string[];
  readonly r?: readonly string[];
  /** The user's whole item set (the partition starts holding the user). */
  readonly s?: readonly string[];
}

export interface DeltaRecord {
  /** The user task (input partition) that wrote it: where acknowledgements go. */
  readonly p: number;
  readonly o: readonly DeltaOp[];
  /** Δn per item. */
  readonly n: readonly (readonly [string, number])[];
  /** Deletion markers (the request's offset in its deletion partition). */
  readonly m: readonly number[];
}

/** Item references per group of users (≈ 40 B each: records stay well under the broker's 1 MB). */
const GROUP_ITEMS = 12_000;

export function encodeDelta(r: DeltaRecord): Buffer {
  return Buffer.from(JSON.stringify(r));
}

export function decodeDelta(value: Buffer): DeltaRecord {
  const r = JSON.parse(value.toString('utf8')) as DeltaRecord;
  if (typeof r.p !== 'number' || !Array.isArray(r.o) || !Array.isArray(r.n) || !Array.isArray(r.m))
    throw new Error('not a delta record');
  return r;
}

/** The delta records of a chunk, per item partition, in the order they must be written. */
export function buildDeltas(
  changes: readonly UserChange[],
  parts: ItemPartitions,
  origin: number,
  groupItems = GROUP_ITEMS,
): Map<number, DeltaRecord[]> {
  const out = new Map<number, DeltaRecord[]>();
  let group: UserChange[] = [];
  let size = 0;
  const close = () => {
    if (group.length > 0) for (const [q, r] of groupRecords(group, parts, origin)) push(out, q, r);
    group = [];
    size = 0;
  };
  for (const c of changes) {
    const weight = c.before.size + c.after.size + 1;
    if (size > 0 && size + weight > groupItems) close();
    group.push(c);
    size += weight;
  }
  close();
  return out;
}

function push(out: Map<number, DeltaRecord[]>, q: number, r: DeltaRecord): void {
  const list = out.get(q);
  if (list) list.push(r);
  else out.set(q, [r]);
}

function partsOf(items: ReadonlySet<string>, parts: ItemPartitions): Set<number> {
  const s = new Set<number>();
  for (const i of items) s.add(parts.of(i));
  return s;
}

function groupRecords(
  group: readonly UserChange[],
  parts: ItemPartitions,
  origin: number,
): Map<number, DeltaRecord> {
  const ops = new Map<number, DeltaOp[]>();
  const dn = new Map<string, number>();
  const markers: number[] = [];
  for (const c of group) {
    markers.push(...c.markers);
    const added = [...c.after].filter((i) => !c.before.has(i));
    const removed = [...c.before].filter((i) => !c.after.has(i));
    if (added.length === 0 && removed.length === 0) continue;
    for (const i of added) dn.set(i, (dn.get(i) ?? 0) + 1);
    for (const i of removed) dn.set(i, (dn.get(i) ?? 0) - 1);
    const before = partsOf(c.before, parts);
    for (const q of before) {
      let list = ops.get(q);
      if (!list) ops.set(q, (list = []));
      list.push({
        t: c.token,
        ...(added.length > 0 ? { a: added } : {}),
        ...(removed.length > 0 ? { r: removed } : {}),
      });
    }
    for (const q of partsOf(c.after, parts)) {
      if (before.has(q)) continue;
      let list = ops.get(q);
      if (!list) ops.set(q, (list = []));
      list.push({ t: c.token, s: [...c.after] });
    }
  }
  const n = [...dn].filter(([, d]) => d !== 0);
  const out = new Map<number, DeltaRecord>();
  for (let q = 0; q < parts.count; q++) {
    const o = ops.get(q) ?? [];
    if (o.length > 0 || n.length > 0 || markers.length > 0) out.set(q, { p: origin, o, n, m: markers });
  }
  return out;
}
