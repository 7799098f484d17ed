// The service as a child process (`src/main.ts` under tsx) for tests that need real signals:
// its output lines are collected, and every child still running is SIGKILLed by killChildren().
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const children = new Set<ChildProcess>();

export interface ServiceProcess {
  readonly child: ChildProcess;
  /** stdout and stderr, line by line. */
  readonly lines: string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts the service with exactly `env` (plus PATH). With AMNESIA_TEST_CHILD_LOGS=<dir> in the test's
 * environment each child's output is also appended to <dir>/<pid>.log (debugging a rare failure).
 */
export function runService(env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', KAFKAJS_NO_PARTITIONER_WARNING: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const lines: string[] = [];
  const dump = process.env.AMNESIA_TEST_CHILD_LOGS;
  let buf = '';
  const onData = (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
    if (dump) appendFileSync(path.join(dump, `${child.pid}.log`), parts.map((l) => `${l}\n`).join(''));
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => (children.delete(child), resolve({ code, signal }))),
  );
  return { child, lines, exited };
}

/** The service logged that it is live. */
export const isLive = (p: ServiceProcess): boolean => p.lines.some((l) => l.includes('"phase":"live"'));

export function killChildren(): void {
  for (const c of children) c.kill('SIGKILL');
}
