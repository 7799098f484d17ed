// The parent's handle on a service child (bench/e2e/service-child.ts): spawns it with the
// configuration as its environment, exposes its start/ready times and, on request, its CPU time,
// metrics and model size; stops it gracefully (SIGKILL after a bound). Its pino log lines are kept
// (the last few hundred, for errors) and the milestones among them noted with their times.
import { fork, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelStats } from '../../src/model/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHILD = path.join(ROOT, 'bench', 'e2e', 'service-child.ts');
const KEPT_LINES = 300;
/** Log messages whose times are reported (the rebuild's milestones). */
const MILESTONES = new Set(['service started', 'rebuilding state from the input topics', 'state rebuilt']);

export type MetricValues = Readonly<Record<string, number>>;

export type ChildRequest =
  | { readonly type: 'stats' | 'profile-start' | 'stop'; readonly id: number }
  | { readonly type: 'profile-stop'; readonly id: number; readonly file: string };

export interface ChildStats {
  readonly at: number;
  readonly cpuSeconds: number;
  readonly rssBytes: number;
  readonly phase: string;
  readonly metrics: MetricValues;
  readonly model: ModelStats;
  /** How the service's model holds C (dense square or sparse rows). */
  readonly representation: string;
}

export type ChildReply =
  | { readonly type: 'starting' | 'started'; readonly at: number }
  | { readonly type: 'ready'; readonly at: number; readonly cpuSeconds: number }
  | { readonly type: 'fatal' }
  | ({ readonly type: 'stats'; readonly id: number } & ChildStats)
  | { readonly type: 'profile-started' | 'profile-stopped' | 'stopped'; readonly id: number };

export interface Milestone {
  readonly msg: string;
  /** Epoch ms (the log's millisecond resolution). */
  readonly at: number;
  readonly fields: Readonly<Record<string, unknown>>;
}

export interface ServiceProcess {
  readonly pid: number | undefined;
  /** Hi-res epoch ms when the process was spawned. */
  readonly spawnedAt: number;
  /** When startService was called (modules loaded), started, and live. */
  readonly starting: Promise<number>;
  readonly started: Promise<number>;
  readonly ready: Promise<{ readonly at: number; readonly cpuSeconds: number }>;
  readonly milestones: readonly Milestone[];
  /** kafkajs errors the service logged so far, by message (retried ones included). */
  kafkaErrors(): Record<string, number>;
  stats(): Promise<ChildStats>;
  profileStart(): Promise<void>;
  profileStop(file: string): Promise<void>;
  /** Graceful stop (final flush, commit); SIGKILL after timeoutMs. */
  stop(timeoutMs?: number): Promise<void>;
  logTail(lines?: number): string;
}

const now = (): number => performance.timeOrigin + performance.now();

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: Error) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  promise.catch(() => undefined); // observed by whoever awaits it
  return { promise, resolve, reject };
}

/** Starts the service with `env` (the whole environment of the child, plus PATH). */
export function spawnService(env: Readonly<Record<string, string>>): ServiceProcess {
  const spawnedAt = now();
  const child: ChildProcess = fork(CHILD, [], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    env: { PATH: process.env.PATH ?? '', KAFKAJS_NO_PARTITIONER_WARNING: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const lines: string[] = [];
  const milestones: Milestone[] = [];
  const kafkaErrors: Record<string, number> = {};
  // BENCH_SERVICE_LOG=<file>: every line the service child writes, kept for a post-mortem.
  const logFile = process.env.BENCH_SERVICE_LOG;
  const onLine = (line: string) => {
    if (logFile) appendFileSync(logFile, `${line}\n`);
    lines.push(line);
    if (lines.length > KEPT_LINES) lines.shift();
    if (!line.startsWith('{')) return;
    try {
      const o = JSON.parse(line) as { msg?: string; time?: string } & Record<string, unknown>;
      if (o.module === 'kafkajs' && o.level === 'error') {
        const what = typeof o.error === 'string' ? o.error : String(o.msg);
        kafkaErrors[what] = (kafkaErrors[what] ?? 0) + 1;
      }
      if (o.msg !== undefined && MILESTONES.has(o.msg))
        milestones.push({ msg: o.msg, at: Date.parse(o.time ?? ''), fields: o });
    } catch {
      // not a log line
    }
  };
  for (const stream of [child.stdout, child.stderr]) {
    let buf = '';
    stream?.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      for (const p of parts) onLine(p);
    });
  }
  const logTail = (n = 40) => lines.slice(-n).join('\n');
  const starting = deferred<number>();
  const started = deferred<number>();
  const ready = deferred<{ at: number; cpuSeconds: number }>();
  const waiting = new Map<number, { resolve: (r: ChildReply) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let exited = false;
  const exitedP = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = true;
      const e = new Error(`service child exited (${code ?? signal}); last log lines:\n${logTail()}`);
      for (const d of [starting, started, ready]) d.reject(e);
      for (const w of waiting.values()) w.reject(e);
      waiting.clear();
      resolve();
    }),
  );
  child.on('message', (m: ChildReply) => {
    switch (m.type) {
      case 'starting':
        return starting.resolve(m.at);
      case 'started':
        return started.resolve(m.at);
      case 'ready':
        return ready.resolve({ at: m.at, cpuSeconds: m.cpuSeconds });
      case 'fatal':
        return;
      default: {
        const w = waiting.get(m.id);
        waiting.delete(m.id);
        w?.resolve(m);
      }
    }
  });
  const request = (m: { type: ChildRequest['type'] } & Partial<{ file: string }>): Promise<ChildReply> => {
    if (exited) return Promise.reject(new Error(`service child gone; last log lines:\n${logTail()}`));
    const id = nextId++;
    return new Promise<ChildReply>((resolve, reject) => {
      waiting.set(id, { resolve, reject });
      child.send({ ...m, id });
    });
  };
  return {
    pid: child.pid,
    spawnedAt,
    starting: starting.promise,
    started: started.promise,
    ready: ready.promise,
    milestones,
    logTail,
    kafkaErrors: () => ({ ...kafkaErrors }),
    async stats() {
      const r = await request({ type: 'stats' });
      if (r.type !== 'stats') throw new Error(`unexpected reply ${r.type}`);
      return r;
    },
    async profileStart() {
      await request({ type: 'profile-start' });
    },
    async profileStop(file) {
      await request({ type: 'profile-stop', file });
    },
    async stop(timeoutMs = 30_000) {
      if (exited) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await Promise.race([request({ type: 'stop' }).catch(() => undefined), exitedP]);
      await exitedP;
      clearTimeout(timer);
    },
  };
}
