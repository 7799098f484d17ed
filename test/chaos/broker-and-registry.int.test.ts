// The infrastructure failing under a running service, on a stack of this test's own:
// - the broker SIGKILLed mid-stream and restarted on the same data directory: the service process
//   rides it out and recovers by itself (no restart), outputs exact, every receipt once;
// - the schema registry stopped and restarted while Avro records with a schema id the service has
//   never seen arrive: nothing is dead-lettered for it, /livez stays 200, processing resumes.
import { COMPATIBILITY, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confluentFrame } from '../../src/output/encode.js';
import { expectExactEnd, inputProgress } from '../helpers/chaos.js';
import { Feeder } from '../helpers/feed.js';
import { readSchema, registryClient, waitFor } from '../helpers/kafka.js';
import { sampleSum, scrape } from '../helpers/metrics.js';
import type { RefEvent } from '../helpers/oracle.js';
import { privateStack, type PrivateStack } from '../helpers/private-stack.js';
import { killChildren } from '../helpers/process.js';
import { logged, probe, settledActive, startChild, tail, waitReady } from '../helpers/service-child.js';
import { harness, type Harness } from '../helpers/service.js';

let stack: PrivateStack;
beforeAll(async () => {
  stack = await privateStack();
}, 240_000);
afterAll(async () => {
  killChildren();
  await stack?.stop();
});

const committed = async (h: Harness): Promise<number> => (await inputProgress(h)).committed;

/** The schema ids of the input subjects, as the service registered them at start-up. */
async function inputSchemaIds(h: Harness): Promise<{ interaction: number; deletion: number }> {
  const registry = registryClient(stack.schemaRegistryUrl);
  return {
    interaction: await registry.getLatestSchemaId(`${h.topics.interactions}-value`),
    deletion: await registry.getLatestSchemaId(`${h.topics.deletions}-value`),
  };
}

describe('the infrastructure failing', () => {
  it('the broker SIGKILLed mid-stream and restarted: the service recovers by itself, outputs exact', async () => {
    const h = await harness(3, { infra: stack });
    const svc = await startChild(h, 'svc', { KAFKA_TRANSACTION_TIMEOUT_MS: '10000' });
    await waitReady(svc);
    const feed = new Feeder(h, {
      seed: 41,
      users: 200,
      items: 80,
      rate: 300,
      removeShare: 0.1,
      deletionEvery: 150,
      format: 'mixed',
      schemaIds: await inputSchemaIds(h),
    });
    feed.start();
    await waitFor(async () => (await committed(h)) > 500, 30_000);
    await stack.killBroker();
    await new Promise((r) => setTimeout(r, 3_000));
    const t0 = Date.now();
    await stack.restartBroker();
    const restartMs = Date.now() - t0;
    const before = await committed(h);
    await waitFor(async () => (await committed(h)) > before + 300, 120_000).catch((e: Error) => {
      throw new Error(`${e.message}: no progress after the broker came back\n${tail(svc, 30)}`);
    });
    const recoveredMs = Date.now() - t0 - restartMs;
    await feed.stop();
    await expectExactEnd(h);
    await settledActive([svc]);
    expect(svc.child.exitCode).toBeNull();
    expect(feed.requests.length).toBeGreaterThan(3);
    console.info(
      `[chaos] broker restart ${restartMs} ms; service committing again ${recoveredMs} ms after; producer retries ${feed.retries}`,
    );
  }, 240_000);

  it('the registry stopped and restarted with new schema ids arriving: nothing dead-lettered, /livez 200, processing resumes', async () => {
    const h = await harness(3, { infra: stack });
    const svc = await startChild(h, 'svc');
    await waitReady(svc);
    const ids = await inputSchemaIds(h);
    // A later version of the interaction schema (one more optional field): a new id, which the
    // service first meets while the registry is away.
    const evolved = JSON.parse(await readSchema('interaction-event')) as { fields: object[] };
    evolved.fields.push({ name: 'channel', type: ['null', 'string'], default: null });
    const { id: evolvedId } = await registryClient(stack.schemaRegistryUrl).register(
      { type: SchemaType.AVRO, schema: JSON.stringify(evolved) },
      { subject: `${h.topics.interactions}-value`, compatibility: COMPATIBILITY.BACKWARD_TRANSITIVE },
    );
    expect(evolvedId).not.toBe(ids.interaction);
    const evolvedType = avro.Type.forSchema(evolved as avro.Schema);
    const feed = new Feeder(h, {
      seed: 43,
      users: 150,
      items: 60,
      rate: 200,
      removeShare: 0.1,
      format: 'avro',
      schemaIds: ids,
    });
    feed.start();
    await waitFor(async () => (await committed(h)) > 300, 30_000);

    await stack.stopRegistry();
    feed.encodeWith((e: RefEvent) =>
      confluentFrame(evolvedId, evolvedType.toBuffer({ ...e, eventId: null, channel: 'web' })),
    );
    const livez: number[] = [];
    const outage = Date.now();
    while (Date.now() - outage < 6_000) {
      livez.push((await probe(svc.base, '/livez', 2_000)).status);
      await new Promise((r) => setTimeout(r, 250));
    }
    await waitFor(() => logged(svc, 'schema registry unavailable, retrying'), 10_000).catch((e: Error) => {
      throw new Error(`${e.message}: the service never waited for the registry\n${tail(svc)}`);
    });
    await stack.restartRegistry();
    const back = await committed(h);
    await waitFor(async () => (await committed(h)) > back + 200, 60_000);
    await feed.stop();

    await expectExactEnd(h);
    await settledActive([svc]);
    expect(livez.every((s) => s === 200)).toBe(true);
    expect(await h.records(`${h.topics.interactions}.dlq`)).toEqual([]);
    expect(sampleSum(await scrape(svc.base), 'amnesia_dlq_records_total')).toBe(0);
  }, 180_000);
});
