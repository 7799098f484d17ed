// Deletion receipts as the outside world sees them: a kafkajs consumer of the receipts topic (own
// throwaway group) that starts at the last KEEP_RECEIPTS records of every partition, so the panel
// shows the receipts already on the topic (the demo's forget of Marge, before the page was opened),
// and keeps the newest few (by completedAt) in memory.
// Receipts carry no user id, so nothing personal is held or shown here.
import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import { describeError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { decodeAny } from '../../input/codec.js';
import type { SchemaRegistryClient } from '../../kafka/registry.js';
import { deleteGroup } from '../../kafka/reader.js';

export const KEEP_RECEIPTS = 20;

export interface ShownReceipt {
  readonly requestId: string;
  readonly status: string;
  readonly interactionsRemoved: number;
  readonly itemsAffected: number;
  readonly completedAt: number;
}

export interface ReceiptFeed {
  /** Newest first, at most KEEP_RECEIPTS. */
  latest(): readonly ShownReceipt[];
  /** Resolves once the consumer has joined its group (receipts from then on are seen). */
  readonly joined: Promise<void>;
  close(): Promise<void>;
}

function toShown(v: Record<string, unknown>): ShownReceipt | undefined {
  if (typeof v.requestId !== 'string' || typeof v.status !== 'string') return undefined;
  return {
    requestId: v.requestId,
    status: v.status,
    interactionsRemoved: Number(v.interactionsRemoved ?? 0),
    itemsAffected: Number(v.itemsAffected ?? 0),
    completedAt: Number(v.completedAt ?? 0),
  };
}

/** Adds `r` to `kept` (newest completedAt first, at most KEEP_RECEIPTS; a request's status once). */
export function keep(kept: ShownReceipt[], r: ShownReceipt): void {
  const same = kept.findIndex((k) => k.requestId === r.requestId && k.status === r.status);
  if (same >= 0) kept.splice(same, 1);
  let at = 0;
  while (at < kept.length && kept[at]!.completedAt >= r.completedAt) at++;
  kept.splice(at, 0, r);
  kept.length = Math.min(kept.length, KEEP_RECEIPTS);
}

export function followReceipts(opts: {
  kafka: Kafka;
  topic: string;
  registry?: SchemaRegistryClient;
  log: Logger;
  onReceipt: (r: ShownReceipt) => void;
}): ReceiptFeed {
  const { kafka, topic, registry, log } = opts;
  const kept: ShownReceipt[] = [];
  const abort = new AbortController();
  const aborted = new Promise<void>((resolve) => abort.signal.addEventListener('abort', () => resolve()));
  let markJoined!: () => void;
  const joined = new Promise<void>((resolve) => (markJoined = resolve));

  let consumer: Consumer | undefined;
  const groupId = `amnesia-inspector-${randomUUID()}`;

  const run = async () => {
    while (!abort.signal.aborted) {
      try {
        // Start KEEP_RECEIPTS records before the end as of now, on every partition (also empty
        // ones): the newest receipts already out are shown, and one produced while the group is
        // still joining is not skipped.
        const admin = kafka.admin();
        await admin.connect();
        const startAt = new Map<number, number>();
        try {
          for (const o of await admin.fetchTopicOffsets(topic))
            startAt.set(o.partition, Math.max(Number(o.low), Number(o.high) - KEEP_RECEIPTS));
        } finally {
          await admin.disconnect();
        }
        if (abort.signal.aborted) break;
        const c = kafka.consumer({ groupId, maxWaitTimeInMs: 250, allowAutoTopicCreation: false });
        consumer = c;
        c.on(c.events.GROUP_JOIN, () => {
          // seek() here lands before the first fetch of the generation.
          for (const [partition, offset] of startAt) c.seek({ topic, partition, offset: String(offset) });
          markJoined();
        });
        await c.connect();
        await c.subscribe({ topics: [topic], fromBeginning: false });
        const crashed = new Promise<void>((resolve) =>
          c.on(c.events.CRASH, (e) => {
            if (!(e.payload as { restart?: boolean }).restart) resolve();
          }),
        );
        await c.run({
          autoCommit: false,
          eachMessage: async ({ message }) => {
            const v = await decodeAny(message.value, registry).catch(() => null);
            const r = v ? toShown(v) : undefined;
            if (!r) return;
            keep(kept, r);
            opts.onReceipt(r);
          },
        });
        // Runs until closed (abort) or crashed for good (then start over).
        await Promise.race([crashed, aborted]);
        await c.disconnect().catch(() => undefined);
      } catch (e) {
        if (abort.signal.aborted) break;
        log.warn({ err: describeError(e), topic }, 'receipts consumer failed, retrying');
        await consumer?.disconnect().catch(() => undefined);
        await Promise.race([new Promise((r) => setTimeout(r, 2_000)), aborted]);
      }
    }
    await consumer?.disconnect().catch(() => undefined);
    // The group never committed anything; deleting it keeps the broker's group list tidy.
    await deleteGroup(kafka, groupId);
  };
  const running = run();

  return {
    latest: () => kept,
    joined,
    async close() {
      abort.abort();
      await running;
    },
  };
}
