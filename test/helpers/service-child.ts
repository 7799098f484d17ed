// The service as a child process with its HTTP port, for the chaos tests: started with a harness's
// topics and group, probed from outside (/livez, /readyz, /metrics, timed), and watched through its
// log lines. Signals (SIGSTOP, SIGCONT, SIGKILL) go to `child.child`; killChildren() (process.ts)
// SIGKILLs whatever is left.
import { freePort } from '../../scripts/stack.mjs';
import { waitFor } from './kafka.js';
import { sampleSum, scrape } from './metrics.js';
import { runService, type ServiceProcess } from './process.js';
import type { Harness } from './service.js';

export interface ServiceChild extends ServiceProcess {
  readonly name: string;
  /** `http://127.0.0.1:<port>` */
  readonly base: string;
}

/** The environment of a child service on the harness's topics, group, broker and registry. */
export function childEnv(h: Harness, extra: Record<string, string> = {}): Record<string, string> {
  const c = h.config();
  return {
    KAFKA_BROKERS: c.kafka.brokers.join(','),
    ...(c.registry ? { SCHEMA_REGISTRY_URL: c.registry.url } : {}),
    KAFKA_GROUP_ID: h.groupId,
    INTERACTIONS_TOPIC: h.topics.interactions,
    DELETIONS_TOPIC: h.topics.deletions,
    SIMILARITIES_TOPIC: h.topics.similarities,
    RECEIPTS_TOPIC: h.topics.receipts,
    TOPIC_PARTITIONS: String(c.topics.partitions),
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    KAFKA_HEARTBEAT_INTERVAL_MS: '500',
    HEALTH_PROBE_INTERVAL_MS: '500',
    LOG_LEVEL: 'info',
    ...extra,
  };
}

export async function startChild(
  h: Harness,
  name: string,
  extra: Record<string, string> = {},
): Promise<ServiceChild> {
  const port = await freePort();
  const p = runService(childEnv(h, { HTTP_PORT: String(port), ...extra }));
  return Object.assign(p, { name, base: `http://127.0.0.1:${port}` });
}

export interface Probe {
  /** 0 when there was no answer within the time-out. */
  readonly status: number;
  readonly ms: number;
  readonly body: string;
}

/** One GET, timed; never throws (no answer within timeoutMs → status 0). */
export async function probe(base: string, path: string, timeoutMs = 5_000): Promise<Probe> {
  const t0 = performance.now();
  try {
    const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.text();
    return { status: res.status, ms: performance.now() - t0, body };
  } catch {
    return { status: 0, ms: performance.now() - t0, body: '' };
  }
}

/** The child logged a line with exactly this message. */
export const logged = (c: ServiceChild, msg: string): boolean =>
  c.lines.some((l) => l.includes(`"msg":"${msg}"`));

/** The last `n` log lines that are not debug, for failure messages. */
export const tail = (c: ServiceChild, n = 15): string =>
  `${c.name}:\n${c.lines
    .filter((l) => !l.includes('"level":20'))
    .slice(-n)
    .join('\n')}`;

/** Sum of a metric's samples on the child's /metrics. */
export async function metric(
  c: ServiceChild,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  return sampleSum(await scrape(c.base), name, labels);
}

/** Resolves once /readyz answers 200; fails with the child's last log lines. */
export async function waitReady(c: ServiceChild, timeoutMs = 60_000): Promise<void> {
  await waitFor(async () => (await probe(c.base, '/readyz', 2_000)).status === 200, timeoutMs, 200).catch(
    (e: Error) => {
      throw new Error(`${e.message}: ${c.name} not ready\n${tail(c)}`);
    },
  );
}

/** Resolves once the child stands by (alive, not active). */
export async function waitStandby(c: ServiceChild, timeoutMs = 60_000): Promise<void> {
  await waitFor(() => c.lines.some((l) => l.includes('"phase":"standby"')), timeoutMs, 100).catch(
    (e: Error) => {
      throw new Error(`${e.message}: ${c.name} not standing by\n${tail(c)}`);
    },
  );
}

/**
 * Of the children, the one that holds the partitions once everything is processed: exactly one is
 * active, it answers /readyz 200 and reports lag 0 for every input partition; the others are not
 * ready. Waits for that state (a take-back may still be rebuilding).
 */
export async function settledActive(
  children: readonly ServiceChild[],
  timeoutMs = 60_000,
): Promise<ServiceChild> {
  let last = '';
  const found = await waitFor<ServiceChild | undefined>(
    async () => {
      const states = await Promise.all(
        children.map(async (c) => {
          const ready = (await probe(c.base, '/readyz', 2_000)).status;
          const text = await scrape(c.base).catch(() => '');
          return {
            c,
            ready,
            active: sampleSum(text, 'amnesia_active'),
            lag: sampleSum(text, 'amnesia_consumer_lag'),
            lagSamples: text.split('\n').filter((l) => l.startsWith('amnesia_consumer_lag{')).length,
          };
        }),
      );
      last = JSON.stringify(states.map(({ c, ...s }) => ({ name: c.name, ...s })));
      const active = states.filter((s) => s.active === 1);
      if (active.length !== 1) return undefined;
      const a = active[0]!;
      const othersIdle = states.every((s) => s === a || s.ready !== 200);
      return a.ready === 200 && a.lag === 0 && a.lagSamples > 0 && othersIdle ? a.c : undefined;
    },
    timeoutMs,
    250,
  ).catch((e: Error) => {
    throw new Error(
      `${e.message}: no single caught-up active instance (${last})\n${children.map((c) => tail(c)).join('\n')}`,
    );
  });
  return found!;
}
