// Who may use the routes that reveal or act on a user's data (`RouteSpec.personal`: the user
// queries, the inspector's state, events and writes). One rule, decided from the settings at start:
//
//   HTTP_AUTH_TOKEN set             → every such request needs `Authorization: Bearer <token>` (401)
//   no token, HTTP_HOST loopback    → open (only this machine can connect)
//   no token, HTTP_HOST beyond it   → closed: 403 USER_ROUTES_DISABLED, saying how to open them
//
// Probes, /metrics and the item queries stay open: they carry no user's data. The token is compared
// in constant time (SHA-256 of both sides, then timingSafeEqual: equal lengths whatever was sent),
// and never logged.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isLoopbackHost } from '../authority.js';
import { HttpError } from './respond.js';

export type UserRouteAccess =
  | { readonly kind: 'open' }
  | { readonly kind: 'token'; readonly digest: Buffer }
  | { readonly kind: 'closed' };

const digestOf = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** The access rule for a server listening on `host`, with `token` (HTTP_AUTH_TOKEN) if set. */
export function userRouteAccess(http: {
  readonly host: string;
  readonly authToken?: string;
}): UserRouteAccess {
  if (http.authToken !== undefined) return { kind: 'token', digest: digestOf(http.authToken) };
  return isLoopbackHost(http.host) ? { kind: 'open' } : { kind: 'closed' };
}

/** What the start-up log says about the rule (never the token). */
export function describeAccess(access: UserRouteAccess): string {
  switch (access.kind) {
    case 'open':
      return 'open (HTTP_HOST is a loopback address)';
    case 'token':
      return 'bearer token required (HTTP_AUTH_TOKEN)';
    case 'closed':
      return 'closed (HTTP_HOST is beyond the loopback and HTTP_AUTH_TOKEN is not set)';
  }
}

const CHALLENGE = 'Bearer realm="amnesia"';

/** Throws the refusal for `req` under `access`; returns when the request may go on. */
export function authorize(access: UserRouteAccess, req: IncomingMessage): void {
  if (access.kind === 'open') return;
  if (access.kind === 'closed')
    throw new HttpError(
      'USER_ROUTES_DISABLED',
      "user routes are off: HTTP_HOST listens beyond the loopback and HTTP_AUTH_TOKEN is not set (set it, then send 'Authorization: Bearer <token>')",
    );
  const header = req.headers.authorization;
  const m = header === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  if (!m)
    throw new HttpError('UNAUTHORIZED', "this route needs 'Authorization: Bearer <HTTP_AUTH_TOKEN>'", {
      'www-authenticate': CHALLENGE,
    });
  if (!timingSafeEqual(digestOf(m[1]!), access.digest))
    throw new HttpError('UNAUTHORIZED', 'the bearer token is not HTTP_AUTH_TOKEN', {
      'www-authenticate': `${CHALLENGE}, error="invalid_token"`,
    });
}
