// The monitoring config checked by the real Prometheus tools: promtool validates the config, the
// rules and their unit tests, and a real `prometheus` process loads the alert rules and scrapes an
// amnesia HTTP server until the target is up. Skipped only when the binaries are missing
// (.ci/run installs them).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { registerOpsMetrics } from '../../src/http/ops-metrics.js';
import { startHttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';
import { Model } from '../../src/model/index.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { freePort } from '../../scripts/stack.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const has = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
const promtool = has('promtool');
const prometheus = has('prometheus');
if (!promtool || !prometheus) {
  console.warn(
    `[test/deploy/prometheus] skipping: ${promtool ? '' : 'promtool '}${prometheus ? '' : 'prometheus '}` +
      'not installed (apt-get install -y prometheus)',
  );
}

async function poll<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`${what} not reached after ${timeoutMs} ms (${String(last)})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe.skipIf(!promtool)('promtool', () => {
  it('accepts prometheus.yml, alerts.yml and passes the alert unit tests', () => {
    const r = spawnSync('bash', ['scripts/promtool-check.sh'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toContain('SUCCESS');
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});

describe.skipIf(!prometheus)('a real Prometheus', () => {
  const dirs: string[] = [];
  let child: ChildProcess | undefined;
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('loads the alert rules and scrapes the amnesia /metrics until the target is up', async () => {
    const metrics = createMetrics();
    registerOpsMetrics(metrics.registry, { version: 'test' });
    metrics.ready.set(1);
    const http = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      log: createLogger('silent'),
      registry: metrics.registry,
      isReady: () => true,
      personalDataHold: () => undefined,
      model: () => new Model(),
    });
    try {
      const dir = mkdtempSync(path.join(tmpdir(), 'amnesia-prom-'));
      dirs.push(dir);
      const config = path.join(dir, 'prometheus.yml');
      writeFileSync(
        config,
        [
          'global:',
          '  scrape_interval: 1s',
          '  evaluation_interval: 1s',
          'rule_files:',
          `  - ${JSON.stringify(path.join(ROOT, 'deploy/prometheus/alerts.yml'))}`,
          'scrape_configs:',
          '  - job_name: amnesia',
          '    static_configs:',
          `      - targets: ['127.0.0.1:${http.port}']`,
          '',
        ].join('\n'),
      );
      const port = await freePort();
      const api = `http://127.0.0.1:${port}/api/v1`;
      const output: string[] = [];
      child = spawn(
        'prometheus',
        [
          `--config.file=${config}`,
          `--storage.tsdb.path=${path.join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      child.stdout!.on('data', (b: Buffer) => output.push(b.toString()));
      child.stderr!.on('data', (b: Buffer) => output.push(b.toString()));

      const target = await poll(
        async () => {
          if (child!.exitCode !== null) throw new Error(`prometheus exited: ${output.join('').slice(-2000)}`);
          const body = (await (await fetch(`${api}/targets`)).json()) as {
            data: { activeTargets: { scrapeUrl: string; health: string; lastError: string }[] };
          };
          return body.data.activeTargets.find((t) => t.health === 'up');
        },
        30_000,
        'target up',
      );
      expect(target.scrapeUrl).toBe(`${http.url}/metrics`);

      // The scraped series are queryable, and the rule groups of alerts.yml are loaded.
      const ready = (await (
        await fetch(`${api}/query?query=${encodeURIComponent('amnesia_ready{job="amnesia"}')}`)
      ).json()) as { data: { result: { value: [number, string] }[] } };
      expect(ready.data.result[0]?.value[1]).toBe('1');
      const rules = (await (await fetch(`${api}/rules`)).json()) as {
        data: { groups: { name: string; rules: { name: string; health: string }[] }[] };
      };
      const names = rules.data.groups.map((g) => g.name).sort();
      expect(names).toEqual([
        'amnesia.availability',
        'amnesia.durability',
        'amnesia.partitioned',
        'amnesia.processing',
      ]);
      const all = rules.data.groups.flatMap((g) => g.rules);
      expect(all.length).toBeGreaterThanOrEqual(10);
    } finally {
      await http.close();
    }
  });
});
