// Server-Sent Events for the inspector: the open streams, each with what it last received, at
// most `max` of them (the next one is refused with 503 TOO_MANY_STREAMS: each stream costs a view
// per model change), a keep-alive comment every HEARTBEAT_MS so that proxies do not cut idle
// streams, and `retry` so that EventSource reconnects by itself when the server goes away.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from '../respond.js';

export const HEARTBEAT_MS = 15_000;
/** Seconds a refused client is asked to wait (`retry-after`). */
export const RETRY_AFTER_S = 5;

export interface Stream<S> {
  readonly res: ServerResponse;
  /** What this stream shows (its selection). */
  readonly sel: S;
  /** The last `state` payload sent, as text, to send only changes. */
  last?: string;
}

export interface StreamHub<S> {
  readonly size: number;
  /** The open streams (a snapshot: safe to iterate while streams close). */
  list(): Stream<S>[];
  /** Answers the request with an event stream; 503 when `max` are open or the hub is closed. */
  open(req: IncomingMessage, res: ServerResponse, sel: S): Stream<S>;
  send(s: Stream<S>, event: string, data: unknown): void;
  /** Writes a prepared frame (see `frame`), unless the stream has ended meanwhile. */
  write(s: Stream<S>, text: string): void;
  broadcast(event: string, data: unknown): void;
  /** Ends every open stream (new ones are still accepted). */
  endAll(): void;
  /** Ends every stream and refuses new ones. */
  close(): void;
}

export function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function streamHub<S>(max: number): StreamHub<S> {
  const streams = new Set<Stream<S>>();
  let closed = false;
  const heartbeat = setInterval(() => {
    for (const s of streams) s.res.write(': keep-alive\n\n');
  }, HEARTBEAT_MS);
  heartbeat.unref();
  const write = (s: Stream<S>, text: string) => {
    if (!s.res.writableEnded && !s.res.destroyed) s.res.write(text);
  };

  return {
    get size() {
      return streams.size;
    },
    list: () => [...streams],
    open(req, res, sel) {
      if (closed) throw new HttpError('UNAVAILABLE', 'the inspector is shutting down');
      if (streams.size >= max)
        throw new HttpError(
          'TOO_MANY_STREAMS',
          `at most ${max} event streams are open (INSPECTOR_MAX_STREAMS)`,
          {
            'retry-after': String(RETRY_AFTER_S),
          },
        );
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.flushHeaders();
      res.write('retry: 1000\n\n');
      const s: Stream<S> = { res, sel };
      streams.add(s);
      const drop = () => streams.delete(s);
      req.on('close', drop);
      res.on('close', drop);
      res.on('error', drop);
      return s;
    },
    send: (s, event, data) => write(s, frame(event, data)),
    write,
    broadcast(event, data) {
      const text = frame(event, data);
      for (const s of streams) s.res.write(text);
    },
    endAll() {
      for (const s of streams) s.res.end();
      streams.clear();
    },
    close() {
      closed = true;
      clearInterval(heartbeat);
      this.endAll();
    },
  };
}
