// One error base for the whole service: a stable `code` callers can switch on, the `cause`
// that produced it, and whether retrying the same operation can succeed.
// Bad input events are NOT errors: the codecs return them as values and they go to the DLQ.

export const ERROR_CODES = [
  'CONFIG_INVALID',
  'REGISTRY_UNAVAILABLE',
  'REGISTRY_REJECTED',
  'KAFKA_UNAVAILABLE',
  'TOPIC_MISSING',
  'PUBLISH_FAILED',
  'PRODUCER_FENCED',
  'RECORD_REJECTED',
  'SHUTDOWN_TIMEOUT',
  'STATE_INCONSISTENT',
  'SNAPSHOT_INVALID',
  'SNAPSHOT_FAILED',
  'MODEL_MEMORY_EXCEEDED',
  'USAGE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface AmnesiaErrorOptions {
  readonly cause?: unknown;
  /** True when the same operation may succeed later (broker or registry briefly away). */
  readonly retriable?: boolean;
}

export class AmnesiaError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, options: AmnesiaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AmnesiaError';
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** A bad configuration value; the message always names the variable. */
export class ConfigError extends AmnesiaError {
  readonly variable: string;

  constructor(variable: string, message: string, options: AmnesiaErrorOptions = {}) {
    super('CONFIG_INVALID', `${variable}: ${message}`, options);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

export function isAmnesiaError(e: unknown, code?: ErrorCode): e is AmnesiaError {
  return e instanceof AmnesiaError && (code === undefined || e.code === code);
}

/** A short, user-id-free description of anything thrown, for logs. */
export function describeError(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}
