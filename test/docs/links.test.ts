// The docs say only what the repository bears out: every relative link in README.md and docs/*.md
// resolves (the file, and a #fragment to a heading of it by GitHub's slugs), every `npm run X` is a
// script of package.json, every repository path written as inline code exists. Offline, no network:
// external links are not followed.
import { mkdir, writeFile } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkDocs } from '../helpers/doc-links.js';
import { tempDirs } from '../helpers/files.js';

const root = path.resolve(import.meta.dirname, '../..');
const docs = [
  'README.md',
  ...readdirSync(path.join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

describe('the docs', () => {
  it('link only to files and headings that exist, and name only npm scripts and paths that exist', () => {
    expect(checkDocs(root, docs)).toEqual([]);
  });
});

describe('docs/architecture.md', () => {
  it('names every room of src/ on its floors: each directory and each top-level file', () => {
    const text = readFileSync(path.join(root, 'docs/architecture.md'), 'utf8');
    const floors = /## Floors[\s\S]*?```([\s\S]*?)```/.exec(text)?.[1] ?? '';
    const globs = [...floors.matchAll(/src\/([\w-]*)\*\.ts/g)].map((m) => m[1] ?? '');
    const missing = readdirSync(path.join(root, 'src'), { withFileTypes: true })
      .filter((e) => {
        if (e.isDirectory()) return !floors.includes(`src/${e.name}/`);
        const stem = e.name.replace(/\.ts$/, '');
        return (
          !floors.includes(`src/${e.name}`) &&
          !new RegExp(`\\b${stem}\\b`).test(floors) &&
          !globs.some((g) => stem.startsWith(g))
        );
      })
      .map((e) => e.name);
    expect(missing).toEqual([]);
  });
});

describe('the docs check', () => {
  const tempDir = tempDirs('doc-links');

  async function repo(files: Record<string, string>): Promise<string> {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'package.json'), JSON.stringify({ scripts: { test: 'x', demo: 'x' } }));
    for (const [name, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
      await writeFile(path.join(dir, name), text);
    }
    return dir;
  }

  it('reports a link to a missing file, a missing heading, a missing npm script and a stale path', async () => {
    const dir = await repo({
      'README.md': [
        '# Title',
        'See [ops](docs/ops.md#health) and [gone](docs/gone.md), [here](#title), [bad](#nowhere).',
        'Run `npm run demo`, then `npm run bench`; code in `src/stream/engine.ts` and `src/model/`.',
        '',
        '```sh',
        'npm run stack:up   # in a code block: still a command the reader will type',
        '[not a link](inside/code.md)',
        '```',
      ].join('\n'),
      'docs/ops.md': '# Operating\n\n## Health\n\nBack to the [readme](../README.md#nope).\n',
      'src/model/index.ts': '',
    });
    expect(checkDocs(dir, ['README.md', 'docs/ops.md'])).toEqual([
      'README.md:2: link docs/gone.md: no such file',
      'README.md:2: link #nowhere: no heading with anchor #nowhere',
      'README.md:3: npm run bench: no such script in package.json',
      'README.md:6: npm run stack:up: no such script in package.json',
      'README.md:3: path src/stream/engine.ts: no such file or directory',
      'docs/ops.md:5: link ../README.md#nope: no heading with anchor #nope',
    ]);
  });

  it('makes anchors as GitHub does: markup dropped, punctuation removed, repeats numbered', async () => {
    const dir = await repo({
      'a.md': [
        '## MODE=single (`lib/single/`)',
        '### The inspector (off by default)',
        '## Metrics',
        '## Metrics',
        '## **Bold** and [a link](b.md)',
        '<!-- [commented](missing.md) -->',
        '[1](#modesingle-libsingle) [2](#the-inspector-off-by-default) [3](#metrics) [4](#metrics-1)',
        '[5](#bold-and-a-link) [6](b.md#b-heading) [ref]',
        '',
        '[ref]: b.md',
      ].join('\n'),
      'b.md': '# B heading\n',
    });
    expect(checkDocs(dir, ['a.md'])).toEqual([]);
  });
});
