// Vitest: two projects.
// - unit: `test/**/*.test.ts` except `*.int.test.ts` — no broker, no registry, no child processes;
//   `npm run test:unit` runs them in seconds with nothing running.
// - integration: `test/**/*.int.test.ts` — the global setup provides a real Kafka broker and schema
//   registry (env, Docker, or the local stack) before any of them runs.
// `npm test` runs both; the JSON report feeds the `N passed, N failed` line of .ci/run.
import { defineConfig } from 'vitest/config';

const env = { KAFKAJS_NO_PARTITIONER_WARNING: '1' };

export default defineConfig({
  test: {
    pool: 'forks',
    teardownTimeout: 30_000,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.int.test.ts'],
          testTimeout: 30_000,
          env,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.int.test.ts'],
          globalSetup: ['test/setup/global-setup.ts'],
          // Integration tests talk to a real broker; a rebalance alone can take seconds.
          testTimeout: 60_000,
          hookTimeout: 60_000,
          env,
        },
      },
    ],
  },
});
