// The service as a process (src/main.ts): configuration errors exit 1 before connecting, SIGTERM
// stops gracefully with exit 0, and a SIGKILLed active instance is replaced by the standby.
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/stack.mjs';
import { waitFor } from '../helpers/kafka.js';
import { isLive, killChildren, runService, type ServiceProcess } from '../helpers/process.js';
import { bruteForceLists, survivingHistory, type RefEvent } from '../helpers/oracle.js';
import { expectListsEventually, harness, type Harness } from '../helpers/service.js';

afterAll(killChildren);

type Proc = ServiceProcess;
const run = runService;
const exitCode = async (p: Proc): Promise<number | null> => (await p.exited).code;

function envOf(h: Harness, extra: Record<string, string> = {}): Record<string, string> {
  const c = h.config();
  return {
    KAFKA_BROKERS: c.kafka.brokers.join(','),
    SCHEMA_REGISTRY_URL: c.registry!.url,
    KAFKA_GROUP_ID: h.groupId,
    INTERACTIONS_TOPIC: h.topics.interactions,
    DELETIONS_TOPIC: h.topics.deletions,
    SIMILARITIES_TOPIC: h.topics.similarities,
    RECEIPTS_TOPIC: h.topics.receipts,
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    KAFKA_HEARTBEAT_INTERVAL_MS: '500',
    LOG_LEVEL: 'info',
    HTTP_PORT: '0',
    ...extra,
  };
}

describe('the service process', () => {
  it('exits 1 on a bad variable, naming it, without connecting', async () => {
    const p = run({ TOP_K: 'lots', KAFKA_BROKERS: '127.0.0.1:1' });
    expect(await exitCode(p)).toBe(1);
    expect(p.lines.join('\n')).toMatch(/TOP_K/);
    expect(p.lines.join('\n')).not.toMatch(/kafkajs/);
  });

  it('serves health, metrics and queries over HTTP, and stops gracefully on SIGTERM with exit 0', async () => {
    const h = await harness(1);
    const port = await freePort();
    const p = run(envOf(h, { HTTP_PORT: String(port) }));
    await waitFor(() => isLive(p), 30_000);
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/livez`)).status).toBe(200);
    await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, 10_000);
    await h.produceEvents(
      [
        { userId: 'a', itemId: 'x', action: 'ADD', occurredAt: 1_700_000_000_000 },
        { userId: 'a', itemId: 'y', action: 'ADD', occurredAt: 1_700_000_000_000 },
      ],
      'json',
    );
    await waitFor(async () => (await fetch(`${base}/items/x/neighbors`)).status === 200, 15_000);
    expect(await (await fetch(`${base}/items/x/similarity/y`)).json()).toEqual({
      similarity: 1,
      cooccurrences: 1,
      interactionsA: 1,
      interactionsB: 1,
    });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    for (const name of ['amnesia_build_info', 'amnesia_consumer_lag', 'amnesia_events_consumed_total'])
      expect(metrics).toContain(`# TYPE ${name}`);
    expect(metrics).toMatch(/amnesia_consumer_lag\{[^}]*topic="[^"]+"[^}]*\} 0/);
    const t0 = Date.now();
    p.child.kill('SIGTERM');
    expect(await exitCode(p)).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(p.lines.some((l) => l.includes('"msg":"stopped"'))).toBe(true);
  });

  it('a standby takes over when the active process is killed', async () => {
    const h = await harness(2);
    const active = run(envOf(h));
    await waitFor(() => isLive(active), 30_000);
    const standby = await h.start();
    await waitFor(() => standby.phase === 'standby', 30_000);

    const events: RefEvent[] = [];
    for (let u = 0; u < 20; u++)
      for (let i = 0; i < 4; i++)
        events.push({
          userId: `u${u}`,
          itemId: `i${(u + i) % 7}`,
          action: 'ADD',
          occurredAt: 1_700_000_000_000,
        });
    await h.produceEvents(events, 'mixed', standby.schemaIds);
    await h.waitProcessed();
    expect(standby.phase).toBe('standby');

    active.child.kill('SIGKILL');
    await active.exited;
    // the group notices after the session timeout (6 s), then the standby rebuilds
    await standby.waitUntilReady(40_000);
    const more: RefEvent[] = [
      { userId: 'late', itemId: 'i1', action: 'ADD', occurredAt: 1_700_000_000_001 },
      { userId: 'late', itemId: 'i2', action: 'ADD', occurredAt: 1_700_000_000_001 },
    ];
    await h.produceEvents(more, 'json');
    await h.waitProcessed();
    await expectListsEventually(h, bruteForceLists(survivingHistory([...events, ...more], []), 20, 1));
    await standby.stop();
  });
});
