// Smoke test of the test infrastructure itself: the broker and the Confluent-compatible registry
// answer, the four schemas register, and an event round-trips in both input encodings.
import { describe, expect, it } from 'vitest';
import {
  consumeN,
  createTopics,
  decodeValue,
  kafkaBrokers,
  produce,
  registerSchema,
  registryClient,
  schemaRegistryUrl,
  uniqueName,
} from '../helpers/kafka.js';

const SCHEMAS = ['interaction-event', 'deletion-request', 'item-neighbors', 'deletion-receipt'] as const;

describe('local stack', () => {
  it('an interaction event reads the same in Avro and in JSON', async () => {
    // The global setup hands the endpoints to workers both through inject() and the environment.
    expect(process.env.KAFKA_BROKERS).toBe(kafkaBrokers());
    expect(process.env.SCHEMA_REGISTRY_URL).toBe(schemaRegistryUrl());
    const topic = uniqueName();
    await createTopics(kafkaBrokers(), [topic]);
    const registry = registryClient();

    const ids: Record<string, number> = {};
    for (const name of SCHEMAS) {
      const subject = `${topic}.${name}-value`;
      ids[name] = await registerSchema(registry, subject, name);
      expect(ids[name]).toBeGreaterThan(0);
    }
    const interactionId = await registerSchema(registry, `${topic}-value`, 'interaction-event');
    expect(interactionId).toBe(ids['interaction-event']);

    const event = { userId: '414', itemId: '356', action: 'ADD', occurredAt: 1493846415000, eventId: 'e-1' };
    const avro = await registry.encode(interactionId, event);
    expect(avro[0]).toBe(0x00);
    await produce(topic, [
      { key: event.userId, value: avro },
      { key: event.userId, value: Buffer.from(JSON.stringify(event)) },
    ]);

    const records = await consumeN(topic, 2, 30_000);
    expect(records.map((r) => r.key)).toEqual(['414', '414']);
    const decoded = await Promise.all(records.map((r) => decodeValue(registry, r.value ?? Buffer.alloc(0))));
    expect(decoded[0]).toEqual(event);
    expect(decoded[1]).toEqual(decoded[0]);

    // The subject is listed by the registry (asked by name: a long-lived registry pages /subjects).
    const res = await fetch(`${schemaRegistryUrl()}/subjects/${topic}-value/versions`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as number[]).length).toBeGreaterThan(0);
  });
});
