// Vitest: one run for unit and integration tests. The global setup provides a Kafka broker and a
// schema registry (env, Docker, or the local stack) before any test file runs.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    globalSetup: ['test/setup/global-setup.ts'],
    // Integration tests talk to a real broker; a rebalance alone can take seconds.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
    env: { KAFKAJS_NO_PARTITIONER_WARNING: '1' },
  },
});
