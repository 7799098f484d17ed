// `amnesia watch`: prints similarity updates (one JSON line each) as they are published.
import type { Kafka } from 'kafkajs';
import type { Config } from '../config.js';
import { decodeAny } from '../input/codec.js';
import { follow } from '../kafka/reader.js';
import { SchemaRegistryClient } from '../kafka/registry.js';

export interface WatchOptions {
  readonly fromBeginning: boolean;
  /** Stop after this many updates (0 = until interrupted). */
  readonly limit: number;
  readonly item?: string;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export async function watch(
  kafka: Kafka,
  config: Config,
  o: WatchOptions,
  out: (line: string) => void,
): Promise<number> {
  const registry = config.registry ? new SchemaRegistryClient(config.registry) : undefined;
  let n = 0;
  await follow(
    kafka,
    config.topics.similarities,
    async (m) => {
      const itemId = m.key?.toString('utf8');
      if (itemId === undefined || (o.item !== undefined && itemId !== o.item)) return false;
      const value = await decodeAny(m.value, registry);
      out(JSON.stringify(value ?? { itemId, deleted: true }));
      n++;
      return o.limit > 0 && n >= o.limit;
    },
    {
      fromBeginning: o.fromBeginning,
      groupPrefix: 'amnesia-cli-watch',
      ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    },
  );
  return n;
}
