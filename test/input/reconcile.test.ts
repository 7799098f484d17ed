import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { Outbox, OutputEncoder } from '../../src/output/outbox.js';
import { canonicalList, PublishedOutputs } from '../../src/input/reconcile.js';
import type { Outgoing } from '../../src/kafka/ports.js';

const list = (itemId: string, interactions: number, neighbor?: string) => ({
  itemId,
  interactions,
  neighbors: neighbor ? [{ itemId: neighbor, similarity: 0.5, cooccurrences: 1 }] : [],
});
const json = (v: object) => Buffer.from(JSON.stringify(v));

describe('reconciling a rebuilt state with the output topics', () => {
  it('compares lists without their updatedAt, and long-as-number values alike', () => {
    const a = { ...list('x', 2, 'y'), updatedAt: 1 };
    const b = { ...a, updatedAt: 99 };
    expect(canonicalList(a)).toBe(canonicalList(b));
    expect(canonicalList(a)).not.toBe(canonicalList({ ...a, interactions: 3 }));
  });

  it('publishes only lists that differ, tombstones what is gone, and receipts that are missing', async () => {
    const seen = new PublishedOutputs();
    await seen.noteList('same', json({ ...list('same', 2, 'b'), updatedAt: 5 }), undefined);
    await seen.noteList('changed', json(list('changed', 1)), undefined);
    await seen.noteList('gone', json(list('gone', 1)), undefined);
    await seen.noteList('deleted', json(list('deleted', 1)), undefined);
    await seen.noteList('deleted', null, undefined); // a tombstone later in the topic
    await seen.noteReceipt('r-done', json({ requestId: 'r-done', status: 'PURGED' }), undefined);
    expect(seen.receiptStatus('r-done')).toBe('PURGED');
    const outbox = new Outbox(
      { similarities: 'sim', receipts: 'rec' },
      new OutputEncoder(undefined),
      createMetrics(),
    );
    const receipt = (requestId: string) => ({
      receipt: {
        requestId,
        status: 'FORGOTTEN' as const,
        interactionsRemoved: 1,
        itemsAffected: 1,
        completedAt: 0,
      },
      recordMs: 0,
    });
    const out = seen.reconcile(
      { changed: [list('same', 2, 'b'), list('changed', 2), list('new', 1)], removed: [] },
      [receipt('r-done'), receipt('r-new')],
      outbox,
      7,
    );
    expect(out).toEqual({ listsPublished: 2, listsUnchanged: 1, tombstones: 1, receipts: 1 });
    let sent: readonly Outgoing[] = [];
    await outbox.drain((records) => {
      sent = records;
      return Promise.resolve();
    });
    expect(sent.map((r) => [r.topic, r.message.key, r.message.value === null])).toEqual([
      ['sim', 'changed', false],
      ['sim', 'new', false],
      ['sim', 'gone', true],
      ['rec', 'r-new', false],
    ]);
  });
});
