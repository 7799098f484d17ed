// JSON responses and the one error shape of the HTTP API: `{ "error": { "code", "message" } }`.
// Every error code is declared here with its status, so a handler names a code and cannot pair it
// with another status; docs/operations.md lists the same table (a test keeps them equal).
// Every response is `cache-control: no-store` unless a route says otherwise: the answers change with
// every consumed batch, and the user endpoints return personal data that no intermediary should keep.
import type { ServerResponse } from 'node:http';

export const HTTP_ERRORS = {
  INVALID_PARAMETER: 400,
  INVALID_BODY: 400,
  UNAUTHORIZED: 401,
  HOST_NOT_ALLOWED: 403,
  ORIGIN_NOT_ALLOWED: 403,
  WRITES_DISABLED: 403,
  USER_ROUTES_DISABLED: 403,
  NOT_FOUND: 404,
  ITEM_NOT_FOUND: 404,
  FORGET_EFFECT_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INTERNAL: 500,
  TOO_MANY_STREAMS: 503,
  KAFKA_UNAVAILABLE: 503,
  UNAVAILABLE: 503,
  NOT_LIVE: 503,
} as const;
export type HttpErrorCode = keyof typeof HTTP_ERRORS;

/** A request that cannot be answered as asked; thrown by handlers, rendered by the server. */
export class HttpError extends Error {
  readonly status: number;

  constructor(
    readonly code: HttpErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
    this.status = HTTP_ERRORS[code];
  }
}

export function sendBody(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(body);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  sendBody(res, status, 'application/json; charset=utf-8', JSON.stringify(value), headers);
}

export function sendError(res: ServerResponse, e: HttpError): void {
  sendJson(res, e.status, { error: { code: e.code, message: e.message } }, e.headers);
}
