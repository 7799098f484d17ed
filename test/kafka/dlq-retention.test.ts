// What receipts state in dlqRetentionMs comes from the DLQ topics' actual settings, not from
// DLQ_RETENTION_MS alone (issue 21: a topic created earlier, or changed since, made receipts lie).
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { dlqKeepsFor, topicSpecs } from '../../src/kafka/topics.js';

const config = loadConfig({});
const log = createLogger('silent');

function admin(settings: Record<string, Record<string, string>>) {
  return {
    describeConfigs: ({ resources }: { resources: { name: string }[] }) =>
      Promise.resolve({
        resources: resources.map(({ name }) => ({
          resourceName: name,
          configEntries: Object.entries(settings[name] ?? {}).map(([configName, configValue]) => ({
            configName,
            configValue,
          })),
        })),
      }),
  } as unknown as Parameters<typeof dlqKeepsFor>[0];
}

const dlqs = [`${config.topics.interactions}.dlq`, `${config.topics.deletions}.dlq`];

describe('the DLQ retention receipts state', () => {
  it('is the largest retention.ms + segment.ms of the DLQ topics as they are', async () => {
    const a = admin({
      [dlqs[0]!]: { 'cleanup.policy': 'delete', 'retention.ms': '1000000', 'segment.ms': '100000' },
      // Created by someone else with the broker's defaults: 7 days + 7 days.
      [dlqs[1]!]: { 'cleanup.policy': 'delete', 'retention.ms': '604800000', 'segment.ms': '604800000' },
    });
    expect(await dlqKeepsFor(a, config, log)).toBe(2 * 604_800_000);
  });

  it('stops start-up, naming DLQ_RETENTION_MS, when a DLQ keeps records without a time bound', async () => {
    for (const bad of [
      { 'cleanup.policy': 'compact', 'retention.ms': '1000', 'segment.ms': '1000' },
      { 'cleanup.policy': 'delete', 'retention.ms': '-1', 'segment.ms': '1000' },
    ]) {
      const a = admin({
        [dlqs[0]!]: bad,
        [dlqs[1]!]: { 'cleanup.policy': 'delete', 'retention.ms': '1000', 'segment.ms': '1000' },
      });
      const e = await dlqKeepsFor(a, config, log).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as Error).message).toMatch(/^DLQ_RETENTION_MS: .*\.dlq keeps records without a time bound/);
    }
  });

  it('creates the DLQ topics with segments of a tenth of the retention', () => {
    const spec = topicSpecs(config).find((t) => t.topic === dlqs[0]);
    const get = (n: string) => Number(spec?.configEntries?.find((c) => c.name === n)?.value);
    expect(get('segment.ms')).toBe(get('retention.ms') / 10);
  });
});
