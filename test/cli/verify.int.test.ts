// `amnesia verify`: recomputing from the input topics agrees with what the running service published
// (after deletions and late events), and a list that does not match is reported.
import { modelOf } from '../../src/service.js';
import { describe, expect, it } from 'vitest';
import { verify } from '../../src/cli/verify.js';
import { SchemaRegistryClient } from '../../src/kafka/registry.js';
import { scenario } from '../helpers/generator.js';
import { harness, waitForReceipts } from '../helpers/service.js';

describe('amnesia verify', () => {
  it('finds the published lists identical to a recomputation, and reports a tampered one', async () => {
    const h = await harness(2);
    const s = scenario({ seed: 11, users: 30, items: 20, events: 500, forget: 5 });
    const svc = await h.start();
    await svc.waitUntilReady(30_000);
    await h.produceEvents(s.before, 'mixed', svc.schemaIds);
    await h.produceDeletions(s.deletions, 'mixed', svc.schemaIds);
    await waitForReceipts(
      h,
      s.deletions.map((d) => d.requestId),
    );
    await h.produceEvents(s.after, 'mixed', svc.schemaIds);
    await h.waitProcessed();
    const config = h.config();
    const registry = new SchemaRegistryClient(config.registry!);

    const lines: string[] = [];
    const progress: string[] = [];
    const stream = { isTTY: false, write: (t: string) => progress.push(t) };
    expect(
      await verify(h.kafka, config, registry, { timeoutMs: 30_000, progress: stream }, (l) => lines.push(l)),
    ).toBe(0);
    // Progress: the topics read, then the recomputation, each to 100 % (stderr, never stdout).
    expect(progress.join('')).toMatch(/verify: reading +100\.0% [\d,]+ records/);
    expect(progress.join('')).toMatch(/verify: recomputing +100\.0% [\d,]+ records/);
    const summary = JSON.parse(lines.at(-1)!) as { identical: boolean; items: number; differing: number };
    expect(summary).toMatchObject({ identical: true, differing: 0 });
    expect(summary.items).toBe(modelOf(svc).itemIds().length);
    await svc.stop();

    // A list that is not what the inputs define (as if a forgotten user were still counted).
    const item = modelOf(svc).itemIds()[0]!;
    await h.produce(config.topics.similarities, [
      { key: item, value: JSON.stringify({ itemId: item, interactions: 999, neighbors: [], updatedAt: 1 }) },
    ]);
    const after: string[] = [];
    expect(await verify(h.kafka, config, registry, { timeoutMs: 30_000 }, (l) => after.push(l))).toBe(1);
    expect(after.join('\n')).toContain(`differs: item ${JSON.stringify(item)}`);
  });
});
