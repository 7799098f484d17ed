// The broker and registry an end-to-end benchmark runs against: KAFKA_BROKERS (and
// SCHEMA_REGISTRY_URL) when set, otherwise a private local stack (scripts/stack.mjs) in a temporary
// directory, stopped afterwards. A private stack keeps other users of a shared broker out of the
// figures.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface BenchStack {
  readonly brokers: string;
  readonly registryUrl: string | undefined;
  /** 'env' or 'private'. */
  readonly kind: 'env' | 'private';
  stop(): Promise<void>;
}

export async function benchStack(log: (msg: string) => void): Promise<BenchStack> {
  const brokers = process.env.KAFKA_BROKERS;
  if (brokers)
    return {
      brokers,
      registryUrl: process.env.SCHEMA_REGISTRY_URL,
      kind: 'env',
      stop: () => Promise.resolve(),
    };
  const { startStack } = await import('../../scripts/stack.mjs');
  log('no KAFKA_BROKERS: starting a private local stack');
  const stackDir = mkdtempSync(path.join(tmpdir(), 'amnesia-bench-stack-'));
  const stack = await startStack({ stackDir, quiet: true });
  return {
    brokers: stack.kafkaBrokers,
    registryUrl: stack.schemaRegistryUrl,
    kind: 'private',
    stop: async () => {
      await stack.stop();
      rmSync(stackDir, { recursive: true, force: true });
    },
  };
}
