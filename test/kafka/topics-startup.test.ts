/* eslint-disable @typescript-eslint/require-await -- a fake Admin: its methods are async like the real ones */
// Issue 21 (9): start-up on a fresh cluster. Right after CreateTopics a KRaft broker may leave a new
// topic out of listTopics and metadata for a while (UNKNOWN_TOPIC_OR_PARTITION, no leader yet), and a
// concurrent instance may create the same topics first (TOPIC_ALREADY_EXISTS, which kafkajs reports
// as `false`). A fake Admin plays such a broker: every topic is invisible for the first N metadata
// look-ups after its creation. Before the fix the set-up failed ("could not create the internal
// topics", a non-retriable error) on exactly this; now it waits with the one retry policy.
import type { Admin, ITopicConfig } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ensureTopics, topicSpecs } from '../../src/kafka/topics.js';
import { createLogger } from '../../src/log.js';
import { ensurePartitionedTopics, partitionedNames } from '../../src/partitioned/topics.js';
import { partitionedEnv } from '../helpers/partitioned.js';

const unknown = () =>
  Object.assign(new Error('This server does not host this topic-partition'), {
    type: 'UNKNOWN_TOPIC_OR_PARTITION',
    retriable: true,
  });

/** A broker shared by several instances whose new topics stay invisible for `delay` look-ups each. */
class SlowBroker {
  readonly topics = new Map<string, { spec: ITopicConfig; hiddenFor: number }>();
  constructor(readonly delay: number) {}

  private visible(name: string): boolean {
    const t = this.topics.get(name);
    if (!t) return false;
    if (t.hiddenFor > 0) {
      t.hiddenFor--;
      return false;
    }
    return true;
  }

  /** Creates topics as another instance would, between our listTopics and our createTopics. */
  createBehind(specs: readonly ITopicConfig[]): void {
    for (const spec of specs) this.topics.set(spec.topic, { spec, hiddenFor: this.delay });
  }

  admin(onList?: () => void): Admin {
    const fake = {
      listTopics: async () => {
        const names = [...this.topics.keys()].filter((n) => this.visible(n));
        onList?.();
        return names;
      },
      createTopics: async ({
        topics,
        waitForLeaders = true,
      }: {
        topics: ITopicConfig[];
        waitForLeaders?: boolean;
      }) => {
        const fresh = topics.filter((t) => !this.topics.has(t.topic));
        for (const spec of fresh) this.topics.set(spec.topic, { spec, hiddenFor: this.delay });
        if (waitForLeaders && topics.map((t) => this.visible(t.topic)).includes(false))
          throw new Error('Timed out while waiting for topic leaders');
        return fresh.length === topics.length; // kafkajs: false when all errors were TOPIC_ALREADY_EXISTS
      },
      fetchTopicMetadata: async ({ topics }: { topics: string[] }) => {
        const seen = topics.map((name) => this.visible(name));
        if (seen.includes(false)) throw unknown();
        return {
          topics: topics.map((name) => ({
            name,
            partitions: Array.from({ length: this.topics.get(name)!.spec.numPartitions ?? 1 }, (_, i) => ({
              partitionId: i,
              leader: 1,
              replicas: [1],
              isr: [1],
              offlineReplicas: [],
              partitionErrorCode: 0,
            })),
          })),
        };
      },
      describeConfigs: async ({ resources }: { resources: { name: string }[] }) => ({
        resources: resources.map((r) => ({
          resourceName: r.name,
          configEntries: (this.topics.get(r.name)?.spec.configEntries ?? []).map((c) => ({
            configName: c.name,
            configValue: c.value,
          })),
        })),
      }),
    };
    return fake as unknown as Admin;
  }
}

const log = createLogger('silent');

describe('topic set-up on a fresh cluster (issue 21, item 9)', () => {
  it('single and contract topics: waits out the metadata delay after its own create', async () => {
    const config = loadConfig({});
    const broker = new SlowBroker(3);
    await ensureTopics(broker.admin(), config, log);
    expect([...broker.topics.keys()].sort()).toEqual(
      topicSpecs(config)
        .map((t) => t.topic)
        .sort(),
    );
  });

  it('partitioned: a concurrent creator (TOPIC_ALREADY_EXISTS) and the metadata delay are not fatal', async () => {
    const config = loadConfig(partitionedEnv({ TOPIC_PARTITIONS: '3' }));
    const broker = new SlowBroker(3);
    // Another instance creates everything right after each of our listTopics: every create we send
    // meets topics that already exist and are not yet visible.
    const other = topicSpecs(config);
    let behind = false;
    const admin = broker.admin(() => {
      if (!behind) broker.createBehind(other);
      behind = true;
    });
    await ensureTopics(admin, config, log);
    const layout = await ensurePartitionedTopics(admin, config, partitionedNames(config), log);
    expect(layout.userPartitions).toBe(3);
  });

  it('three instances at once on one fresh broker all finish the set-up', async () => {
    const config = loadConfig(partitionedEnv({ TOPIC_PARTITIONS: '2' }));
    const broker = new SlowBroker(4);
    const names = partitionedNames(config);
    const one = async () => {
      const admin = broker.admin();
      await ensureTopics(admin, config, log);
      return ensurePartitionedTopics(admin, config, names, log);
    };
    const layouts = await Promise.all([one(), one(), one()]);
    expect(layouts.map((l) => l.userPartitions)).toEqual([2, 2, 2]);
  });
});
