// The inspector page's files (index.html, app.js, matrices.js, effect.js, style.css), read once at start-up and served
// with a strict Content-Security-Policy: the page loads nothing but its own script and style.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../log.js';
import { HttpError, sendBody } from '../respond.js';
import type { RouteSpec } from '../router.js';

const FILES: readonly { template: string; file: string; type: string }[] = [
  { template: '/', file: 'index.html', type: 'text/html; charset=utf-8' },
  { template: '/index.html', file: 'index.html', type: 'text/html; charset=utf-8' },
  { template: '/inspector/app.js', file: 'app.js', type: 'text/javascript; charset=utf-8' },
  { template: '/inspector/matrices.js', file: 'matrices.js', type: 'text/javascript; charset=utf-8' },
  { template: '/inspector/effect.js', file: 'effect.js', type: 'text/javascript; charset=utf-8' },
  { template: '/inspector/style.css', file: 'style.css', type: 'text/css; charset=utf-8' },
];

const PAGE_HEADERS = {
  // Revalidated on every load (no-store would also drop the back/forward cache for nothing).
  'cache-control': 'no-cache',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

/**
 * The files sit next to this module under tsx and in dist/ after `npm run build` (which copies
 * them); a build that did not copy them falls back to the sources (<repo>/src/http/inspector).
 */
export function loadAssets(log: Logger): Map<string, Buffer> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const dirs = [here, path.resolve(here, '..', '..', '..', 'src', 'http', 'inspector')];
  const dir = dirs.find((d) => existsSync(path.join(d, 'index.html')));
  const out = new Map<string, Buffer>();
  if (!dir) {
    log.warn({ searched: dirs }, 'inspector page assets not found');
    return out;
  }
  for (const { file } of FILES) out.set(file, readFileSync(path.join(dir, file)));
  return out;
}

export function assetRoutes(assets: ReadonlyMap<string, Buffer>): RouteSpec[] {
  return FILES.map(({ template, file, type }) => ({
    template,
    handle: ({ res }) => {
      const body = assets.get(file);
      if (!body) throw new HttpError('INTERNAL', 'inspector page assets missing');
      sendBody(res, 200, type, body, PAGE_HEADERS);
    },
  }));
}
