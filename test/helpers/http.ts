// The HTTP server in front of an in-process service (test harness), with the ops metrics registered
// on the service's registry, as src/app.ts composes them; raw requests with any headers and a
// Server-Sent Events reader, for the inspector's tests.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { registerOpsMetrics } from '../../src/http/ops-metrics.js';
import { startHttpServer, type HttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';
import { modelOf, personalDataHold, type Service } from '../../src/service.js';

export function serveOverHttp(svc: Service): Promise<HttpServer> {
  registerOpsMetrics(svc.metrics.registry, { version: 'test' });
  return startHttpServer({
    host: '127.0.0.1',
    port: 0,
    log: createLogger('silent'),
    registry: svc.metrics.registry,
    isReady: () => svc.isReady(),
    model: () => modelOf(svc),
    phase: () => svc.phase,
    personalDataHold: () => personalDataHold(svc),
    liveness: () => svc.health(),
    forgetEffects: () => svc.forgetEffects,
  });
}

export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  /** The body as JSON (throws when it is not). */
  json<T = unknown>(): T;
}

/** One request with any headers (fetch forbids setting `Host`; `host: ''` sends none), the whole body read as text. */
export function request(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const { host, ...rest } = opts.headers ?? {};
    const headers = host ? { host, ...rest } : rest;
    const req = httpRequest(url, { method: opts.method ?? 'GET', headers, setHost: host !== '' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text,
          json: <T>() => JSON.parse(text) as T,
        });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

export interface EventStreamClient {
  /** Every event received so far, in order. */
  readonly got: { event: string; data: unknown }[];
  /** The response status and headers, once they arrive. */
  readonly response: Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>;
  close(): Promise<void>;
}

/** A minimal Server-Sent Events reader. A non-200 answer resolves `response` with its body. */
export function eventStream(url: string, headers: Record<string, string> = {}): EventStreamClient {
  const got: { event: string; data: unknown }[] = [];
  let closed: () => void = () => undefined;
  const ended = new Promise<void>((resolve) => (closed = resolve));
  const req = httpRequest(url, { headers: { accept: 'text/event-stream', ...headers } });
  const response = new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>(
    (resolve, reject) => {
      req.on('error', (e) => {
        closed();
        reject(e);
      });
      req.on('response', (res) => {
        let buf = '';
        res.on('close', closed);
        if (res.statusCode !== 200) {
          res.on('data', (c: Buffer) => (buf += c.toString('utf8')));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: buf }));
          return;
        }
        resolve({ status: 200, headers: res.headers, body: '' });
        res.on('data', (c: Buffer) => {
          buf += c.toString('utf8');
          let end: number;
          while ((end = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, end);
            buf = buf.slice(end + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event && data) got.push({ event, data: JSON.parse(data) });
          }
        });
      });
    },
  );
  response.catch(() => undefined);
  req.end();
  return {
    got,
    response,
    close: async () => {
      req.destroy();
      await ended;
    },
  };
}
