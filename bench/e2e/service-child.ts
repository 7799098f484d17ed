// The service under benchmark, in a process of its own (started by bench/e2e/service-process.ts with
// an IPC channel; the configuration is its environment, as for src/main.ts). It runs startService
// exactly as main.ts does, minus the HTTP server, and reports over IPC: when it starts and is ready
// (hi-res epoch ms, comparable with the parent's clock), and on request its CPU time, metrics and
// model size. A CPU profile (node:inspector) can be taken over a window the parent chooses.
import { modelOf } from '../../src/service.js';
import { writeFileSync } from 'node:fs';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startService } from '../../src/app.js';
import { startCpuProfile, type CpuProfile } from './profile.js';
import type { ChildReply, ChildRequest, MetricValues } from './service-process.js';

const now = (): number => performance.timeOrigin + performance.now();
const send = (m: ChildReply): void => {
  process.send?.(m);
};

const config = loadConfig(process.env);
const log = createLogger(config.logLevel);
const cpu0 = process.cpuUsage();
const cpuSeconds = (): number => {
  const c = process.cpuUsage(cpu0);
  return (c.user + c.system) / 1e6;
};
let stopProfile: (() => Promise<CpuProfile>) | undefined;

async function startProfile(): Promise<void> {
  stopProfile = await startCpuProfile();
}

// BENCH_PROFILE_FROM_START: the profile covers start-up too (a cold catch-up is mostly start-up).
if (process.env.BENCH_PROFILE_FROM_START === '1') await startProfile();
send({ type: 'starting', at: now() });
const service = await startService(config, {
  log,
  onFatal: () => {
    send({ type: 'fatal' });
    process.exit(1);
  },
});
send({ type: 'started', at: now() });

async function metricValues(): Promise<MetricValues> {
  const out: Record<string, number> = {};
  for (const m of await service.metrics.registry.getMetricsAsJSON()) {
    if (!m.name.startsWith('amnesia_')) continue;
    for (const v of m.values as { value: number; metricName?: string }[]) {
      const name = v.metricName ?? m.name;
      out[name] = (out[name] ?? 0) + v.value;
    }
  }
  return out;
}

async function handle(m: ChildRequest): Promise<void> {
  switch (m.type) {
    case 'stats':
      send({
        type: 'stats',
        id: m.id,
        at: now(),
        cpuSeconds: cpuSeconds(),
        rssBytes: process.memoryUsage().rss,
        phase: service.phase,
        metrics: await metricValues(),
        model: modelOf(service).stats(),
        representation: modelOf(service).representation,
      });
      return;
    case 'profile-start':
      await startProfile();
      send({ type: 'profile-started', id: m.id });
      return;
    case 'profile-stop': {
      const profile = await stopProfile!();
      stopProfile = undefined;
      writeFileSync(m.file, JSON.stringify(profile));
      send({ type: 'profile-stopped', id: m.id });
      return;
    }
    case 'stop':
      await service.stop();
      send({ type: 'stopped', id: m.id });
      process.exit(0);
  }
}

process.on('message', (m: ChildRequest) => {
  handle(m).catch((e: unknown) => {
    process.stderr.write(`[service-child] ${m.type} failed: ${String(e)}\n`);
    process.exit(1);
  });
});

await service.waitUntilReady(600_000);
send({ type: 'ready', at: now(), cpuSeconds: cpuSeconds() });
