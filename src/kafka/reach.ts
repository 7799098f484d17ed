// Whether the brokers can be reached at all, said in one line an operator can act on
// ("cannot reach Kafka at host:9092: connection refused") instead of the client's per-socket errors,
// which log.ts demotes to debug. The service waits for the brokers at start-up with one such line per
// attempt; the CLI tries once and exits (EXIT.KAFKA_UNAVAILABLE).
import type { KafkaConfig } from '../config.js';
import { AmnesiaError, describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { errorChain } from './classify.js';
import { createKafka } from './client.js';
import { retry, type RetryOptions } from './retry.js';

/** Pause between two attempts to reach the brokers at start-up. */
export const KAFKA_REACH_INTERVAL_MS = 5_000;

const BY_CODE: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found (DNS lookup failed)',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset by the broker',
  EPIPE: 'connection closed by the broker',
};
const TLS_CODE = /^(ERR_SSL_|ERR_TLS_|CERT_|DEPTH_ZERO_|SELF_SIGNED_|UNABLE_TO_(GET|VERIFY)_)/;

/**
 * Why no broker answered, in words, when `e` (what the client threw, its causes included) is a
 * failure to connect; undefined for anything else (an authentication failure, a protocol error).
 */
export function unreachableReason(e: unknown): string | undefined {
  let connectionFailed = false;
  for (const c of errorChain(e)) {
    const name = (c as { name?: unknown }).name;
    const code = (c as { code?: unknown }).code;
    const message = c instanceof Error ? c.message : '';
    if (typeof code === 'string' && BY_CODE[code]) return BY_CODE[code];
    if (typeof code === 'string' && TLS_CODE.test(code)) return `TLS handshake failed (${code})`;
    if (name === 'KafkaJSConnectionError' || name === 'KafkaJSConnectionClosedError') {
      if (message === 'Connection timeout') return 'connection timed out';
      connectionFailed = true;
    }
  }
  return connectionFailed ? 'connection failed' : undefined;
}

export function unreachableMessage(brokers: readonly string[], reason: string): string {
  return `cannot reach Kafka at ${brokers.join(', ')}: ${reason}`;
}

/**
 * One attempt to reach the brokers: an admin client of a client that does not retry (kafkajs takes a
 * connection's retry policy from the client, not from admin()), connected and closed.
 */
export function kafkaProbe(config: KafkaConfig, log: Logger): () => Promise<void> {
  const kafka = createKafka(config, log, '-probe', { retries: 0 });
  return async () => {
    const admin = kafka.admin();
    try {
      await admin.connect();
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  };
}

export interface WaitForKafkaOptions {
  /** Attempts in all (default: unbounded — a broker that does not answer is waited for). */
  readonly attempts?: number;
  readonly intervalMs?: number;
  readonly sleep?: RetryOptions['sleep'];
}

/**
 * Resolves once `probe` connects, or once it fails for a reason other than reaching the brokers (the
 * steps after it have their own retries and errors). While the brokers cannot be reached it logs one
 * warning per attempt; after `attempts` it throws KAFKA_UNAVAILABLE with the same one-line message.
 */
export async function waitForKafka(
  probe: () => Promise<void>,
  brokers: readonly string[],
  log: Logger,
  options: WaitForKafkaOptions = {},
): Promise<void> {
  const intervalMs = options.intervalMs ?? KAFKA_REACH_INTERVAL_MS;
  try {
    await retry(probe, {
      initialDelayMs: intervalMs,
      maxDelayMs: intervalMs,
      random: () => 1,
      retriable: (e) => unreachableReason(e) !== undefined,
      ...(options.attempts === undefined ? {} : { attempts: options.attempts }),
      ...(options.sleep ? { sleep: options.sleep } : {}),
      onRetry: (e, attempt, delayMs) => {
        const reason = unreachableReason(e)!;
        log.warn(
          { brokers, reason, attempt, retryInMs: delayMs },
          `${unreachableMessage(brokers, reason)}; retrying every ${delayMs / 1000} s`,
        );
      },
    });
  } catch (e) {
    const reason = unreachableReason(e);
    if (reason === undefined) {
      log.debug({ err: describeError(e) }, 'kafka probe failed for another reason, going on');
      return;
    }
    throw new AmnesiaError('KAFKA_UNAVAILABLE', unreachableMessage(brokers, reason), {
      cause: e,
      retriable: true,
    });
  }
}
