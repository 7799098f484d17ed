// The CLI commands against a running service: load a CSV, forget a user and get the receipt,
// watch the updates.
import { modelOf } from '../../src/service.js';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { forget, forgetOutcome } from '../../src/cli/forget.js';
import { load } from '../../src/cli/load.js';
import { watch } from '../../src/cli/watch.js';
import { harness } from '../helpers/service.js';

describe('the amnesia CLI', () => {
  it('loads a MovieLens CSV, forgets a user with a receipt, and watches the lists', async () => {
    const h = await harness(2);
    const svc = await h.start();
    await svc.waitUntilReady(30_000);
    const dir = mkdtempSync(path.join(tmpdir(), 'amnesia-cli-'));
    const file = path.join(dir, 'ratings.csv');
    const rows = ['userId,movieId,rating,timestamp'];
    for (let u = 1; u <= 30; u++)
      for (let k = 0; k < 5; k++) rows.push(`${u},${(u * 7 + k * 3) % 11},4.0,${1_600_000_000 + u}`);
    writeFileSync(file, `${rows.join('\n')}\n`);

    const config = h.config();
    const producer = h.kafka.producer();
    await producer.connect();
    const r = await load(producer, config, {
      file,
      topic: h.topics.interactions,
      format: 'avro',
      rate: 0,
      batchSize: 40,
      inFlight: 2,
    });
    await producer.disconnect();
    expect(r).toMatchObject({ events: 150, skipped: 0, layout: 'movielens' });
    await h.waitProcessed();
    const items = modelOf(svc).items('7');
    expect(items.length).toBeGreaterThan(0);

    const receipt = await forget(h.kafka, config, {
      userId: '7',
      requestId: 'cli-test-1',
      format: 'json',
      timeoutMs: 20_000,
    });
    expect(receipt).toMatchObject({
      requestId: 'cli-test-1',
      status: 'FORGOTTEN',
      interactionsRemoved: items.length,
    });
    expect(modelOf(svc).items('7')).toEqual([]);
    expect(forgetOutcome(receipt).code).toBe(0);

    // A request the service cannot carry out (a userId over 256 characters) ends it too: REJECTED.
    const rejected = await forget(h.kafka, config, {
      userId: 'x'.repeat(300),
      requestId: 'cli-test-rejected',
      format: 'json',
      timeoutMs: 20_000,
    });
    expect(rejected).toMatchObject({
      requestId: 'cli-test-rejected',
      status: 'REJECTED',
      reason: 'invalid-user-id',
    });
    expect(forgetOutcome(rejected)).toEqual({
      code: 3,
      message: 'deletion request REJECTED: invalid-user-id',
    });

    const lines: string[] = [];
    const n = await watch(h.kafka, config, { fromBeginning: true, limit: 3, timeoutMs: 20_000 }, (l) =>
      lines.push(l),
    );
    expect(n).toBe(3);
    for (const l of lines) expect(JSON.parse(l)).toHaveProperty('itemId');
    await svc.stop();
  });
});
