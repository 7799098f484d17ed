// `npm run demo` end to end, non-interactively: the real demo process against the test broker, on
// its own topics and group. It must print the seed's neighbour lists, the FORGOTTEN receipt and the
// changed lists, exit 0, and leave nothing running (its HTTP port closed). A second run on the same
// topics must forget Marge again (her seed events are re-sent with current timestamps).
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createTopics,
  deleteTopicsAfterAll,
  kafkaBrokers,
  schemaRegistryUrl,
  uniqueName,
} from '../helpers/kafka.js';
import { freePort } from '../../scripts/stack.mjs';

const TSX = path.resolve('node_modules', '.bin', 'tsx');

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ port, host: '127.0.0.1' });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

function runDemo(
  env: Record<string, string>,
  args: string[],
  /** Called with the output so far on every chunk, and the child (to stop it). */
  onOut?: (out: string, child: ReturnType<typeof spawn>) => void,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, ['src/cli/demo.ts', ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      onOut?.(out, child);
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`demo did not finish in time\n--- stdout\n${out}\n--- stderr\n${err}`));
    }, 150_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

/**
 * The demo's environment on topics of its own. `fresh`: none exists yet, as on a new stack (the
 * service creates them; deleted after the file); else created here, the service finds them.
 */
async function demoTopics(fresh = false): Promise<Record<string, string>> {
  const prefix = uniqueName('t');
  const topics = {
    INTERACTIONS_TOPIC: `${prefix}-interactions`,
    DELETIONS_TOPIC: `${prefix}-deletions`,
    SIMILARITIES_TOPIC: `${prefix}-similarities`,
    RECEIPTS_TOPIC: `${prefix}-receipts`,
  };
  const brokers = kafkaBrokers();
  const env = {
    KAFKA_BROKERS: brokers,
    SCHEMA_REGISTRY_URL: schemaRegistryUrl(),
    KAFKA_GROUP_ID: `${prefix}-demo`,
    TOPIC_PARTITIONS: '3',
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    KAFKA_HEARTBEAT_INTERVAL_MS: '500',
    LOG_LEVEL: 'error',
    ...topics,
  };
  if (fresh) {
    deleteTopicsAfterAll(
      Object.values(topics).flatMap((t) => [t, `${t}.dlq`]),
      brokers,
    );
    return env;
  }
  await createTopics(
    brokers,
    [topics.INTERACTIONS_TOPIC, topics.DELETIONS_TOPIC].flatMap((t) => [t, `${t}.dlq`]),
    { partitions: 3 },
  );
  await createTopics(brokers, [topics.SIMILARITIES_TOPIC, topics.RECEIPTS_TOPIC], {
    partitions: 3,
    compact: true,
  });
  return env;
}

describe('npm run demo', () => {
  // Issue 23, found by a new user: on a new stack the page opened right after the demo printed
  // Marge's receipt said "No receipts yet" (the inspector's reader had not read the topic yet).
  it('on a new stack, leaves the inspector showing the receipt it printed, until Ctrl-C', async () => {
    const env = await demoTopics(true);
    const port = await freePort();
    let asked: Promise<unknown> | undefined;
    const { code, out, err } = await runDemo(env, ['--port', String(port)], (text, child) => {
      if (asked || !text.includes('Ctrl-C stops everything')) return;
      // The page opened now, as a new user would: its first state must hold the receipt.
      asked = fetch(`http://127.0.0.1:${port}/inspector/state`)
        .then((r) => r.json())
        .finally(() => child.kill('SIGINT'));
    });
    const context = `--- stdout\n${out}\n--- stderr\n${err}`;
    expect(code, context).toBe(0);
    const printed = JSON.parse(/receipt: (\{.*\})/.exec(out)![1]!) as { requestId: string };
    const state = (await asked) as { receipts: { requestId: string; status: string }[] };
    expect(state.receipts, context).toContainEqual(
      expect.objectContaining({ requestId: printed.requestId, status: 'FORGOTTEN' }),
    );
  }, 200_000);

  it('streams the seed, forgets Marge with a receipt, and stops everything it started (twice)', async () => {
    const env = await demoTopics();

    for (const run of [1, 2]) {
      const port = await freePort();
      const { code, out, err } = await runDemo(env, ['--exit-after-forget', '--port', String(port)]);
      const context = `run ${run}\n--- stdout\n${out}\n--- stderr\n${err}`;
      expect(code, context).toBe(0);
      // The seed's lists, then the receipt, then the changed lists (exact Jaccard values).
      expect(out, context).toMatch(/^ {3}1 {5}4 {3}0 0\.50 {3}2 0\.50 {3}3 0\.50 {3}4 0\.25$/m);
      const receipt = /receipt: (\{.*\})/.exec(out);
      expect(receipt, context).not.toBeNull();
      expect(JSON.parse(receipt![1]!)).toMatchObject({
        status: 'FORGOTTEN',
        interactionsRemoved: 2,
        itemsAffected: 2,
      });
      expect(out, context).toMatch(/^ {3}1 {5}3 {3}0 0\.67 {3}3 0\.67 {3}2 0\.33 {3}4 0\.33 /m);
      // Homer (0, 1, 2, 4) is left item 3: S03 + S13 = 1/3 + 1/2, then 1/3 + 2/3.
      expect(out, context).toMatch(/^ {3}recommendations before: 3 0\.83$/m);
      expect(out, context).toMatch(/^ {3}recommendations after: {2}3 1\.00$/m);
      expect(out, context).toContain(`Inspector: http://127.0.0.1:${port}/`);
      expect(out, context).toContain('stopped.');
      // The receipt carries no user id; only the narrative names Marge.
      expect(receipt![1]).not.toContain('Marge');
      expect(await portOpen(port)).toBe(false);
    }
  }, 300_000);
});
