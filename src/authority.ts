// `host[:port]` authorities as the Host header and INSPECTOR_ALLOWED_HOSTS spell them: parsed in
// one place for the settings (config-schema.ts) and the inspector's host guard; and whether an
// HTTP_HOST listens on the loopback only (the user routes' access rule, http/access.ts).
import { isIPv4 } from 'node:net';

export interface Authority {
  readonly host: string;
  readonly port?: string;
}

/** `host`, `host:port`, `[v6]` or `[v6]:port`, lower-cased; undefined when malformed. */
export function parseAuthority(value: string): Authority | undefined {
  const a = value.trim().toLowerCase();
  let host: string;
  let rest: string;
  if (a.startsWith('[')) {
    const end = a.indexOf(']');
    if (end < 0) return undefined;
    host = a.slice(0, end + 1);
    rest = a.slice(end + 1);
    if (!/^\[[0-9a-f:.]+\]$/.test(host)) return undefined;
  } else {
    const colon = a.indexOf(':');
    host = colon < 0 ? a : a.slice(0, colon);
    rest = colon < 0 ? '' : a.slice(colon);
    if (!/^[a-z0-9.-]+$/.test(host)) return undefined;
  }
  if (rest === '') return { host };
  const port = /^:(\d{1,5})$/.exec(rest)?.[1];
  return port === undefined ? undefined : { host, port };
}

/**
 * Whether `HTTP_HOST` (an address or name to listen on) keeps the server on this machine: 127.0.0.0/8
 * (also IPv4-mapped), ::1 or `localhost`. Anything else — 0.0.0.0, ::, a pod IP, a host name that
 * may resolve anywhere — listens beyond the loopback.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice('::ffff:'.length) : h;
  return isIPv4(v4) && v4.startsWith('127.');
}
