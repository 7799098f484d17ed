// `amnesia forget <userId>`: sends a deletion request and waits for its receipt: FORGOTTEN ends it
// (exit 0), REJECTED too, with its reason on stderr and exit code 3 (FORGET_REJECTED_EXIT).
import { randomUUID } from 'node:crypto';
import { EXIT } from './help.js';
import type { Kafka } from 'kafkajs';
import type { Config } from '../config.js';
import { decodeAny } from '../input/codec.js';
import { encodeValue } from '../output/encode.js';
import { follow } from '../kafka/reader.js';
import { SchemaRegistryClient } from '../kafka/registry.js';
import { localSchema } from '../kafka/schemas.js';

export interface ForgetOptions {
  readonly userId: string;
  readonly requestId?: string;
  readonly format: 'json' | 'avro';
  readonly timeoutMs: number;
}

export async function forget(
  kafka: Kafka,
  config: Config,
  o: ForgetOptions,
): Promise<Record<string, unknown>> {
  const registry = config.registry ? new SchemaRegistryClient(config.registry) : undefined;
  const requestId = o.requestId ?? `cli-${randomUUID()}`;
  let schemaId: number | undefined;
  if (o.format === 'avro') {
    if (!registry) throw new Error('--format avro needs SCHEMA_REGISTRY_URL');
    schemaId = await registry.register(`${config.topics.deletions}-value`, localSchema('deletion').text);
  }
  // Take the receipts topic's end first, so the receipt cannot slip in before we listen.
  const admin = kafka.admin();
  await admin.connect();
  const startAt = new Map<number, number>();
  try {
    for (const o2 of await admin.fetchTopicOffsets(config.topics.receipts))
      startAt.set(o2.partition, Number(o2.high));
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  let receipt: Record<string, unknown> | undefined;
  try {
    await producer.send({
      topic: config.topics.deletions,
      acks: -1,
      messages: [
        { key: o.userId, value: encodeValue('deletion', { requestId, userId: o.userId }, schemaId) },
      ],
    });
    await follow(
      kafka,
      config.topics.receipts,
      async (m) => {
        if (m.key?.toString('utf8') !== requestId || m.value === null) return false;
        receipt = (await decodeAny(m.value, registry)) ?? undefined;
        return receipt !== undefined;
      },
      { fromBeginning: true, startAt, timeoutMs: o.timeoutMs, groupPrefix: 'amnesia-cli-forget' },
    );
  } finally {
    await producer.disconnect();
  }
  return receipt!;
}

/** The exit code of `amnesia forget` when the request was REJECTED. */
export const FORGET_REJECTED_EXIT = EXIT.REJECTED;

/** How `amnesia forget` ends on this receipt: exit code, and the message for stderr when rejected. */
export function forgetOutcome(receipt: Record<string, unknown>): { code: number; message?: string } {
  if (receipt.status !== 'REJECTED') return { code: 0 };
  const reason = typeof receipt.reason === 'string' ? receipt.reason : 'no reason given';
  return { code: FORGET_REJECTED_EXIT, message: `deletion request REJECTED: ${reason}` };
}
