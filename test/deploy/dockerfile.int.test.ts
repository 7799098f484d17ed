// The Dockerfile builds and its image starts, proven without a Docker engine: the build stage is
// replayed in a clean directory holding only what it copies (dockerfile-replay.ts), the final
// stage is assembled from it, and the image's CMD runs there against the test broker until /livez
// answers — with the image's own ENV (single mode) and with the partitioned k8s overlay's
// ConfigMap. A Dockerfile that leaves out a file the build needs fails the replay (issue 24: the
// build stage copied only the kafkajs mend script of scripts/, and tsc stopped at demo.ts's
// import of scripts/stack.mjs).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/stack.mjs';
import { partitionedEnv } from './k8s-render.js';
import { replay, ROOT, runImage, type Replay } from './dockerfile-replay.js';

const DOCKERFILE = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
const children: ReturnType<typeof runImage>['child'][] = [];
afterAll(() => children.forEach((c) => c.kill('SIGKILL')));

/** Broker, registry and topics of this test only (the shared broker serves other tests too). */
function localEnv(port: number): Record<string, string> {
  const id = randomUUID().slice(0, 8);
  return {
    KAFKA_BROKERS: process.env.KAFKA_BROKERS!,
    SCHEMA_REGISTRY_URL: process.env.SCHEMA_REGISTRY_URL!,
    KAFKA_GROUP_ID: `docker-${id}`,
    INTERACTIONS_TOPIC: `docker-${id}-interactions`,
    DELETIONS_TOPIC: `docker-${id}-deletions`,
    SIMILARITIES_TOPIC: `docker-${id}-similarities`,
    RECEIPTS_TOPIC: `docker-${id}-receipts`,
    TOPIC_REPLICATION_FACTOR: '1',
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(port),
  };
}

async function livez(image: Replay, env: Record<string, string>): Promise<number> {
  const port = await freePort();
  const run = runImage(image, { ...env, ...localEnv(port) });
  children.push(run.child);
  const exited = new Promise<number | null>((r) => run.child.on('exit', (code) => r(code)));
  let done = false;
  void exited.then(() => (done = true));
  while (!done) {
    const status = await fetch(`http://127.0.0.1:${port}/livez`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) {
      run.child.kill('SIGTERM');
      await exited;
      return status;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the image's CMD exited before /livez answered:\n${run.lines.slice(-20).join('\n')}`);
}

describe('Dockerfile, replayed without a Docker engine', () => {
  const image = replay(DOCKERFILE);

  it('builds: every build step succeeds in a directory holding only what the stage copies', () => {
    expect(image.failed, image.failed && `${image.failed.step}\n${image.failed.output}`).toBeUndefined();
    expect(image.cmd).toEqual(['node', 'dist/main.js']);
  });

  it("runs the image's CMD with its ENV until /livez answers (single mode)", async () => {
    expect(await livez(image, {})).toBe(200);
  });

  // Found by this test: the image's ENV sets SNAPSHOT_DIR, which MODE=partitioned refuses; the
  // overlay's ConfigMap used to drop its own key (null), leaving the image's value. It now sets it
  // empty (empty counts as unset), so the same image runs both modes.
  it("runs it with the partitioned k8s overlay's ConfigMap until /livez answers", async () => {
    const env = partitionedEnv();
    expect(env.MODE).toBe('partitioned');
    expect(await livez(image, { ...env, TOMBSTONE_KEY: 'a'.repeat(64) })).toBe(200);
  });

  it('fails when a file the build needs is not copied (the scripts/ line dropped)', () => {
    const without = DOCKERFILE.replace(/^COPY scripts \.\/scripts\n/m, '');
    expect(without).not.toBe(DOCKERFILE);
    const r = replay(without);
    expect(r.failed?.output).toMatch(/copy-assets\.mjs|stack\.mjs/);
  });

  it('fails as issue 24 found it: one script of scripts/ copied, tsc misses stack.mjs', () => {
    const old = DOCKERFILE.replace(/^COPY scripts \.\/scripts$/m, 'COPY scripts/copy-assets.mjs ./scripts/');
    expect(old).not.toBe(DOCKERFILE);
    const r = replay(old);
    expect(r.failed?.step).toMatch(/npm run build/);
    expect(r.failed?.output).toMatch(/scripts\/stack\.mjs/);
  });
});
