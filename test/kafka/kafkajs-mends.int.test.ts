// An installation whose kafkajs lacks the mends — as `npm ci --ignore-scripts` leaves it — refuses to
// start, naming the missing mends and how to apply them; `npx patch-package` there mends it and the
// service starts. Simulated in a temporary directory: a copy of src/, package.json and patches/,
// node_modules linked to the repository's except kafkajs, a copy whose patches patch-package reverses.
// (Integration project: child processes.)
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { KAFKAJS_MENDS } from '../../src/kafka/kafkajs-fix.js';
import { freePort } from '../../scripts/stack.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const PATCH_PACKAGE = path.join(ROOT, 'node_modules', 'patch-package', 'index.js');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function installation(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'amnesia-unmended-'));
  dirs.push(dir);
  for (const f of ['src', 'patches', 'package.json', 'tsconfig.json'])
    cpSync(path.join(ROOT, f), path.join(dir, f), { recursive: true });
  mkdirSync(path.join(dir, 'node_modules'));
  for (const entry of readdirSync(path.join(ROOT, 'node_modules'))) {
    if (entry === 'kafkajs' || entry === '.bin') continue;
    symlinkSync(path.join(ROOT, 'node_modules', entry), path.join(dir, 'node_modules', entry));
  }
  cpSync(path.join(ROOT, 'node_modules', 'kafkajs'), path.join(dir, 'node_modules', 'kafkajs'), {
    recursive: true,
  });
  const r = spawnSync(process.execPath, [PATCH_PACKAGE, '--reverse'], { cwd: dir, encoding: 'utf8' });
  expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  return dir;
}

function start(dir: string, broker: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', KAFKA_BROKERS: broker, HTTP_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, exited, output: () => out };
}

describe('kafkajs installed without its mends (npm ci --ignore-scripts)', () => {
  it('refuses to start, naming the six mends and `npx patch-package`; once patch-package ran, it starts', async () => {
    const dir = installation();
    const broker = `127.0.0.1:${await freePort()}`;

    const unmended = start(dir, broker);
    expect(await unmended.exited).toBe(1);
    const refusal = unmended.output();
    expect(refusal).toContain('kafkajs is installed without 6 of its 6 mends');
    for (const mend of KAFKAJS_MENDS) expect(refusal).toContain(mend);
    expect(refusal).toContain('`npx patch-package`');

    const mend = spawnSync(process.execPath, [PATCH_PACKAGE, '--error-on-fail'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(mend.status, mend.stdout + mend.stderr).toBe(0);
    for (const [i, m] of KAFKAJS_MENDS.entries()) expect(mend.stdout).toContain(`(${i + 1} ${m}) ✔`);

    // Past the check, the service goes on to wait for the (absent) broker.
    const mended = start(dir, broker);
    await expect
      .poll(() => mended.output(), { timeout: 30_000, interval: 100 })
      .toContain('cannot reach Kafka at');
    mended.child.kill('SIGKILL');
    await mended.exited;
    expect(mended.output()).not.toContain('kafkajs is installed without');
  });
});
