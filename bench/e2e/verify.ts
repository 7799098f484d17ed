// Checks what a run published against the model alone: the similarities topic, read to its end by a
// read_committed consumer (last value per key, as compaction would keep), must hold one list per item
// with n > 0, each equal to the reference model's list (n, neighbours, co-occurrences, similarity).
import type { Kafka } from 'kafkajs';
import type { Model, NeighborList } from '../../src/model/index.js';
import { decodeAny } from '../../src/input/codec.js';
import { readToEnd } from '../../src/kafka/reader.js';
import type { SchemaRegistryClient } from '../../src/kafka/registry.js';

export interface ListCheck {
  /** Records read (a key may appear more than once until compaction). */
  readonly records: number;
  readonly keys: number;
  /** Items of the reference model with n > 0. */
  readonly expected: number;
  readonly missing: number;
  /** Keys with a list although the reference has no such item (or a tombstone where it has one). */
  readonly extra: number;
  readonly different: number;
  /** The first difference, for the report (item ids only: no user ids are involved). */
  readonly example?: string;
  readonly ok: boolean;
}

interface Published {
  readonly itemId: string;
  readonly interactions: number;
  readonly neighbors: readonly { itemId: string; similarity: number; cooccurrences: number }[];
}

/** Why `got` is not `want`, or undefined when they are equal. */
export function listDifference(want: NeighborList, got: Published): string | undefined {
  if (got.itemId !== want.itemId) return `key ${want.itemId} holds item ${got.itemId}`;
  if (Number(got.interactions) !== want.interactions)
    return `${want.itemId}: n ${got.interactions}, expected ${want.interactions}`;
  if (got.neighbors.length !== want.neighbors.length)
    return `${want.itemId}: ${got.neighbors.length} neighbours, expected ${want.neighbors.length}`;
  for (let k = 0; k < want.neighbors.length; k++) {
    const w = want.neighbors[k]!;
    const g = got.neighbors[k]!;
    if (g.itemId !== w.itemId || Number(g.cooccurrences) !== w.cooccurrences || g.similarity !== w.similarity)
      return `${want.itemId}: neighbour ${k} is ${g.itemId} (${g.cooccurrences}, ${g.similarity}), expected ${w.itemId} (${w.cooccurrences}, ${w.similarity})`;
  }
  return undefined;
}

export async function checkPublishedLists(
  kafka: Kafka,
  topic: string,
  registry: SchemaRegistryClient | undefined,
  reference: Model,
): Promise<ListCheck> {
  const last = new Map<string, Buffer | null>();
  const records = await readToEnd(
    kafka,
    topic,
    (m) => {
      if (m.key !== null) last.set(m.key.toString('utf8'), m.value);
    },
    { timeoutMs: 120_000, groupPrefix: 'bench-verify' },
  );
  let missing = 0;
  let extra = 0;
  let different = 0;
  let example: string | undefined;
  const note = (why: string) => (example ??= why);
  const expected = reference.itemIds().filter((i) => reference.interactions(i) > 0);
  for (const itemId of expected) {
    const want = reference.neighbors(itemId)!;
    const value = last.get(itemId);
    if (value === undefined || value === null) {
      missing++;
      note(`${itemId}: no list published`);
      continue;
    }
    const got = (await decodeAny(value, registry)) as unknown as Published;
    const why = listDifference(want, got);
    if (why !== undefined) {
      different++;
      note(why);
    }
  }
  const wanted = new Set(expected);
  for (const [key, value] of last)
    if (!wanted.has(key) && value !== null) {
      extra++;
      note(`${key}: published, but not an item of the model`);
    }
  return {
    records,
    keys: last.size,
    expected: expected.length,
    missing,
    extra,
    different,
    ...(example !== undefined ? { example } : {}),
    ok: missing + extra + different === 0,
  };
}
