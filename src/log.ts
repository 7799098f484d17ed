// Logging: pino JSON to stdout, one child logger per module, user ids redacted wherever a field
// could hold one. Messages are constants; variable data goes in the object.
import { pino, type Logger, type LevelWithSilent } from 'pino';
import { logLevel as KafkaLogLevel, type logCreator } from 'kafkajs';

export type { Logger };

/** Field paths that can hold a user id (personal data). Record keys of the input topics are user ids. */
export const REDACT_PATHS = [
  'userId',
  '*.userId',
  '*.*.userId',
  'user',
  '*.user',
  'key',
  '*.key',
  'value',
  '*.value',
];

export function createLogger(level: LevelWithSilent = 'info', destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'amnesia' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}

const KAFKA_TO_PINO: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [KafkaLogLevel.NOTHING]: 'debug',
  [KafkaLogLevel.ERROR]: 'error',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
};

/** Routes kafkajs's own logs into pino (module "kafkajs"), demoting its chattiest info lines. */
export function kafkaLogCreator(parent: Logger): logCreator {
  const log = parent.child({ module: 'kafkajs' });
  return () =>
    ({ namespace, level, log: entry }) => {
      const {
        message,
        timestamp: _t,
        logger: _l,
        ...rest
      } = entry as Record<string, unknown> & { message: string };
      let pinoLevel = KAFKA_TO_PINO[level] ?? 'info';
      // Group membership chatter is normal operation, not news.
      if (pinoLevel === 'info') pinoLevel = 'debug';
      // kafkajs logs a retriable error at error level before it retries (CONCURRENT_TRANSACTIONS
      // between back-to-back transactions, a leader moving); the caller gets the final failure and
      // reports it itself, so a retry in progress is a warning.
      if (pinoLevel === 'error' && typeof rest.retryCount === 'number') pinoLevel = 'warn';
      // One line per socket attempt when no broker answers ("Connection error: connect
      // ECONNREFUSED", "Failed to connect to seed broker") is a flood: the caller says it once
      // (kafka/reach.ts at start-up, the retry that failed later on). LOG_LEVEL=debug shows them.
      if (isConnectAttempt(namespace, message)) pinoLevel = 'debug';
      log[pinoLevel]({ namespace, ...rest }, message);
    };
}

const CONNECT_ATTEMPT = /^(Connection error|Connection timeout|Failed to connect to seed broker)/;

/** A kafkajs log entry about one failed attempt to open a broker connection. */
export function isConnectAttempt(namespace: string, message: string): boolean {
  return (namespace === 'Connection' || namespace === 'BrokerPool') && CONNECT_ATTEMPT.test(message);
}

/** The kafkajs log level matching a pino level (kafkajs filters before our creator sees entries). */
export function kafkaLogLevel(level: LevelWithSilent): KafkaLogLevel {
  switch (level) {
    case 'silent':
      return KafkaLogLevel.NOTHING;
    case 'fatal':
    case 'error':
      return KafkaLogLevel.ERROR;
    case 'warn':
    case 'info':
      return KafkaLogLevel.WARN;
    default:
      return KafkaLogLevel.DEBUG;
  }
}
