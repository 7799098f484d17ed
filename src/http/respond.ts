// JSON responses and the one error shape of the HTTP API: `{ "error": { "code", "message" } }`.
// Every response is `cache-control: no-store`: the answers change with every consumed batch, and
// the user endpoints return personal data that no intermediary should keep.
import type { ServerResponse } from 'node:http';

export const HTTP_ERROR_CODES = [
  'INVALID_PARAMETER',
  'NOT_FOUND',
  'ITEM_NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'NOT_READY',
  'INTERNAL',
] as const;
export type HttpErrorCode = (typeof HTTP_ERROR_CODES)[number];

/** A request that cannot be answered as asked; thrown by handlers, rendered by the server. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: HttpErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export function sendBody(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
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
