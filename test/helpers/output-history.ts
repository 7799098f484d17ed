// The output topics as a history, for the chaos tests: every committed record (read_committed, the
// whole log, not the compacted view) with the producer id and epoch of the batch that carried it.
// From it: lists that go backwards, writers out of order (a fenced instance's records after its
// successor's), and receipts counted per request (exactly once means no duplicates).
import type { KafkaMessage } from 'kafkajs';
import { readToEnd } from '../../src/kafka/reader.js';
import { decodeValue, registryClient } from './kafka.js';
import type { Harness } from './service.js';

export interface OutputRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  readonly value: Record<string, unknown> | null;
  /** The transactional producer's id and epoch (kafkajs keeps them on each decoded record). */
  readonly producerId: string;
  readonly epoch: number;
}

type WithBatch = KafkaMessage & { batchContext?: { producerId?: string; producerEpoch?: number } };

/** Every committed record of `topic`, in each partition's order. */
export async function history(h: Harness, topic: string): Promise<OutputRecord[]> {
  const registry = registryClient(h.config().registry?.url);
  const out: OutputRecord[] = [];
  await readToEnd(h.kafka, topic, async (m: WithBatch, partition) => {
    out.push({
      topic,
      partition,
      offset: Number(m.offset),
      key: m.key?.toString('utf8') ?? null,
      value: m.value === null ? null : ((await decodeValue(registry, m.value)) as Record<string, unknown>),
      producerId: m.batchContext?.producerId ?? '?',
      epoch: m.batchContext?.producerEpoch ?? -1,
    });
  });
  return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

/**
 * Items whose published `interactions` went down from one record to the next (in topic order).
 * With adds only, n_i never decreases, so any such step is a stale list published late.
 */
export function listsGoingBack(records: readonly OutputRecord[]): string[] {
  const last = new Map<string, { n: number; at: string }>();
  const out: string[] = [];
  for (const r of records) {
    if (r.key === null) continue;
    const at = `${r.partition}@${r.offset} (epoch ${r.epoch})`;
    const n = r.value === null ? 0 : Number(r.value.interactions);
    const prev = last.get(r.key);
    if (prev && n < prev.n) out.push(`${r.key}: ${prev.n} at ${prev.at} → ${n} at ${at}`);
    last.set(r.key, { n, at });
  }
  return out;
}

/**
 * Records that break the single-writer order: written by another producer than the transactional
 * id's, or with an older epoch than a record before them in the same partition (a fenced writer's
 * records committed after its successor's).
 */
export function writersOutOfOrder(records: readonly OutputRecord[]): string[] {
  const ids = new Set(records.map((r) => r.producerId));
  const out = ids.size > 1 ? [`${ids.size} producer ids: ${[...ids].join(', ')}`] : [];
  const newest = new Map<string, number>();
  for (const r of records) {
    const p = `${r.topic}/${r.partition}`;
    const seen = newest.get(p) ?? -1;
    if (r.epoch < seen) out.push(`${p}@${r.offset}: epoch ${r.epoch} after epoch ${seen}`);
    newest.set(p, Math.max(seen, r.epoch));
  }
  return out;
}

/** Receipt records per request id and status: exactly once means every count is 1. */
export function receiptCounts(records: readonly OutputRecord[]): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const r of records) {
    if (r.key === null || r.value === null) continue;
    const byStatus = out.get(r.key) ?? {};
    const status = String(r.value.status);
    byStatus[status] = (byStatus[status] ?? 0) + 1;
    out.set(r.key, byStatus);
  }
  return out;
}

/** Requests whose FORGOTTEN receipt is missing or published more than once (empty: all exactly once). */
export function receiptsNotOnce(
  records: readonly OutputRecord[],
  requestIds: readonly string[],
): Record<string, Record<string, number>> {
  const counts = receiptCounts(records);
  const wrong: Record<string, Record<string, number>> = {};
  for (const id of requestIds) {
    const c = counts.get(id) ?? {};
    const others = Object.keys(c).filter((s) => s !== 'FORGOTTEN' && s !== 'PURGED');
    if (c.FORGOTTEN !== 1 || (c.PURGED ?? 0) > 1 || others.length > 0) wrong[id] = c;
  }
  const unknown = [...counts.keys()].filter((k) => !requestIds.includes(k));
  if (unknown.length > 0) wrong['(unrequested)'] = { count: unknown.length };
  return wrong;
}
