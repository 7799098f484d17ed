// With no broker at KAFKA_BROKERS (a closed port on 127.0.0.1), as processes: `amnesia load` ends
// with one line naming the address and the cause and exit code 4; the service logs one line per
// attempt to reach the broker and nothing from kafkajs; with a broker, a missing topic is one line
// too. (Integration project: child processes, and the shared broker for the missing topic.)
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/stack.mjs';
import { EXIT } from '../../src/cli/help.js';
import { waitFor } from '../helpers/kafka.js';
import { killChildren, runService } from '../helpers/process.js';

afterAll(killChildren);

function cli(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, stdout, stderr })),
  );
}

describe('with no broker', () => {
  it('amnesia load prints one line naming the address and the cause, and exits 4', async () => {
    const broker = `127.0.0.1:${await freePort()}`;
    const dir = mkdtempSync(path.join(tmpdir(), 'amnesia-nobroker-'));
    const file = path.join(dir, 'ratings.csv');
    writeFileSync(file, 'userId,movieId,rating,timestamp\n1,10,4.0,1600000000\n');
    const r = await cli(['load', file], { KAFKA_BROKERS: broker });
    expect(r.code).toBe(EXIT.KAFKA_UNAVAILABLE);
    expect(r.stderr).toBe(`amnesia: cannot reach Kafka at ${broker}: connection refused\n`);
    expect(r.stdout).toBe('');
  });

  it('with a broker but no such topic, amnesia load says so in one line and exits 1', async () => {
    const brokers = process.env.KAFKA_BROKERS!;
    const dir = mkdtempSync(path.join(tmpdir(), 'amnesia-notopic-'));
    const file = path.join(dir, 'ratings.csv');
    writeFileSync(file, 'userId,movieId,rating,timestamp\n1,10,4.0,1600000000\n');
    const topic = `t-${randomUUID()}`;
    const r = await cli(['load', file, '--topic', topic, '--format', 'json'], { KAFKA_BROKERS: brokers });
    expect(r.code).toBe(EXIT.FAILED);
    expect(r.stderr.split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(new RegExp(`^amnesia: no topic ${topic} at `)),
    ]);
  });

  it('--help and bad usage answer without connecting', async () => {
    const broker = `127.0.0.1:${await freePort()}`;
    const help = await cli(['load', '--help'], { KAFKA_BROKERS: broker });
    expect(help.code).toBe(EXIT.OK);
    for (const option of ['--topic', '--format', '--rate', '--batch', '--in-flight', 'exit codes'])
      expect(help.stdout).toContain(option);
    const bad = await cli(['load', 'x.csv', '--bogus'], { KAFKA_BROKERS: broker });
    expect(bad.code).toBe(EXIT.USAGE);
    expect(bad.stderr).toMatch(/^Unknown option '--bogus'/);
    expect(bad.stderr).not.toMatch(/^amnesia: cannot reach/m);
  });

  it('the service logs one line per attempt to reach the broker, and nothing from kafkajs', async () => {
    const broker = `127.0.0.1:${await freePort()}`;
    const p = runService({ KAFKA_BROKERS: broker, HTTP_PORT: '0', LOG_LEVEL: 'info' });
    const attempts = () => p.lines.filter((l) => l.includes('cannot reach Kafka'));
    await waitFor(() => attempts().length >= 2, 30_000);
    p.child.kill('SIGKILL');
    await p.exited;
    expect(JSON.parse(attempts()[0]!)).toMatchObject({
      level: 'warn',
      msg: `cannot reach Kafka at ${broker}: connection refused; retrying every 5 s`,
      attempt: 1,
    });
    expect(p.lines.filter((l) => l.includes('"module":"kafkajs"'))).toEqual([]);
  });
});
