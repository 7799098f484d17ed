// Checks of the docs against the repository: every relative markdown link names a file that exists
// (and, with a #fragment into a markdown file, a heading of it, by GitHub's slugs), every `npm run X`
// names a script of package.json, and every repository path written as inline code (`src/…`,
// `test/…`, …) exists. Offline and synchronous; the markdown is read with a few rules, not a full
// parser: fenced code, inline code and HTML comments are no prose, ATX headings (`## …`) are the
// anchors — the only kind these docs use.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import GithubSlugger from 'github-slugger';

/** One thing a doc says that the repository does not bear out, as `file:line: what`. */
export type DocProblem = string;

interface Markdown {
  /** The text with fenced code, inline code and comments blanked (newlines kept, so offsets hold). */
  prose: string;
  /** The contents of inline code spans with their offsets (outside fenced code). */
  codeSpans: { text: string; at: number }[];
  /** The text with only comments blanked: fenced code kept (where commands and paths are written). */
  withCode: string;
  /** GitHub's anchor of every heading, in order (duplicates numbered as GitHub numbers them). */
  anchors: Set<string>;
}

const blank = (s: string): string => s.replace(/[^\n]/g, ' ');

function parse(text: string): Markdown {
  const withCode = text.replace(/<!--[\s\S]*?-->/g, blank);
  let rest = withCode;
  // Fenced code blocks: from a ``` or ~~~ line to the next line with the same fence (or the end).
  const lines = rest.split('\n');
  let fence: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const open = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fence === undefined) {
      if (open) {
        fence = open[1] ?? '';
        lines[i] = blank(line);
      }
    } else {
      if (open && (open[1] ?? '').startsWith(fence) && line.trim() === open[1]) fence = undefined;
      lines[i] = blank(line);
    }
  }
  rest = lines.join('\n');
  const codeSpans: { text: string; at: number }[] = [];
  const prose = rest.replace(/(`+)(?!`)([\s\S]*?[^`])\1(?!`)/g, (span, _ticks, inner: string, at: number) => {
    codeSpans.push({ text: inner.trim(), at });
    return blank(span);
  });
  const slugger = new GithubSlugger();
  const anchors = new Set<string>();
  for (const line of rest.split('\n')) {
    const h = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line);
    if (h) anchors.add(slugger.slug(headingText(h[1] ?? '')));
  }
  return { prose, codeSpans, withCode, anchors };
}

/** A heading's text as GitHub renders it (what its slug is made from): no markup, links as their text. */
function headingText(md: string): string {
  return md
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/`/g, '')
    .replace(/\*/g, '');
}

const inSpan = (spans: { text: string; at: number }[], at: number): boolean =>
  spans.some((s) => at >= s.at && at <= s.at + s.text.length + 2);

const lineOf = (text: string, at: number): number => text.slice(0, at).split('\n').length;

/** Relative link targets of a markdown text: inline links and images, and reference definitions. */
function linkTargets(prose: string): { target: string; at: number }[] {
  const out: { target: string; at: number }[] = [];
  for (const m of prose.matchAll(/\]\(\s*<?([^)\s>]*)>?(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g)) {
    out.push({ target: m[1] ?? '', at: m.index });
  }
  for (const m of prose.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)) {
    out.push({ target: m[1] ?? '', at: m.index });
  }
  return out.filter(({ target }) => !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('//'));
}

/** Top-level directories whose paths, written as inline code, must exist. */
const REPO_DIRS = ['src', 'test', 'scripts', 'deploy', 'bench', 'docs', 'schemas'];

/**
 * Problems of the markdown files `files` (paths relative to `root`) against the repository at
 * `root` (its package.json scripts, its files). Empty when every link, anchor, npm script and
 * repository path holds.
 */
export function checkDocs(root: string, files: readonly string[]): DocProblem[] {
  const scripts = new Set(
    Object.keys(
      (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts?: object }).scripts ??
        {},
    ),
  );
  const parsed = new Map<string, Markdown>();
  const markdown = (abs: string): Markdown => {
    let md = parsed.get(abs);
    if (md === undefined) {
      md = parse(readFileSync(abs, 'utf8'));
      parsed.set(abs, md);
    }
    return md;
  };
  const problems: DocProblem[] = [];
  for (const file of files) {
    const abs = path.join(root, file);
    const text = readFileSync(abs, 'utf8');
    const md = markdown(abs);
    const where = (at: number): string => `${file}:${lineOf(text, at)}`;

    for (const { target, at } of linkTargets(md.prose)) {
      const hash = target.indexOf('#');
      const filePart = decodeURIComponent(hash < 0 ? target : target.slice(0, hash));
      const fragment = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
      const dest = filePart === '' ? abs : path.resolve(path.dirname(abs), filePart);
      if (!existsSync(dest)) {
        problems.push(`${where(at)}: link ${target}: no such file`);
        continue;
      }
      if (fragment !== undefined && dest.endsWith('.md') && statSync(dest).isFile()) {
        if (!markdown(dest).anchors.has(fragment)) {
          problems.push(`${where(at)}: link ${target}: no heading with anchor #${fragment}`);
        }
      }
    }

    for (const m of text.matchAll(/\bnpm (run(?:-script)? )?([a-z][\w:.-]*)/g)) {
      const name = (m[2] ?? '').replace(/[.:]+$/, '');
      const isScript = m[1] !== undefined || name === 'test' || name === 'start';
      if (isScript && !scripts.has(name))
        problems.push(`${where(m.index)}: npm run ${name}: no such script in package.json`);
    }

    // Paths: alone in an inline code span (`src/model/index.ts`, `test/chaos/*.int.test.ts`), or a
    // word of prose or fenced code starting with a top-level directory (`src/model/   the matrices`).
    const candidates = [
      ...md.codeSpans.map(({ text: code, at }) => ({ code, at })),
      ...[
        ...md.withCode.matchAll(
          new RegExp(`(?<=^|[\\s(\\[,])(?:${REPO_DIRS.join('|')})/[\\w./*{}…-]*`, 'gm'),
        ),
      ]
        .filter((m) => !inSpan(md.codeSpans, m.index) && md.withCode.slice(m.index - 2, m.index) !== '](')
        .map((m) => ({ code: m[0].replace(/[.,:]+$/, ''), at: m.index })),
    ];
    for (const { code, at } of candidates) {
      const glob = code.search(/[*{…]/);
      const plain = glob < 0 ? code : code.slice(0, code.lastIndexOf('/', glob) + 1);
      if (!/^[\w.-]+\/[\w./-]*$/.test(plain) || !REPO_DIRS.includes(plain.split('/')[0] ?? '')) continue;
      if (!existsSync(path.join(root, plain)))
        problems.push(`${where(at)}: path ${code}: no such file or directory`);
    }
  }
  return problems;
}
