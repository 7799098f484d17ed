// Replays a Dockerfile without a Docker engine: the build stage's COPY and RUN steps run in a clean
// temporary directory that holds only what those COPY lines copy from the repository, and the final
// stage's COPY lines assemble a second directory (from the build directory and the repository) in
// which the image's CMD runs with the final stage's ENV. Two steps are stood in for, to stay fast and
// offline: `npm ci` links the repository's node_modules and runs the lifecycle scripts npm ci would
// run (so a postinstall whose script was not copied still fails), and `npm prune` is skipped.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Dockerfile instructions with their continuation lines joined, comments and blank lines dropped. */
export function instructions(text: string): string[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

export interface Stage {
  readonly name: string | undefined;
  readonly steps: string[];
}

export function stages(text: string): Stage[] {
  const out: { name: string | undefined; steps: string[] }[] = [];
  for (const l of instructions(text)) {
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?/i.exec(l);
    if (from) out.push({ name: from[1], steps: [] });
    else out.at(-1)?.steps.push(l);
  }
  return out;
}

/** The variables of one `ENV K=V K2=V2` instruction. */
const envOf = (step: string): Record<string, string> =>
  Object.fromEntries([...step.slice(4).matchAll(/([A-Z_][A-Z0-9_]*)=(\S*)/g)].map((m) => [m[1]!, m[2]!]));

/** The environment the final stage's ENV instructions give every container of the image. */
export const imageEnv = (text: string): Record<string, string> =>
  Object.assign(
    {},
    ...stages(text)
      .at(-1)!
      .steps.filter((s) => /^ENV\s/i.test(s))
      .map(envOf),
  );

interface Copy {
  readonly from: string | undefined;
  readonly sources: string[];
  readonly dest: string;
}

function parseCopy(step: string): Copy {
  const words = step.split(/\s+/).slice(1);
  const flags = words.filter((w) => w.startsWith('--'));
  const paths = words.filter((w) => !w.startsWith('--'));
  const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
  return { from, sources: paths.slice(0, -1), dest: paths.at(-1)! };
}

/** Copies as Docker does: into `dest/` when dest ends with a slash or several sources are given. */
function copyInto(copy: Copy, srcRoot: string, workdir: string): void {
  for (const s of copy.sources) {
    const from = path.join(srcRoot, s);
    if (!existsSync(from)) throw new Error(`COPY ${s}: not found in ${srcRoot}`);
    const intoDir = copy.dest.endsWith('/') || copy.sources.length > 1;
    const to = intoDir ? path.join(workdir, copy.dest, path.basename(s)) : path.join(workdir, copy.dest);
    mkdirSync(path.dirname(to), { recursive: true });
    cpSync(from, to, { recursive: true, verbatimSymlinks: true });
  }
}

export interface StepResult {
  readonly step: string;
  readonly status: number | null;
  readonly output: string;
}

function sh(command: string, cwd: string): StepResult {
  const r = spawnSync('sh', ['-c', command], { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  return { step: command, status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** One RUN command (one part of an `a && b` chain), with npm ci and npm prune stood in for. */
function run(command: string, cwd: string): StepResult {
  if (/^npm ci\b/.test(command)) {
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(cwd, 'node_modules'));
    for (const script of ['preinstall', 'install', 'postinstall', 'prepare']) {
      const r = sh(`npm run --if-present ${script}`, cwd);
      if (r.status !== 0) return { ...r, step: `${command} (${script})` };
    }
    return { step: command, status: 0, output: '' };
  }
  if (/^npm prune\b/.test(command)) return { step: command, status: 0, output: '(skipped)' };
  return sh(command, cwd);
}

export interface Replay {
  /** The directory the image's WORKDIR stands for; undefined when the build failed. */
  readonly app: string | undefined;
  readonly env: Record<string, string>;
  readonly cmd: string[];
  /** The failing build step, if any. */
  readonly failed: StepResult | undefined;
}

/** Replays the build stage, then assembles the final stage; stops at the first failing step. */
export function replay(dockerfile: string): Replay {
  const all = stages(dockerfile);
  const final = all.at(-1)!;
  const built = new Map<string, string>();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'amnesia-docker-'));
  for (const [i, stage] of all.slice(0, -1).entries()) {
    const dir = path.join(tmp, `stage-${i}`);
    mkdirSync(dir);
    for (const step of stage.steps) {
      if (/^COPY\s/i.test(step)) {
        const c = parseCopy(step);
        if (c.from) throw new Error(`replay: COPY --from in a build stage is not supported: ${step}`);
        copyInto(c, ROOT, dir);
      } else if (/^RUN\s/i.test(step)) {
        for (const part of step
          .slice(4)
          .split('&&')
          .map((p) => p.trim())) {
          const r = run(part, dir);
          if (r.status !== 0) return { app: undefined, env: {}, cmd: [], failed: r };
        }
      }
    }
    if (stage.name) built.set(stage.name, dir);
  }
  const app = path.join(tmp, 'image');
  mkdirSync(app);
  const env: Record<string, string> = {};
  let cmd: string[] = [];
  for (const step of final.steps) {
    if (/^COPY\s/i.test(step)) {
      const c = parseCopy(step);
      const src = c.from ? built.get(c.from) : ROOT;
      if (!src) throw new Error(`replay: unknown stage in ${step}`);
      // The build stage's WORKDIR (/app) is the stage directory.
      copyInto({ ...c, sources: c.sources.map((s) => (c.from ? path.relative('/app', s) : s)) }, src, app);
    } else if (/^ENV\s/i.test(step)) Object.assign(env, envOf(step));
    else if (/^CMD\s/i.test(step)) cmd = JSON.parse(step.slice(4)) as string[];
  }
  return { app, env, cmd, failed: undefined };
}

/** Runs the image's CMD in the assembled directory (plus PATH); its output is collected in lines. */
export function runImage(r: Replay, env: Record<string, string>) {
  const [bin, ...args] = r.cmd;
  const child = spawn(bin === 'node' ? process.execPath : bin!, args, {
    cwd: r.app,
    env: { PATH: process.env.PATH ?? '', KAFKAJS_NO_PARTITIONER_WARNING: '1', ...r.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  child.stdout.on('data', (d: Buffer) => lines.push(...d.toString().split('\n')));
  child.stderr.on('data', (d: Buffer) => lines.push(...d.toString().split('\n')));
  return { child, lines };
}
