// Deletion receipts as the outside world sees them: a kafkajs consumer of the receipts topic (own
// throwaway group, starting at the topic's end as of start-up), keeping the latest few in memory.
// Receipts carry no user id, so nothing personal is held or shown here.
import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import { describeError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { decodeAny } from '../../input/codec.js';
import type { SchemaRegistryClient } from '../../kafka/registry.js';

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
        // Start at the end as of now, on every partition (also empty ones), so a receipt
        // produced while the group is still joining is not skipped.
        const admin = kafka.admin();
        await admin.connect();
        const startAt = new Map<number, number>();
        try {
          for (const o of await admin.fetchTopicOffsets(topic)) startAt.set(o.partition, Number(o.high));
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
            kept.unshift(r);
            kept.length = Math.min(kept.length, KEEP_RECEIPTS);
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
    const admin = kafka.admin();
    await admin
      .connect()
      .then(() => admin.deleteGroups([groupId]))
      .catch(() => undefined)
      .finally(() => admin.disconnect().catch(() => undefined));
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
