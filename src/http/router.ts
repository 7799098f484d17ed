// Route templates (`/items/{itemId}/neighbors`) matched segment by segment against the raw path.
// Segments are split before they are URL-decoded, so an id may contain an encoded "/" (%2F). The
// template, never the raw path, is what logs and metric labels carry: paths hold user ids.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from './respond.js';

export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  /** Decoded path parameters by template name. */
  readonly params: Readonly<Record<string, string>>;
}

export type HttpMethod = 'GET' | 'HEAD' | 'POST';

export interface RouteSpec {
  /** E.g. `/users/{userId}/items`; also the `route` label of the HTTP metrics. */
  readonly template: string;
  /** The methods answered (default GET and HEAD); any other is 405 with `Allow`. */
  readonly methods?: readonly HttpMethod[];
  /**
   * A route that reveals a user's data ('read') or acts on users' data ('write'): the server applies
   * the access rule (access.ts) to both before the handler runs.
   */
  readonly personal?: 'read' | 'write';
  handle(ctx: RequestContext): void | Promise<void>;
}

type Segment = { readonly literal: string } | { readonly param: string };

export interface CompiledRoute {
  readonly spec: RouteSpec;
  readonly methods: readonly HttpMethod[];
  readonly segments: readonly Segment[];
}

const READ_METHODS: readonly HttpMethod[] = ['GET', 'HEAD'];

export function compileRoute(spec: RouteSpec): CompiledRoute {
  const segments = spec.template
    .split('/')
    .slice(1)
    .map((s): Segment => {
      const m = /^\{([A-Za-z][A-Za-z0-9]*)\}$/.exec(s);
      return m ? { param: m[1]! } : { literal: s };
    });
  return { spec, methods: spec.methods ?? READ_METHODS, segments };
}

/** The raw (still encoded) path segments of a request URL. */
export function pathSegments(url: URL): string[] {
  return url.pathname.split('/').slice(1);
}

function decode(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError('INVALID_PARAMETER', 'malformed percent-encoding in the path');
  }
}

/** The first route whose template matches the path, with its decoded parameters. */
export function matchRoute(
  routes: readonly CompiledRoute[],
  segments: readonly string[],
): { route: CompiledRoute; params: Record<string, string> } | undefined {
  outer: for (const route of routes) {
    if (route.segments.length !== segments.length) continue;
    for (let i = 0; i < segments.length; i++) {
      const s = route.segments[i]!;
      if ('literal' in s && s.literal !== segments[i]) continue outer;
    }
    const params: Record<string, string> = {};
    route.segments.forEach((s, i) => {
      if ('param' in s) params[s.param] = decode(segments[i]!);
    });
    return { route, params };
  }
  return undefined;
}
