// Bad input at the broker's size limit must not stop the service: its dead-letter copy is bounded
// (empty value; key, reason, origin, original size and SHA-256 kept) when it would exceed
// DLQ_MAX_RECORD_BYTES, and tightened further when the DLQ topic's own limit is lower still (the
// broker refuses the copy as too large). The valid events around it are all applied.
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigResourceTypes, type Message } from 'kafkajs';
import { encodeValue } from '../../src/output/encode.js';
import { DLQ_HEADERS } from '../../src/output/dlq.js';
import { expectExactEnd } from '../helpers/chaos.js';
import type { RefEvent } from '../helpers/oracle.js';
import { harness, type Harness } from '../helpers/service.js';

/** Invalid JSON of exactly `bytes` bytes (valid UTF-8), random so that no codec shrinks it much. */
const junk = (bytes: number): Buffer =>
  Buffer.from(
    `{${randomBytes(bytes)
      .toString('base64')
      .slice(0, bytes - 1)}`,
  );

function around(user: string, t: number): [RefEvent, RefEvent] {
  return [
    { userId: user, itemId: 'x', action: 'ADD', occurredAt: t },
    { userId: user, itemId: 'y', action: 'ADD', occurredAt: t + 1 },
  ];
}

async function produceAround(h: Harness, bad: Message, t: number): Promise<void> {
  const [a, b] = around(String(bad.key), t);
  await h.produce(h.topics.interactions, [
    { key: a.userId, value: encodeValue('interaction', a) },
    { ...bad, headers: { 'test-case': 'oversized' } },
    { key: b.userId, value: encodeValue('interaction', b) },
  ]);
}

async function expectBoundedCopy(h: Harness, bad: Message, offset: number): Promise<void> {
  const dlq = await h.records(`${h.topics.interactions}.dlq`);
  expect(dlq).toHaveLength(1);
  const copy = dlq[0]!;
  const value = bad.value as Buffer;
  expect(copy.key).toBe(bad.key);
  expect(copy.value?.length ?? 0).toBe(0);
  expect(copy.headers).toMatchObject({
    [DLQ_HEADERS.reason]: 'invalid-json',
    [DLQ_HEADERS.topic]: h.topics.interactions,
    [DLQ_HEADERS.offset]: String(offset),
    [DLQ_HEADERS.originalBytes]: String(value.length),
    [DLQ_HEADERS.originalSha256]: createHash('sha256').update(value).digest('hex'),
  });
}

/** The service takes the bad record between two valid events: exact lists, one bounded DLQ copy. */
async function expectBoundedAndExact(h: Harness, bad: Message): Promise<void> {
  const svc = await h.start({ OUTPUT_FORMAT: 'json' });
  await svc.waitUntilReady(30_000);
  await produceAround(h, bad, Date.now() - 60_000);
  await expectExactEnd(h, { invalid: 1 });
  await expectBoundedCopy(h, bad, 1);
  expect(svc.phase).toBe('live');
  await svc.stop();
}

describe('an oversized bad record', () => {
  it('near the broker limit: a bounded copy in the DLQ, the events around it applied', async () => {
    // The broker takes records up to message.max.bytes (1 MiB + 12 by default), batch overhead included.
    await expectBoundedAndExact(await harness(1), { key: 'u-big', value: junk(1_040_000) });
  });

  it('under the service bound but over the DLQ topic limit: tightened until the broker takes it', async () => {
    const h = await harness(1);
    const admin = h.kafka.admin();
    await admin.connect();
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: `${h.topics.interactions}.dlq`,
          configEntries: [{ name: 'max.message.bytes', value: '100000' }],
        },
      ],
    });
    await admin.disconnect();
    await expectBoundedAndExact(h, { key: 'u-mid', value: junk(300_000) });
  });
});
