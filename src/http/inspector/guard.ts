// Who may talk to the inspector. Every inspector route checks the `Host` header against an
// allow-list (default: the loopback names, any port): a DNS-rebinding page reaches 127.0.0.1 under
// its own host name, and this is what stops it. The write routes also check `Origin`, when a
// browser sends one, against the same list. Both answer 403 with a declared code.
import type { IncomingMessage } from 'node:http';
import { parseAuthority } from '../../authority.js';
import { HttpError } from '../respond.js';

/** INSPECTOR_ALLOWED_HOSTS' default: the loopback names, with any port. */
export const LOCAL_HOSTS: readonly string[] = ['127.0.0.1', 'localhost', '[::1]'];

export interface HostGuard {
  /** 403 HOST_NOT_ALLOWED unless the request's Host header is on the list. */
  checkHost(req: IncomingMessage): void;
  /** 403 ORIGIN_NOT_ALLOWED when an Origin header is sent and it is not an http(s) origin on the list. */
  checkOrigin(req: IncomingMessage): void;
}

/** Entries without a port allow any port; with one, only that port. */
export function hostGuard(allowed: readonly string[] = LOCAL_HOSTS): HostGuard {
  const entries = allowed.map((e) => {
    const a = parseAuthority(e);
    if (!a) throw new RangeError(`not a host or host:port: ${JSON.stringify(e)}`);
    return a;
  });
  const allows = (value: string | undefined): boolean => {
    const a = value === undefined ? undefined : parseAuthority(value);
    return !!a && entries.some((e) => e.host === a.host && (e.port === undefined || e.port === a.port));
  };
  return {
    checkHost(req) {
      if (!allows(req.headers.host))
        throw new HttpError(
          'HOST_NOT_ALLOWED',
          'the Host header is not one the inspector answers to (INSPECTOR_ALLOWED_HOSTS)',
        );
    },
    checkOrigin(req) {
      const origin = req.headers.origin;
      if (origin === undefined) return;
      let url: URL | undefined;
      try {
        url = new URL(origin);
      } catch {
        url = undefined;
      }
      if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || !allows(url.host))
        throw new HttpError(
          'ORIGIN_NOT_ALLOWED',
          'writes are accepted only from pages served under INSPECTOR_ALLOWED_HOSTS',
        );
    },
  };
}
