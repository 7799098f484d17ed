// The forgetting audit: after a user is forgotten — with a failover earlier, a dead-lettered record of
// theirs, and snapshots on both replicas — every store the service writes is searched for the
// user's id bytes: each snapshot directory, every record ever written to the output and progress
// topics (read_committed, whole history), the logs of both replicas (debug level), /metrics and
// the HTTP API including the inspector. The id is found nowhere but where the documentation says:
// the DLQ, within its retention — and the receipt states that retention truthfully.
import { modelOf } from '../../src/service.js';
import { randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { ConfigResourceTypes } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { createLogger } from '../../src/log.js';
import { readToEnd } from '../../src/kafka/reader.js';
import { filesIn, tempDirs } from '../helpers/files.js';
import { waitFor } from '../helpers/kafka.js';
import type { RefEvent } from '../helpers/oracle.js';
import { harness } from '../helpers/service.js';

const tempDir = tempDirs('amnesia-audit');
const apps = new Set<App>();
afterAll(async () => {
  await Promise.allSettled([...apps].map((a) => a.stop()));
});

/** A logger at debug level whose every line is kept. */
function capturingLogger(lines: string[]) {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return createLogger('debug', sink);
}

async function everyFileIn(dir: string): Promise<Buffer[]> {
  return (await filesIn(dir)).flatMap((f) => [Buffer.from(f.name), f.bytes]);
}

describe('the forgetting audit', () => {
  it("finds a forgotten user's id nowhere but in the DLQ, whose retention the receipt states", async () => {
    const h = await harness(2, { dlqByService: true });
    const victim = `victim-${randomUUID()}`;
    const needle = Buffer.from(victim, 'utf8');
    const [dirA, dirB] = [await tempDir(), await tempDir()];
    const logsA: string[] = [];
    const logsB: string[] = [];
    const env = (dir: string) => ({
      SNAPSHOT_DIR: dir,
      SNAPSHOT_INTERVAL_MS: '1000',
      HTTP_PORT: '0',
      INSPECTOR_ENABLED: 'true',
      LOG_LEVEL: 'debug',
      DLQ_RETENTION_MS: String(3 * 86_400_000),
    });
    const start = async (dir: string, lines: string[]) => {
      const app = await startApp(h.config(env(dir)), { log: capturingLogger(lines) });
      apps.add(app);
      return app;
    };

    const t0 = Date.now() - 600_000;
    const events: RefEvent[] = [
      ...['a', 'b', 'c'].map((itemId, k) => ({
        userId: victim,
        itemId,
        action: 'ADD' as const,
        occurredAt: t0 + k,
      })),
      ...['a', 'b', 'd'].map((itemId, k) => ({
        userId: 'bystander',
        itemId,
        action: 'ADD' as const,
        occurredAt: t0 + 10 + k,
      })),
    ];
    let a = await start(dirA, logsA);
    await a.service.waitUntilReady(30_000);
    await h.produceEvents(events, 'json');
    await h.produce(h.topics.interactions, [{ key: victim, value: Buffer.from('{"userId": not json') }]);
    await h.waitProcessed();
    await waitFor(
      async () => ((await readdir(dirA)).some((n) => n.endsWith('.amnesia')) ? true : undefined),
      15_000,
    );

    // A failover: B takes over (A stops), then A comes back as the standby.
    const b = await start(dirB, logsB);
    await a.stop();
    apps.delete(a);
    await b.service.waitUntilReady(30_000);
    a = await start(dirA, logsA);
    await waitFor(() => a.service.phase === 'standby', 30_000);

    const requestId = `dsr-${randomUUID()}`;
    await h.produceDeletions([{ requestId, userId: victim, requestedAt: Date.now() }], 'json');
    const receipt = await waitFor(async () => {
      const r = (await h.receipts()).get(requestId);
      return r?.status === 'PURGED' ? r : undefined;
    }, 60_000);
    expect(modelOf(b.service).items(victim)).toEqual([]);

    // Snapshot directories (names and contents) of both replicas.
    for (const bytes of [...(await everyFileIn(dirA)), ...(await everyFileIn(dirB))])
      expect(bytes.includes(needle)).toBe(false);
    // Every record ever written to the outputs and the progress topic (keys, values, headers).
    for (const topic of [h.topics.similarities, h.topics.receipts, 'amnesia-progress']) {
      const read = await readToEnd(h.kafka, topic, (m) => {
        const headers = JSON.stringify(m.headers ?? {});
        const found = [m.key, m.value, Buffer.from(headers)].some((x) => x?.includes(needle) ?? false);
        expect(found, `${topic} offset ${m.offset}`).toBe(false);
      });
      expect(read, topic).toBeGreaterThan(0);
    }
    // Logs of both replicas, at debug level.
    expect(logsA.length + logsB.length).toBeGreaterThan(50);
    for (const line of [...logsA, ...logsB]) expect(line.includes(victim), line).toBe(false);
    // Metrics and the HTTP API (the inspector's state pages included) of both replicas.
    for (const app of [a, b]) {
      for (const p of [
        '/metrics',
        '/readyz',
        '/items/a/neighbors',
        '/items/b/similarity/a',
        '/inspector/state',
        '/inspector/state?limit=40',
      ]) {
        const res = await fetch(`${app.http.url}${p}`);
        expect((await res.text()).includes(victim), `${p}`).toBe(false);
      }
      // The active replica: nothing stored. The standby holds no live state: no user data at all.
      const res = await fetch(`${app.http.url}/users/${victim}/items`);
      const body = (await res.json()) as { items?: string[]; error?: { code: string } };
      if (app === b) expect(body.items).toEqual([]);
      else expect([res.status, body.error?.code]).toEqual([503, 'NOT_LIVE']);
    }
    // The one documented place: the DLQ keeps the malformed record, within its retention.
    const dlq = await h.records(`${h.topics.interactions}.dlq`);
    expect(dlq.some((r) => r.key === victim)).toBe(true);
    const admin = h.kafka.admin();
    await admin.connect();
    const described = await admin.describeConfigs({
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: `${h.topics.interactions}.dlq`,
          configNames: ['retention.ms', 'segment.ms'],
        },
      ],
      includeSynonyms: false,
    });
    await admin.disconnect();
    const setting = (name: string) =>
      Number(described.resources[0]?.configEntries.find((c) => c.configName === name)?.configValue);
    expect(setting('retention.ms')).toBe(3 * 86_400_000);
    // A record leaves with its segment: at most retention.ms + segment.ms after it was written.
    expect(Number(receipt?.dlqRetentionMs)).toBe(setting('retention.ms') + setting('segment.ms'));
  });
});
